//! Per-(user, operation) limits: 429s above the limit with Frame.io's headers and error
//! body, none below it, and the busiest-window statistics.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{sim_with, token, ALPHA, BETA};
use frameio_sim::{RateLimitMode, SimConfig, SimHandle};

/// `folders.list` is published at 5 per second; scaled by 4 it allows 20 per second.
const OPERATION: &str = "folders.list";
const SCALE: f64 = 4.0;
const LIMIT: u32 = 20;

fn list_path(sim: &SimHandle) -> String {
    format!(
        "{}/v4/accounts/{}/folders/{}/folders",
        sim.base_url(),
        ALPHA.account_id,
        ALPHA.root_folder_id
    )
}

/// Sends requests from `workers` tasks as fast as possible for `duration`; returns the
/// statuses seen.
async fn hammer(sim: &SimHandle, bearer: &str, workers: usize, duration: Duration) -> Vec<u16> {
    let url = Arc::new(list_path(sim));
    let http = reqwest::Client::new();
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (http, url, bearer) = (http.clone(), url.clone(), bearer.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            while Instant::now() < deadline {
                let answer = http
                    .get(url.as_str())
                    .bearer_auth(&bearer)
                    .send()
                    .await
                    .unwrap();
                statuses.push(answer.status().as_u16());
            }
            statuses
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all
}

async fn limited_sim(mode: RateLimitMode) -> SimHandle {
    sim_with(SimConfig {
        rate_scale: SCALE,
        rate_limit_mode: mode,
        ..SimConfig::default()
    })
    .await
}

#[tokio::test]
async fn hammering_a_sliding_window_limit_is_throttled_to_the_limit() {
    let sim = limited_sim(RateLimitMode::SlidingWindow).await;
    let bearer = token(&sim, &ALPHA).await;
    let started = Instant::now();
    let statuses = hammer(&sim, &bearer, 4, Duration::from_millis(2500)).await;
    let elapsed = started.elapsed();

    let throttled = statuses.iter().filter(|s| **s == 429).count();
    let admitted = statuses.iter().filter(|s| **s == 200).count();
    assert!(throttled > 0, "no 429 in {} requests", statuses.len());
    assert_eq!(admitted + throttled, statuses.len());

    let stats = sim.stats();
    let rate = stats.rate(ALPHA.client_id, OPERATION).expect("observed");
    assert_eq!((rate.limit, rate.window_ms), (LIMIT, 1000));
    assert_eq!(
        rate.max_admitted_in_window, LIMIT,
        "the busiest window admitted other than the limit"
    );
    assert!(
        rate.max_requests_in_window > LIMIT,
        "the callers did send more than the limit"
    );
    assert_eq!(rate.throttled as usize, throttled);
    assert_eq!(stats.throttled as usize, throttled);
    assert_eq!(stats.count(OPERATION, 429) as usize, throttled);
    // Over 2.5 windows at least the first window's worth got through, and, counted by the
    // callers, never more than the limit in each window the run touched.
    assert!(admitted >= LIMIT as usize, "only {admitted} admitted");
    let windows = elapsed.as_millis().div_ceil(1000) as usize;
    assert!(
        admitted <= windows * LIMIT as usize,
        "{admitted} admitted in {elapsed:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn hammering_the_leaky_bucket_stays_within_one_burst_and_the_drain() {
    let sim = limited_sim(RateLimitMode::LeakyBucket).await;
    let bearer = token(&sim, &ALPHA).await;
    let started = Instant::now();
    let statuses = hammer(&sim, &bearer, 4, Duration::from_millis(2500)).await;
    let elapsed = started.elapsed();
    assert!(statuses.contains(&429));

    let stats = sim.stats();
    let rate = stats.rate(ALPHA.client_id, OPERATION).expect("observed");
    // A full bucket plus what drains during one window: at most 2 * limit - 1.
    assert!(
        rate.max_admitted_in_window < 2 * LIMIT,
        "{} admitted in one window",
        rate.max_admitted_in_window
    );
    // Counted by the callers: one bucket, then one request per emission interval (50 ms).
    let admitted = statuses.iter().filter(|s| **s == 200).count() as u128;
    let drained = elapsed.as_millis() / 50 + 1;
    assert!(
        admitted <= u128::from(LIMIT) + drained,
        "{admitted} admitted in {elapsed:?}"
    );
    assert!(admitted >= u128::from(LIMIT), "only {admitted} admitted");
    sim.shutdown().await;
}

#[tokio::test]
async fn throttled_answers_carry_the_headers_and_error_body() {
    let sim = limited_sim(RateLimitMode::SlidingWindow).await;
    let bearer = token(&sim, &ALPHA).await;
    let http = reqwest::Client::new();
    let url = list_path(&sim);
    let mut last = None;
    for _ in 0..=LIMIT {
        last = Some(http.get(&url).bearer_auth(&bearer).send().await.unwrap());
    }
    let answer = last.unwrap();
    assert_eq!(answer.status(), 429);
    let header = |name: &str| answer.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("x-ratelimit-limit"), LIMIT.to_string());
    assert_eq!(header("x-ratelimit-remaining"), "0");
    assert_eq!(header("x-ratelimit-window"), "1000");
    let body: serde_json::Value = answer.json().await.unwrap();
    let spec = frameio_sim::spec::Spec::global();
    assert!(spec
        .validate_response(OPERATION, 429, &body)
        .unwrap()
        .is_empty());
    assert!(body["errors"][0]["detail"].is_string());

    // The limit is per user: another service account is not affected.
    let beta = token(&sim, &BETA).await;
    let beta_url = url
        .replace(ALPHA.account_id, BETA.account_id)
        .replace(ALPHA.root_folder_id, BETA.root_folder_id);
    let other = http.get(&beta_url).bearer_auth(&beta).send().await.unwrap();
    assert_eq!(other.status(), 200);
    assert_eq!(
        other.headers()["x-ratelimit-remaining"],
        (LIMIT - 1).to_string().as_str()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn requests_below_the_limit_are_never_throttled() {
    for mode in [RateLimitMode::SlidingWindow, RateLimitMode::LeakyBucket] {
        let sim = limited_sim(mode).await;
        let bearer = token(&sim, &ALPHA).await;
        let http = reqwest::Client::new();
        let url = list_path(&sim);
        // Half the limit's rate: sleeping only ever slows the sender down further.
        let pause = Duration::from_millis(100);
        for _ in 0..25 {
            let answer = http.get(&url).bearer_auth(&bearer).send().await.unwrap();
            assert_eq!(answer.status(), 200, "{mode:?}");
            tokio::time::sleep(pause).await;
        }
        let stats = sim.stats();
        assert_eq!(stats.throttled, 0, "{mode:?}");
        let rate = stats.rate(ALPHA.client_id, OPERATION).unwrap();
        assert!(
            rate.max_admitted_in_window <= LIMIT / 2 + 1,
            "{mode:?}: {rate:?}"
        );
        sim.shutdown().await;
    }
}
