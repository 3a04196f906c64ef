//! IMS client-credentials grants and bearer-token checks on the Frame.io API.

mod common;

use common::{fast_sim, token, ALPHA, BETA};
use serde_json::Value;

async fn grant(base: &str, fields: &[(&str, &str)]) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/ims/token/v3"))
        .form(fields)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn fields<'a>(id: &'a str, secret: &'a str, scope: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
        ("scope", scope),
    ]
}

#[tokio::test]
async fn grant_succeeds_for_a_seeded_account() {
    let sim = fast_sim().await;
    let (status, body) = grant(
        &sim.base_url(),
        &fields(
            ALPHA.client_id,
            ALPHA.client_secret,
            "openid,AdobeID,frame.s2s.all",
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 86_399);
    assert!(body["access_token"].as_str().is_some_and(|t| t.len() > 20));
    let stats = sim.stats();
    assert_eq!(stats.ims.tokens_issued, 1);
    assert_eq!(stats.ims.issued_by_client[ALPHA.client_id], 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_and_scopes_are_refused_with_oauth_errors() {
    let sim = fast_sim().await;
    let base = sim.base_url();
    let scope = "openid AdobeID frame.s2s.all";

    let (status, body) = grant(&base, &fields(ALPHA.client_id, "wrong", scope)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert!(body["error_description"].is_string());
    assert!(!body.to_string().contains(ALPHA.client_secret));

    let (status, body) = grant(&base, &fields(ALPHA.client_id, BETA.client_secret, scope)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    let (status, body) = grant(
        &base,
        &fields(ALPHA.client_id, ALPHA.client_secret, "openid admin"),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );

    let mut password = fields(ALPHA.client_id, ALPHA.client_secret, scope);
    password[0] = ("grant_type", "password");
    let (status, body) = grant(&base, &password).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );

    let stats = sim.stats();
    assert_eq!(stats.ims.token_requests, 4);
    assert_eq!(stats.ims.tokens_issued, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn frameio_needs_a_valid_unexpired_token() {
    let sim = fast_sim().await;
    let http = reqwest::Client::new();
    let me = format!("{}/v4/me", sim.base_url());

    let anonymous = http.get(&me).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("x-ratelimit-limit"));
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["errors"][0]["title"], "Unauthorized");

    let forged = http
        .get(&me)
        .bearer_auth("sim.forged")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);

    let alpha = token(&sim, &ALPHA).await;
    let beta = token(&sim, &BETA).await;
    assert_eq!(
        http.get(&me)
            .bearer_auth(&alpha)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    assert_eq!(sim.expire_tokens(Some(ALPHA.client_id)), 1);
    assert_eq!(
        http.get(&me)
            .bearer_auth(&alpha)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        http.get(&me)
            .bearer_auth(&beta)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let revoked = http
        .post(format!("{}/_sim/tokens/revoke", sim.base_url()))
        .json(&serde_json::json!({"client_id": BETA.client_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert_eq!(
        http.get(&me)
            .bearer_auth(&beta)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    let fresh = token(&sim, &ALPHA).await;
    assert_eq!(
        http.get(&me)
            .bearer_auth(&fresh)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(sim.stats().count("users.show", 401), 4);
    sim.shutdown().await;
}

#[tokio::test]
async fn short_token_lifetimes_expire_on_their_own() {
    let sim = common::sim_with(frameio_sim::SimConfig {
        token_lifetime_secs: 1,
        ..frameio_sim::SimConfig::default()
    })
    .await;
    let alpha = token(&sim, &ALPHA).await;
    let me = format!("{}/v4/me", sim.base_url());
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(&me)
            .bearer_auth(&alpha)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(
        http.get(&me)
            .bearer_auth(&alpha)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    sim.shutdown().await;
}
