//! SIGTERM: the worker stops taking jobs, lets running ones finish within the grace period,
//! returns the rest to the queue and exits 0.

use std::time::Duration;

use fleet_protocol::Outcome;
use fleet_tests::bed::ALPHA;
use fleet_tests::{ResultCollector, TestBed, WorkerProcess};
use fleet_worker::metrics::sum_samples;

use crate::helpers::{ids, jobs, sleep};

/// Jobs in flight at SIGTERM finish and publish their results before the worker exits 0;
/// the jobs it had not started are still in the queue for the next worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_running_jobs_finish_and_exits_zero() {
    let mut bed = TestBed::new("sigterm");
    bed.set("FLEET__WORKER__CONCURRENCY", "4")
        .set("FLEET__WORKER__PREFETCH", "8");
    let mut results = ResultCollector::bind(&bed).await;
    let batch = jobs("t", ALPHA, 20, sleep(1_500));
    bed.publish(&batch).await;

    let mut worker = WorkerProcess::start(bed.env(), "sigterm");
    assert!(
        worker.wait_ready(Duration::from_secs(30)).await,
        "{}",
        worker.log()
    );
    wait_in_flight(&worker, 4.0).await;
    worker.terminate();
    let status = worker.wait_exit(Duration::from_secs(15)).await;

    assert!(
        status.is_some_and(|s| s.success()),
        "exit {status:?}: {}",
        worker.log()
    );
    let finished = collect_for(&mut results, Duration::from_secs(1)).await;
    assert_eq!(
        finished.len(),
        4,
        "the four running jobs finished: {}",
        worker.log()
    );
    assert!(finished.iter().all(|r| r.outcome == Outcome::Succeeded));
    let queue = bed.names.account_queue(ALPHA);
    assert_eq!(
        bed.wait_queue_len(&queue, 16, Duration::from_secs(5)).await,
        16
    );

    let next = WorkerProcess::start(bed.env(), "sigterm-next");
    let left: std::collections::HashSet<String> = ids(&batch)
        .into_iter()
        .filter(|id| !finished.iter().any(|r| r.job_id.as_deref() == Some(id)))
        .collect();
    let rest = results
        .collect(&left, Duration::from_secs(60), Duration::from_millis(300))
        .await;
    assert_eq!(rest.missing(&left).count(), 0, "{}", next.log());
}

/// Jobs still running when the grace period ends go back to the queue: the worker exits 0
/// soon after the grace period, and another worker completes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_still_running_after_the_grace_period_return_to_the_queue() {
    let mut bed = TestBed::new("grace");
    bed.set("FLEET__WORKER__CONCURRENCY", "3")
        .set("FLEET__WORKER__PREFETCH", "3")
        .set("FLEET__WORKER__SHUTDOWN_GRACE_SECS", "1");
    let mut results = ResultCollector::bind(&bed).await;
    let batch = jobs("g", ALPHA, 3, sleep(8_000));
    bed.publish(&batch).await;

    let mut worker = WorkerProcess::start(bed.env(), "grace");
    assert!(
        worker.wait_ready(Duration::from_secs(30)).await,
        "{}",
        worker.log()
    );
    wait_in_flight(&worker, 3.0).await;
    let stopped_at = tokio::time::Instant::now();
    worker.terminate();
    let status = worker.wait_exit(Duration::from_secs(10)).await;

    assert!(
        status.is_some_and(|s| s.success()),
        "exit {status:?}: {}",
        worker.log()
    );
    assert!(
        stopped_at.elapsed() < Duration::from_secs(5),
        "exit soon after the grace"
    );
    assert!(
        worker.log().contains("grace period over"),
        "{}",
        worker.log()
    );
    let queue = bed.names.account_queue(ALPHA);
    assert_eq!(
        bed.wait_queue_len(&queue, 3, Duration::from_secs(5)).await,
        3
    );
    assert!(collect_for(&mut results, Duration::from_millis(500))
        .await
        .is_empty());

    let mut quick = bed.env().clone();
    quick.insert("FLEET__WORKER__CONCURRENCY".into(), "3".into());
    let next = WorkerProcess::start(&quick, "grace-next");
    let rest = results
        .collect(
            &ids(&batch),
            Duration::from_secs(60),
            Duration::from_millis(100),
        )
        .await;
    assert_eq!(rest.missing(&ids(&batch)).count(), 0, "{}", next.log());
}

async fn wait_in_flight(worker: &WorkerProcess, count: f64) {
    for _ in 0..200 {
        let page = worker.metrics().await;
        if sum_samples(&page, "fleet_jobs_in_flight", &[]) >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("never {count} jobs in flight: {}", worker.log());
}

async fn collect_for(
    results: &mut ResultCollector,
    window: Duration,
) -> Vec<fleet_protocol::JobResult> {
    let mut taken = Vec::new();
    while let Some(result) = results.next(window).await {
        taken.push(result);
    }
    taken
}
