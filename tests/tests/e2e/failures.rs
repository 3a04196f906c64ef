//! Transient failures retried through the broker's delay queues, permanent failures and
//! exhausted retries dead-lettered with their reason and a failure result.

use std::time::Duration;

use fleet_protocol::{ErrorClass, Outcome};
use fleet_tests::bed::ALPHA;
use fleet_tests::{InProcessWorker, ResultCollector, TestBed};

use crate::helpers::{fail, ids, jobs, run_batch};

const WAIT: Duration = Duration::from_secs(60);
const LINGER: Duration = Duration::from_millis(300);

/// A job that fails transiently twice succeeds on its third attempt, and nothing is
/// dead-lettered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_is_retried_then_succeeds() {
    let bed = TestBed::new("retry-ok");
    let batch = jobs("flaky", ALPHA, 5, fail(2, false));
    let (collected, _) = run_batch(&bed, &batch).await;

    for job in &batch {
        let result = collected.first(job.id.as_str());
        assert_eq!(result.outcome, Outcome::Succeeded, "{result:?}");
        assert_eq!(result.attempts, 3);
    }
    assert_eq!(collected.duplicates(), 0);
    assert!(bed.take_dead_letters().await.is_empty());
}

/// A permanent failure is dead-lettered at once, with its reason in the headers and a
/// failure result; it is not retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_failure_is_dead_lettered_with_its_reason() {
    let bed = TestBed::new("permanent");
    let batch = jobs("doomed", ALPHA, 3, fail(0, true));
    let (collected, _) = run_batch(&bed, &batch).await;

    for job in &batch {
        let result = collected.first(job.id.as_str());
        let error = result
            .error
            .as_ref()
            .expect("a failure result has an error");
        assert_eq!(result.outcome, Outcome::Failed);
        assert_eq!(result.attempts, 1);
        assert_eq!(error.class, ErrorClass::Permanent);
        assert!(
            error.message.contains("permanent failure"),
            "{}",
            error.message
        );
    }
    let dead = bed.take_dead_letters().await;
    assert_eq!(dead.len(), 3);
    for letter in &dead {
        assert_eq!(letter.reason.as_deref(), Some("permanent"));
        assert_eq!(letter.attempts.as_deref(), Some("1"));
        assert!(letter.message_id.as_deref().unwrap().starts_with("doomed-"));
        assert!(letter.headers.contains_key("x-fleet-queue"));
    }
}

/// A job that keeps failing transiently is dead-lettered after `max_attempts`, with the
/// last error in its failure result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_retries_are_dead_lettered() {
    let bed = TestBed::new("exhausted");
    let batch = jobs("hopeless", ALPHA, 2, fail(99, false));
    let (collected, page) = run_batch(&bed, &batch).await;

    for job in &batch {
        let result = collected.first(job.id.as_str());
        let error = result.error.as_ref().unwrap();
        assert_eq!(result.outcome, Outcome::Failed);
        assert_eq!(result.attempts, 4, "max_attempts is 4 in test beds");
        assert_eq!(error.class, ErrorClass::Transient);
        assert!(
            error.message.contains("gave up after 4 attempts"),
            "{}",
            error.message
        );
    }
    let dead = bed.take_dead_letters().await;
    assert_eq!(dead.len(), 2);
    assert!(dead
        .iter()
        .all(|d| d.reason.as_deref() == Some("transient")));
    assert!(dead.iter().all(|d| d.attempts.as_deref() == Some("4")));
    let retries = fleet_worker::metrics::sum_samples(&page, "fleet_job_retries_total", &[]);
    assert_eq!(retries, 6.0, "three retries for each of two jobs");
}

/// While a job waits for its retry, it sits in the broker's delay queue, not in the worker:
/// nothing is in flight and the account queue has nothing unacked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_waits_in_the_broker_not_in_the_worker() {
    let mut bed = TestBed::new("delay");
    bed.set("FLEET__WORKER__RETRY_BASE_MS", "3000")
        .set("FLEET__WORKER__RETRY_MAX_MS", "3000");
    let mut results = ResultCollector::bind(&bed).await;
    let batch = jobs("later", ALPHA, 1, fail(1, false));
    let connection = bed.connect().await;

    let worker = InProcessWorker::start(bed.settings()).await;
    assert!(worker.wait_ready(WAIT).await);
    let started = tokio::time::Instant::now();
    bed.publisher(&connection)
        .await
        .publish_many(&batch, 1)
        .await
        .unwrap();
    let delay_queue = bed.names.delay_queue(Duration::from_millis(3000));
    let parked = bed
        .wait_queue_len(&delay_queue, 1, Duration::from_secs(10))
        .await;
    let page = worker.metrics().await;

    assert_eq!(parked, 1, "the retry copy waits in {delay_queue}");
    assert_eq!(
        fleet_worker::metrics::sum_samples(&page, "fleet_jobs_in_flight", &[]),
        0.0
    );
    let collected = results.collect(&ids(&batch), WAIT, LINGER).await;
    let result = collected.first("later-0");
    assert_eq!((result.outcome, result.attempts), (Outcome::Succeeded, 2));
    // The per-message TTL is jittered between half and all of the queue's delay.
    assert!(started.elapsed() >= Duration::from_millis(1500));
    worker.stop().await.unwrap();
}
