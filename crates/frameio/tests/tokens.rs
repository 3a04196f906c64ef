//! IMS token cache: single flight, renewal near expiry, one retry after a 401, and bounded
//! IMS traffic when credentials are wrong or IMS is down.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use common::{bearer, FakeIms, ImsMode, CLIENT_ID, CLIENT_SECRET, TOKEN_PREFIX};
use frameio::{Client, ErrorClass, ImsError};
use futures::future::join_all;
use serde_json::json;

/// A `/v4/me` that accepts any token of the fake IMS and records the tokens it saw.
fn me_route(seen: Arc<Mutex<Vec<String>>>) -> Router {
    Router::new().route(
        "/v4/me",
        get(move |headers: HeaderMap| {
            let seen = seen.clone();
            async move {
                let token = bearer(&headers).unwrap_or_default();
                seen.lock().unwrap().push(token.clone());
                if !token.starts_with(TOKEN_PREFIX) {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                Json(json!({"data": {"id": "u1", "name": "SA", "email": "sa@example.com"}}))
                    .into_response()
            }
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_requests_make_one_ims_call() {
    let ims = FakeIms::new(ImsMode::Issue {
        expires_in: 3600,
        delay: Duration::from_millis(200),
    });
    let seen = Arc::new(Mutex::new(Vec::new()));
    let server = common::serve(ims.route(me_route(seen.clone()))).await;
    let client = common::client(&server.base_url);

    let calls = (0..1000).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.me().await })
    });
    let results = join_all(calls).await;

    assert!(results.into_iter().all(|r| r.unwrap().is_ok()));
    assert_eq!(ims.calls(), 1);
    assert_eq!(client.tokens().stats().ims_requests, 1);
    assert_eq!(seen.lock().unwrap().len(), 1000);
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .all(|t| t == &format!("{TOKEN_PREFIX}1")));
}

#[tokio::test]
async fn the_token_request_is_a_client_credentials_form() {
    let ims = FakeIms::issuing(3600);
    let server = common::serve(ims.route(me_route(Default::default()))).await;
    let client = common::client(&server.base_url);

    client.me().await.unwrap();

    let forms = ims.forms.lock().unwrap();
    let form: std::collections::HashMap<_, _> = forms[0].iter().cloned().collect();
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["client_id"], CLIENT_ID);
    assert_eq!(form["client_secret"], CLIENT_SECRET);
    assert_eq!(form["scope"], "openid AdobeID frame.s2s.all");
}

#[tokio::test]
async fn ims_and_frameio_see_the_user_agent() {
    let ims = FakeIms::issuing(3600);
    let agents = Arc::new(Mutex::new(Vec::new()));
    let sink = agents.clone();
    let router = Router::new().route(
        "/v4/me",
        get(move |headers: HeaderMap| {
            sink.lock().unwrap().push(common::user_agent(&headers));
            async { Json(json!({"data": {"id": "u1", "name": "SA", "email": "sa@example.com"}})) }
        }),
    );
    let server = common::serve(ims.route(router)).await;
    let client = common::client(&server.base_url);

    client.me().await.unwrap();

    let expected = concat!("frameio-fleet/", env!("CARGO_PKG_VERSION"));
    assert_eq!(*ims.user_agents.lock().unwrap(), [expected]);
    assert_eq!(*agents.lock().unwrap(), [expected]);
}

#[tokio::test]
async fn a_token_near_expiry_is_renewed() {
    let ims = FakeIms::issuing(2);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let server = common::serve(ims.route(me_route(seen.clone()))).await;
    let client = common::client(&server.base_url);

    client.me().await.unwrap();
    client.me().await.unwrap();
    let remaining = client.tokens().remaining().unwrap();
    // The margin is capped at half the lifetime: a 2 s token is renewed after 1 s.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    client.me().await.unwrap();

    assert!(remaining <= Duration::from_secs(2));
    assert_eq!(ims.calls(), 2);
    let seen = seen.lock().unwrap();
    assert_eq!(seen[1], format!("{TOKEN_PREFIX}1"));
    assert_eq!(seen[2], format!("{TOKEN_PREFIX}2"));
}

