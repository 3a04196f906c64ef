//! The worker's `/metrics`, `/healthz` and `/readyz` after a run match what happened.

use std::collections::HashSet;
use std::time::Duration;

use fleet_tests::bed::{ALPHA, BETA};
use fleet_tests::{InProcessWorker, ResultCollector, TestBed};
use fleet_worker::broker::job_properties;
use fleet_worker::metrics::sum_samples;

use crate::helpers::{fail, ids, jobs, noop, sleep};

/// Counts of succeeded, retried and dead-lettered jobs on `/metrics` equal the run's: 30
/// quick jobs, 4 jobs that fail twice then succeed, 3 permanent failures, 2 poison messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_after_a_run_match_what_happened() {
    let bed = TestBed::new("metrics");
    let mut results = ResultCollector::bind(&bed).await;
    let connection = bed.connect().await;
    let publisher = bed.publisher(&connection).await;
    let quick = jobs("quick", ALPHA, 20, noop());
    let slow = jobs("slow", BETA, 10, sleep(20));
    let flaky = jobs("flaky", ALPHA, 4, fail(2, false));
    let doomed = jobs("doomed", BETA, 3, fail(0, true));
    for batch in [&quick, &slow, &flaky, &doomed] {
        publisher.publish_many(batch, 32).await.unwrap();
    }
    publisher
        .publish_raw(ALPHA, b"nope", job_properties("poison-1"))
        .await
        .unwrap();
    publisher
        .publish_raw("ghost", b"{}", job_properties("poison-2"))
        .await
        .unwrap();

    let worker = InProcessWorker::start(bed.settings()).await;
    let mut expected: HashSet<String> = HashSet::new();
    for batch in [&quick, &slow, &flaky, &doomed] {
        expected.extend(ids(batch));
    }
    expected.extend(["poison-1".to_owned(), "poison-2".to_owned()]);
    let collected = results
        .collect(
            &expected,
            Duration::from_secs(60),
            Duration::from_millis(300),
        )
        .await;
    assert_eq!(collected.missing(&expected).count(), 0);
    // 34 successes and 5 failures: all 39 jobs counted, none in flight.
    let settled = |page: &str| {
        sum_samples(page, "fleet_jobs_total", &[]) >= 39.0
            && sum_samples(page, "fleet_jobs_in_flight", &[]) == 0.0
    };
    let page = worker.metrics_when(settled, Duration::from_secs(10)).await;

    let jobs_total = |labels: &[(&str, &str)]| sum_samples(&page, "fleet_jobs_total", labels);
    assert_eq!(jobs_total(&[("outcome", "succeeded")]), 34.0);
    assert_eq!(
        jobs_total(&[("outcome", "succeeded"), ("account", BETA)]),
        10.0
    );
    assert_eq!(
        jobs_total(&[("outcome", "succeeded"), ("kind", "test.fail")]),
        4.0
    );
    assert_eq!(jobs_total(&[("outcome", "failed")]), 5.0);
    assert_eq!(sum_samples(&page, "fleet_job_retries_total", &[]), 8.0);
    let dead = |reason| sum_samples(&page, "fleet_dead_letters_total", &[("reason", reason)]);
    assert_eq!(dead("permanent"), 3.0);
    assert_eq!(dead("not_json"), 1.0);
    assert_eq!(dead("unknown_account"), 1.0);
    assert_eq!(sum_samples(&page, "fleet_dead_letters_total", &[]), 5.0);
    assert_eq!(sum_samples(&page, "fleet_jobs_in_flight", &[]), 0.0);
    assert_eq!(sum_samples(&page, "fleet_broker_connected", &[]), 1.0);
    assert_eq!(
        sum_samples(&page, "fleet_broker_reconnects_total", &[]),
        0.0
    );
    // Every attempt that ran a handler is timed: 34 successes, 8 failed attempts, 3 doomed.
    let attempts = sum_samples(&page, "fleet_job_duration_seconds_count", &[]);
    assert_eq!(attempts, 45.0);
    let slow_time = sum_samples(
        &page,
        "fleet_job_duration_seconds_sum",
        &[("account", BETA)],
    );
    assert!(
        slow_time >= 10.0 * 0.020,
        "ten 20 ms sleeps took {slow_time} s"
    );
    let waits = sum_samples(&page, "fleet_job_queue_wait_seconds_count", &[]);
    assert_eq!(waits, 45.0, "each started attempt records its wait");
    let confirms = sum_samples(&page, "fleet_publish_confirm_seconds_count", &[]);
    assert!(
        confirms >= 39.0 + 8.0 + 5.0,
        "results, retries and dead letters: {confirms}"
    );

    let health = reqwest::get(format!("{}/healthz", worker.base_url))
        .await
        .unwrap();
    let ready = reqwest::get(format!("{}/readyz", worker.base_url))
        .await
        .unwrap();
    assert_eq!(
        (health.status().as_u16(), ready.status().as_u16()),
        (200, 200)
    );
    worker.stop().await.unwrap();
}

/// A worker that cannot reach its broker is alive but not ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_without_a_broker_is_alive_but_not_ready() {
    let mut bed = TestBed::new("unready");
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    bed.set(
        "FLEET__BROKER__URL",
        &format!("amqp://guest:guest@{closed_port}/%2f"),
    );

    let worker = InProcessWorker::start(bed.settings()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let health = reqwest::get(format!("{}/healthz", worker.base_url))
        .await
        .unwrap();
    let ready = reqwest::get(format!("{}/readyz", worker.base_url))
        .await
        .unwrap();
    let page = worker.metrics().await;

    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(ready.status().as_u16(), 503);
    assert_eq!(sum_samples(&page, "fleet_broker_connected", &[]), 0.0);
    worker.stop().await.unwrap();
}
