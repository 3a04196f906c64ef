//! No client secret and no access token reaches a log line (captured at trace level) or the
//! Debug / Display of any type.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use common::{bearer, FakeIms, ImsMode, CLIENT_SECRET, TOKEN_PREFIX};
use serde_json::json;

/// Refuses the first token with a 401 (so the refresh path logs too), then answers.
fn api(calls: Arc<AtomicUsize>) -> Router {
    Router::new().route(
        "/v4/me",
        get(move |headers: HeaderMap| {
            let calls = calls.clone();
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                if bearer(&headers).as_deref() == Some(&format!("{TOKEN_PREFIX}1")) {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                Json(json!({"data": {"id": "u", "name": "SA", "email": "sa@example.com"}}))
                    .into_response()
            }
        }),
    )
}

fn assert_clean(text: &str) {
    assert!(
        !text.contains(CLIENT_SECRET),
        "the client secret leaked: {text}"
    );
    assert!(
        !text.contains(TOKEN_PREFIX),
        "an access token leaked: {text}"
    );
}

#[tokio::test]
async fn logs_at_trace_level_hold_no_secret_or_token() {
    let capture = common::global_capture();
    let ims = FakeIms::issuing(3600);
    let server = common::serve(ims.route(api(Arc::default()))).await;
    let client = common::client(&server.base_url);

    client.me().await.unwrap();
    *ims.mode.lock().unwrap() = ImsMode::Fail {
        status: 401,
        // An IMS that echoes the secret must not make it leak either.
        body: json!({
            "error": "invalid_client",
            "error_description": format!("bad {CLIENT_SECRET}"),
        }),
        retry_after: None,
    };
    let rejected = common::client(&server.base_url).me().await.unwrap_err();

    let logs = capture.text();
    assert!(
        logs.contains("IMS access token obtained"),
        "nothing was captured: {logs}"
    );
    assert!(logs.contains("IMS refused the service account credentials"));
    assert!(logs.contains("Frame.io refused the access token"));
    assert_clean(&logs);
    assert_clean(&rejected.to_string());
    assert_clean(&format!("{rejected:?}"));
    assert_eq!(rejected.detail(), Some("bad [REDACTED]"));
}

#[tokio::test]
async fn debug_and_display_of_the_types_hold_no_secret_or_token() {
    let capture = common::global_capture();
    let ims = FakeIms::issuing(3600);
    let server = common::serve(ims.route(api(Arc::default()))).await;
    let client = common::client(&server.base_url);

    let token = client.tokens().token().await.unwrap();
    let error = client.me().await.map(|_| ()).unwrap_err_or_ok();

    assert!(token.expose().starts_with(TOKEN_PREFIX));
    assert_clean(&format!("{token:?}"));
    assert_clean(&format!("{client:?}"));
    assert_clean(&format!("{:?}", client.tokens()));
    assert_clean(&format!("{:?}", common::credentials()));
    assert_clean(&format!("{:?}", client.config()));
    assert_clean(&error);
    assert_clean(&capture.text());
}

/// Renders a result for inspection, whichever way it went.
trait Render {
    fn unwrap_err_or_ok(self) -> String;
}

impl Render for Result<(), frameio::Error> {
    fn unwrap_err_or_ok(self) -> String {
        match self {
            Ok(()) => "ok".to_owned(),
            Err(error) => format!("{error} {error:?}"),
        }
    }
}