/// A `/v4/me` that refuses the first token (as if revoked) and accepts later ones, or
/// refuses every token when `always` is set.
fn refusing_route(api_calls: Arc<AtomicUsize>, always: bool) -> Router {
    Router::new().route(
        "/v4/me",
        get(move |headers: HeaderMap| {
            let api_calls = api_calls.clone();
            async move {
                api_calls.fetch_add(1, Ordering::SeqCst);
                let token = bearer(&headers).unwrap_or_default();
                if always || token == format!("{TOKEN_PREFIX}1") {
                    let body = json!({"errors": [{"title": "Unauthorized",
                        "detail": "Invalid or missing authorization token"}]});
                    return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
                }
                Json(json!({"data": {"id": "u1", "name": "SA", "email": "sa@example.com"}}))
                    .into_response()
            }
        }),
    )
}

#[tokio::test]
async fn a_401_fetches_one_new_token_and_retries_once() {
    let ims = FakeIms::issuing(3600);
    let api_calls = Arc::new(AtomicUsize::new(0));
    let server = common::serve(ims.route(refusing_route(api_calls.clone(), false))).await;
    let client = common::client(&server.base_url);

    let profile = client.me().await.unwrap();

    assert_eq!(profile.email, "sa@example.com");
    assert_eq!(ims.calls(), 2);
    assert_eq!(api_calls.load(Ordering::SeqCst), 2);
    assert_eq!(client.tokens().stats().invalidations, 1);
}

