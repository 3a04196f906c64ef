//! Fault injection through the control endpoint and the handle: error answers, dropped
//! connections, latency, IMS faults, and the statistics endpoint.

mod common;

use std::time::{Duration, Instant};

use common::{fast_sim, token, ALPHA};
use frameio_sim::{FaultConfig, FaultUpdate, Stats};
use serde_json::{json, Value};

#[tokio::test]
async fn injected_errors_and_drops_hit_the_next_requests() {
    let sim = fast_sim().await;
    let bearer = token(&sim, &ALPHA).await;
    let http = reqwest::Client::new();
    let me = format!("{}/v4/me", sim.base_url());
    let faults = format!("{}/_sim/faults", sim.base_url());

    let set: FaultConfig = http
        .post(&faults)
        .json(&json!({"fail_next": 2, "error_status": 502}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(set.fail_next, 2);
    for _ in 0..2 {
        let answer = http.get(&me).bearer_auth(&bearer).send().await.unwrap();
        assert_eq!(answer.status(), 502);
        assert!(answer.headers().contains_key("x-ratelimit-limit"));
        let body: Value = answer.json().await.unwrap();
        assert!(body["errors"][0]["detail"].is_string());
    }
    assert_eq!(
        http.get(&me)
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    http.post(&faults)
        .json(&json!({"drop_next": 1}))
        .send()
        .await
        .unwrap();
    let dropped = http.get(&me).bearer_auth(&bearer).send().await;
    assert!(
        dropped.is_err(),
        "the connection is closed without an answer: {dropped:?}"
    );
    assert_eq!(
        http.get(&me)
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let stats: Stats = http
        .get(format!("{}/_sim/stats", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats.faults.errors, 2);
    assert_eq!(stats.faults.dropped, 1);
    assert_eq!(stats.count("users.show", 502), 2);
    assert_eq!(stats.count("users.show", 200), 2);
    assert_eq!(stats, sim.stats());
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_can_target_operations_ims_and_tokens() {
    let sim = fast_sim().await;
    let bearer = token(&sim, &ALPHA).await;
    let http = reqwest::Client::new();
    let me = format!("{}/v4/me", sim.base_url());

    sim.update_faults(&FaultUpdate {
        error_rate: Some(1.0),
        operations: Some(vec!["accounts.index".to_owned()]),
        ..FaultUpdate::default()
    });
    assert_eq!(
        http.get(&me)
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let accounts = format!("{}/v4/accounts", sim.base_url());
    assert_eq!(
        http.get(&accounts)
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .status(),
        503
    );

    let current: FaultConfig = http
        .get(format!("{}/_sim/faults", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(current, sim.faults());
    assert_eq!(current.error_rate, 1.0);

    sim.update_faults(&FaultUpdate {
        clear: true,
        ims: Some(true),
        fail_next: Some(1),
        operations: Some(vec!["ims.token".to_owned()]),
        ..FaultUpdate::default()
    });
    let ims = http
        .post(format!("{}/ims/token/v3", sim.base_url()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(ims.status(), 503);
    let body: Value = ims.json().await.unwrap();
    assert_eq!(body["error"], "server_error");
    assert_eq!(
        http.get(&accounts)
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let expire = http
        .post(format!("{}/_sim/faults", sim.base_url()))
        .json(&json!({"expire_tokens": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(expire.status(), 200);
    assert_eq!(
        http.get(&me)
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    let bad = http
        .post(format!("{}/_sim/faults", sim.base_url()))
        .json(&json!({"no_such_field": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    sim.shutdown().await;
}

#[tokio::test]
async fn latency_delays_answers() {
    let sim = fast_sim().await;
    let bearer = token(&sim, &ALPHA).await;
    let http = reqwest::Client::new();
    let me = format!("{}/v4/me", sim.base_url());
    sim.update_faults(&FaultUpdate {
        latency_ms: Some(300),
        ..FaultUpdate::default()
    });
    let started = Instant::now();
    assert_eq!(
        http.get(&me)
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Only a lower bound: a busy machine can make the answer later, never earlier.
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(sim.stats().faults.delayed, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn reset_clears_counters_and_optionally_the_world() {
    let sim = fast_sim().await;
    let api = common::Api::new(&sim, &ALPHA).await;
    let folder = api
        .folder(ALPHA.account_id, ALPHA.root_folder_id, "temp")
        .await;
    assert!(sim.stats().total("folders.create") > 0);

    let http = reqwest::Client::new();
    let reset = http
        .post(format!("{}/_sim/reset", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 204);
    assert_eq!(sim.stats().total("folders.create"), 0);
    let path = format!("/v4/accounts/{}/folders/{folder}", ALPHA.account_id);
    assert_eq!(api.get(&path).await.status, 200, "counters only");

    http.post(format!("{}/_sim/reset?state=true", sim.base_url()))
        .send()
        .await
        .unwrap();
    let state: Value = http
        .get(format!("{}/_sim/state", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        state["counts"]["assets"], 2,
        "only the seeded root folders remain"
    );
    assert!(!state.to_string().contains(ALPHA.client_secret));
    let again = http
        .get(format!("{}/v4/me", sim.base_url()))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 401, "tokens are forgotten with the world");
    sim.shutdown().await;
}
