//! Job builders shared by the end-to-end tests.

use std::collections::HashSet;

use fleet_protocol::kinds::{FailParams, NoopParams, SleepParams};
use fleet_protocol::{Job, JobId, JobSpec};

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