#[tokio::test]
async fn a_second_401_is_returned_without_further_retries() {
    let ims = FakeIms::issuing(3600);
    let api_calls = Arc::new(AtomicUsize::new(0));
    let server = common::serve(ims.route(refusing_route(api_calls.clone(), true))).await;
    let client = common::client(&server.base_url);

    let error = client.me().await.unwrap_err();

    assert_eq!(error.status(), Some(401));
    assert_eq!(error.class(), ErrorClass::Permanent);
    assert_eq!(
        error.detail(),
        Some("Invalid or missing authorization token")
    );
    assert_eq!(ims.calls(), 2);
    assert_eq!(api_calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_fails_fast_with_one_ims_call() {
    let body =
        json!({"error": "invalid_client", "error_description": "invalid client_secret parameter"});
    let ims = FakeIms::new(ImsMode::Fail {
        status: 400,
        body,
        retry_after: None,
    });
    let api_calls = Arc::new(AtomicUsize::new(0));
    let server = common::serve(ims.route(refusing_route(api_calls.clone(), false))).await;
    let client = common::client(&server.base_url);

    let concurrent = join_all((0..200).map(|_| client.me())).await;
    let mut later = Vec::new();
    for _ in 0..50 {
        later.push(client.me().await);
    }

    // One IMS call although IMS retries are configured: a rejection is not retried, and it is
    // remembered for the later callers.
    assert_eq!(ims.calls(), 1);
    assert_eq!(api_calls.load(Ordering::SeqCst), 0);
    for result in concurrent.into_iter().chain(later) {
        let error = result.unwrap_err();
        assert_eq!(error.kind(), "ims_rejected");
        assert_eq!(error.class(), ErrorClass::Permanent);
        assert_eq!(error.status(), Some(400));
        assert_eq!(error.detail(), Some("invalid client_secret parameter"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unavailable_ims_is_retried_a_bounded_number_of_times() {
    let body = json!({"error": "server_error", "error_description": "try later"});
    let ims = FakeIms::new(ImsMode::Fail {
        status: 503,
        body,
        retry_after: None,
    });
    let server = common::serve(ims.route(me_route(Default::default()))).await;
    let config = frameio::ClientConfig {
        ims_max_retries: 2,
        ims_backoff_base_ms: 100,
        ims_backoff_cap_ms: 1_000,
        ..common::fast_config(&server.base_url)
    };
    let client = Client::new(config, common::credentials()).unwrap();

    let results = join_all((0..100).map(|_| client.me())).await;

    // One fetch of three attempts; everyone who waited for it shares its failure.
    assert_eq!(ims.calls(), 3);
    for result in results {
        let error = result.unwrap_err();
        assert_eq!(error.kind(), "ims_unavailable");
        assert!(error.is_transient());
        assert_eq!(error.status(), Some(503));
    }
    assert_eq!(client.tokens().stats().fetch_failures, 1);
}

#[tokio::test]
async fn a_throttled_ims_is_waited_for_as_asked() {
    let ims = FakeIms::new(ImsMode::Fail {
        status: 429,
        body: json!({}),
        retry_after: Some(1),
    });
    let server = common::serve(ims.route(me_route(Default::default()))).await;
    let config = frameio::ClientConfig {
        ims_max_retries: 1,
        ims_backoff_cap_ms: 5_000,
        ..common::fast_config(&server.base_url)
    };
    let client = Client::new(config, common::credentials()).unwrap();
    let started = Instant::now();

    let error = client.me().await.unwrap_err();

    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(ims.calls(), 2);
    assert_eq!(error.kind(), "ims_throttled");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(1)));
    assert!(matches!(
        error,
        frameio::Error::Ims {
            source: ImsError::Throttled { .. },
            ..
        }
    ));
}

#[tokio::test]
async fn ims_recovers_once_the_failure_hold_has_passed() {
    let ims = FakeIms::new(ImsMode::Fail {
        status: 502,
        body: json!({}),
        retry_after: None,
    });
    let server = common::serve(ims.route(me_route(Default::default()))).await;
    let config = frameio::ClientConfig {
        ims_max_retries: 0,
        ..common::fast_config(&server.base_url)
    };
    let client = Client::new(config, common::credentials()).unwrap();

    let first = client.me().await;
    *ims.mode.lock().unwrap() = ImsMode::Issue {
        expires_in: 3600,
        delay: Duration::ZERO,
    };
    tokio::time::sleep(Duration::from_millis(60)).await;
    let second = client.me().await;

    assert!(first.unwrap_err().is_transient());
    assert!(second.is_ok());
    assert_eq!(ims.calls(), 2);
}

/// A `/v4/me` that holds every request carrying the first token until `held` of them have
/// arrived, then refuses them all at once; later tokens are accepted.
fn refusing_together_route(api_calls: Arc<AtomicUsize>, held: usize) -> Router {
    let gate = Arc::new(tokio::sync::Barrier::new(held));
    Router::new().route(
        "/v4/me",
        get(move |headers: HeaderMap| {
            let (api_calls, gate) = (api_calls.clone(), gate.clone());
            async move {
                api_calls.fetch_add(1, Ordering::SeqCst);
                if bearer(&headers).unwrap_or_default() == format!("{TOKEN_PREFIX}1") {
                    gate.wait().await;
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                Json(json!({"data": {"id": "u1", "name": "SA", "email": "sa@example.com"}}))
                    .into_response()
            }
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_401s_lead_to_one_new_token() {
    let ims = FakeIms::issuing(3600);
    let api_calls = Arc::new(AtomicUsize::new(0));
    // Every request is sent with the first token before any 401 comes back, so that all of
    // them refresh at once.
    let router = refusing_together_route(api_calls.clone(), 100);
    let server = common::serve(ims.route(router)).await;
    let client = common::client(&server.base_url);
    client.tokens().token().await.unwrap();

    let calls = (0..100).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.me().await })
    });
    let results = join_all(calls).await;

    assert!(results.into_iter().all(|r| r.unwrap().is_ok()));
    assert_eq!(ims.calls(), 2);
    assert_eq!(api_calls.load(Ordering::SeqCst), 200);
    assert_eq!(client.tokens().stats().invalidations, 1);
}
