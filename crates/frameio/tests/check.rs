//! `check_account` against fake services: a working account, a mismatched e-mail and a
//! rejected credential.

mod common;

use axum::extract::Path;
use axum::routing::get;
use axum::{Json, Router};
use common::{FakeIms, ImsMode};
use frameio::check::check_account;
use frameio::ErrorClass;
use serde_json::json;

fn api() -> Router {
    Router::new()
        .route(
            "/v4/me",
            get(|| async {
                Json(json!({"data": {"id": "u1", "name": "Service Account User",
                    "email": "sa@techacct.adobe.com"}}))
            }),
        )
        .route(
            "/v4/accounts",
            get(|| async {
                Json(
                    json!({"data": [{"id": "acc-1", "display_name": "Studio", "roles": []}],
                    "links": {"next": null}}),
                )
            }),
        )
        .route(
            "/v4/accounts/{account}/workspaces",
            get(|Path(account): Path<String>| async move {
                Json(
                    json!({"data": [{"id": "ws-1", "name": "Main", "account_id": account}],
                    "links": {"next": null}}),
                )
            }),
        )
}

#[tokio::test]
async fn a_working_account_reports_user_accounts_and_workspaces() {
    let server = common::serve(FakeIms::issuing(3600).route(api())).await;
    let client = common::client(&server.base_url);

    let check = check_account(&client, Some("SA@techacct.adobe.com")).await;

    assert!(check.is_ok(), "{check}");
    assert!(check.token_ok);
    assert!(check.credentials_ok);
    assert_eq!(check.email_matches, Some(true));
    assert!(check.token_remaining.unwrap().as_secs() > 3500);
    assert_eq!(check.accounts.len(), 1);
    assert_eq!(
        check.accounts[0].workspaces,
        [("ws-1".to_owned(), "Main".to_owned())]
    );
    let report = check.to_string();
    assert!(report.contains("OK"));
    assert!(report.contains("Service Account User <sa@techacct.adobe.com>"));
    assert!(report.contains("workspace Main (ws-1)"));
}

#[tokio::test]
async fn a_different_email_fails_the_check() {
    let server = common::serve(FakeIms::issuing(3600).route(api())).await;
    let client = common::client(&server.base_url);

    let check = check_account(&client, Some("other@example.com")).await;

    assert!(!check.is_ok());
    assert_eq!(check.email_matches, Some(false));
    assert!(check.to_string().contains("DOES NOT match"));
}

#[tokio::test]
async fn a_rejected_credential_is_classified() {
    let body = json!({"error": "invalid_client", "error_description": "invalid client_secret"});
    let ims = FakeIms::new(ImsMode::Fail {
        status: 401,
        body,
        retry_after: None,
    });
    let server = common::serve(ims.route(api())).await;
    let client = common::client(&server.base_url);

    let check = check_account(&client, None).await;

    assert!(!check.token_ok);
    assert!(!check.credentials_ok);
    assert!(check.accounts.is_empty());
    let error = check.error.as_ref().unwrap();
    assert_eq!(error.class, ErrorClass::Permanent);
    assert_eq!(error.kind, "ims_rejected");
    assert_eq!(error.status, Some(401));
    let report = check.to_string();
    assert!(report.contains("FAILED"));
    assert!(report.contains("invalid client_secret"));
    assert!(!report.contains(common::CLIENT_SECRET));
}
