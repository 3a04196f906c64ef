//! Every error class: Frame.io's 4xx detail, 408, 429, 5xx, timeouts, refused connections,
//! unreadable answers; and the rate-limit headers handed to the observer on every response.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use common::FakeIms;
use frameio::{Client, ClientConfig, Error, ErrorClass, Operation, RateLimit};
use serde_json::json;

fn limit_headers(remaining: u32) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("x-ratelimit-limit", "10".parse().unwrap());
    headers.insert(
        "x-ratelimit-remaining",
        remaining.to_string().parse().unwrap(),
    );
    headers.insert("x-ratelimit-window", "1000".parse().unwrap());
    headers.insert("x-request-id", "req-42".parse().unwrap());
    headers
}

/// `/v4/accounts/{a}/files/{status}` answers with the status named in the path.
async fn by_status(Path((_, status)): Path<(String, String)>) -> axum::response::Response {
    let code: u16 = status.parse().unwrap_or(200);
    if code == 200 {
        let body = json!({"data": {"id": "f1", "name": "a.mp4", "project_id": "p1"}});
        return (limit_headers(9), Json(body)).into_response();
    }
    if code == 299 {
        return (StatusCode::OK, limit_headers(8), "not json").into_response();
    }
    if code == 1 {
        tokio::time::sleep(Duration::from_secs(5)).await;
        return StatusCode::OK.into_response();
    }

    let mut headers = limit_headers(0);
    if code == 429 {
        headers.insert("retry-after", "2".parse().unwrap());
    }
    let body = json!({"errors": [
        {"title": "Invalid value", "detail": format!("failure {code}"),
         "source": {"pointer": "/data/name"}},
        {"detail": "second problem"}
    ]});
    (StatusCode::from_u16(code).unwrap(), headers, Json(body)).into_response()
}

struct Setup {
    _server: common::Server,
    client: Client,
    seen: Arc<Mutex<Vec<(Operation, RateLimit)>>>,
}

async fn setup() -> Setup {
    let ims = FakeIms::issuing(3600);
    let router = Router::new().route("/v4/accounts/{account}/files/{file}", get(by_status));
    let server = common::serve(ims.route(router)).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let config = ClientConfig {
        request_timeout_ms: 300,
        ..common::fast_config(&server.base_url)
    };
    let client = Client::new(config, common::credentials())
        .unwrap()
        .with_rate_limit_observer(Arc::new(move |op, limit| {
            sink.lock().unwrap().push((op, limit))
        }));
    Setup {
        _server: server,
        client,
        seen,
    }
}

#[tokio::test]
async fn a_4xx_keeps_status_detail_request_id_and_is_permanent() {
    let setup = setup().await;

    for status in [400u16, 403, 404, 409, 422] {
        let error = setup
            .client
            .file("a1", &status.to_string(), &[])
            .await
            .unwrap_err();

        assert_eq!(error.status(), Some(status));
        assert_eq!(error.class(), ErrorClass::Permanent, "{status}");
        assert_eq!(error.class().as_str(), "permanent");
        assert!(!error.is_transient());
        assert_eq!(
            error.detail(),
            Some(format!("failure {status}; second problem").as_str())
        );
        assert_eq!(error.request_id(), Some("req-42"));
        assert_eq!(error.operation(), Some(Operation::FilesShow));
        let api = error.api().unwrap();
        assert_eq!(api.title.as_deref(), Some("Invalid value"));
        assert_eq!(api.pointer.as_deref(), Some("/data/name"));
    }
}

#[tokio::test]
async fn a_429_is_transient_with_retry_after_and_rate_limit() {
    let setup = setup().await;

    let error = setup.client.file("a1", "429", &[]).await.unwrap_err();

    assert_eq!(error.kind(), "http_429");
    assert_eq!(error.class().as_str(), "transient");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));
    let limit = error.rate_limit().unwrap();
    assert_eq!((limit.limit, limit.remaining), (10, 0));
}

#[tokio::test]
async fn a_5xx_and_a_408_are_transient() {
    let setup = setup().await;

    for status in [408u16, 500, 502, 503, 504] {
        let error = setup
            .client
            .file("a1", &status.to_string(), &[])
            .await
            .unwrap_err();

        assert!(error.is_transient(), "{status}");
        assert_eq!(error.status(), Some(status));
    }
}

#[tokio::test]
async fn a_slow_answer_times_out_as_transient() {
    let setup = setup().await;

    let error = setup.client.file("a1", "1", &[]).await.unwrap_err();

    assert!(
        matches!(
            error,
            Error::Timeout {
                operation: Operation::FilesShow
            }
        ),
        "{error:?}"
    );
    assert!(error.is_transient());
    assert_eq!(error.kind(), "timeout");
}

#[tokio::test]
async fn an_unreadable_answer_is_a_permanent_decode_error() {
    let setup = setup().await;

    let error = setup.client.file("a1", "299", &[]).await.unwrap_err();

    assert_eq!(error.kind(), "decode");
    assert_eq!(error.class(), ErrorClass::Permanent);
    assert_eq!(error.request_id(), Some("req-42"));
}

async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}

#[tokio::test]
async fn a_refused_connection_is_transient() {
    let ims = FakeIms::issuing(3600);
    let ims_server = common::serve(ims.route(Router::new())).await;
    let config = ClientConfig {
        api_base_url: closed_port_url().await,
        ..common::fast_config(&ims_server.base_url)
    };
    let client = Client::new(config, common::credentials()).unwrap();

    let error = client.me().await.unwrap_err();

    assert!(
        matches!(
            error,
            Error::Connect {
                operation: Operation::UsersShow,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_transient());
}

#[tokio::test]
async fn an_unreachable_ims_is_transient() {
    let config = ClientConfig {
        ims_max_retries: 1,
        ..common::fast_config(&closed_port_url().await)
    };
    let client = Client::new(config, common::credentials()).unwrap();

    let error = client.me().await.unwrap_err();

    assert_eq!(error.kind(), "ims_unavailable");
    assert!(error.is_transient());
    assert_eq!(client.tokens().stats().ims_requests, 2);
}

#[tokio::test]
async fn rate_limit_headers_reach_the_observer_on_success_and_error() {
    let setup = setup().await;

    setup.client.file("a1", "200", &[]).await.unwrap();
    setup.client.file("a1", "404", &[]).await.unwrap_err();

    let seen = setup.seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].0, Operation::FilesShow);
    assert_eq!(
        seen[0].1,
        RateLimit {
            limit: 10,
            remaining: 9,
            window: Duration::from_secs(1)
        }
    );
    assert_eq!(seen[1].1.remaining, 0);
}

#[tokio::test]
async fn invalid_bulk_requests_are_refused_before_sending() {
    let setup = setup().await;
    let too_many: Vec<String> = (0..101).map(|i| i.to_string()).collect();

    let empty = setup
        .client
        .bulk_move_files("a1", &[], "p")
        .await
        .unwrap_err();
    let over = setup
        .client
        .bulk_copy_files("a1", &too_many, "p")
        .await
        .unwrap_err();

    assert_eq!(empty.kind(), "invalid_request");
    assert_eq!(over.operation(), Some(Operation::FilesBulkCopy));
    assert_eq!(over.class(), ErrorClass::Permanent);
    assert!(setup.seen.lock().unwrap().is_empty());
}
