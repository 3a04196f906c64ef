//! Job builders shared by the end-to-end tests.

use std::collections::HashSet;
use std::time::Duration;

use fleet_protocol::kinds::{FailParams, NoopParams, SleepParams};
use fleet_protocol::{Job, JobId, JobSpec};
use fleet_tests::{Collected, InProcessWorker, ResultCollector, TestBed};
use fleet_worker::metrics::sum_samples;

/// `n` jobs of `spec` for `account`, with ids `<prefix>-<i>`.
pub fn jobs(prefix: &str, account: &str, n: usize, spec: JobSpec) -> Vec<Job> {
    (0..n)
        .map(|i| {
            let id = JobId::new(format!("{prefix}-{i}")).expect("valid id");
            Job::new(id, account, spec.clone())
        })
        .collect()
}

/// A `test.noop` spec.
pub fn noop() -> JobSpec {
    JobSpec::Noop(NoopParams {})
}

/// A `test.sleep` spec of `millis`.
pub fn sleep(millis: u64) -> JobSpec {
    JobSpec::Sleep(SleepParams { millis })
}

/// A `test.fail` spec: `transient` failing attempts, then success or a permanent failure.
pub fn fail(transient: u32, permanent: bool) -> JobSpec {
    JobSpec::Fail(FailParams {
        transient_failures: transient,
        permanent,
    })
}

/// The ids of `jobs`.
pub fn ids(jobs: &[Job]) -> HashSet<String> {
    jobs.iter().map(|job| job.id.as_str().to_owned()).collect()
}

/// Binds a results queue, publishes `batch`, runs an in-process worker until every job has
/// a result (and a moment more, for duplicates), and stops it. Returns the results and the
/// worker's `/metrics` page as it was at the end.
pub async fn run_batch(bed: &TestBed, batch: &[Job]) -> (Collected, String) {
    let mut results = ResultCollector::bind(bed).await;
    bed.publish(batch).await;

    let worker = InProcessWorker::start(bed.settings()).await;
    let expected = ids(batch);
    let collected = results
        .collect(
            &expected,
            Duration::from_secs(240),
            Duration::from_millis(300),
        )
        .await;
    // Every job ended, so every job is counted once its ack is through.
    let counted = |page: &str| sum_samples(page, "fleet_jobs_total", &[]) >= batch.len() as f64;
    let page = worker.metrics_when(counted, Duration::from_secs(10)).await;
    worker.stop().await.expect("the worker stops cleanly");

    let missing: Vec<_> = collected.missing(&expected).take(5).collect();
    assert!(missing.is_empty(), "jobs without a result: {missing:?}");
    (collected, page)
}
