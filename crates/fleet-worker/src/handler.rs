//! The seam between the runtime and the work: one [`JobHandler`] per job kind.
//!
//! The runtime parses and validates a job, then looks its kind up in [`Handlers`] and runs
//! the handler. What a handler returns decides what happens next: success publishes a
//! result; a [`JobFailure::Transient`] failure is retried later through a delay queue; a
//! [`JobFailure::Permanent`] one is dead-lettered with a failure result. New kinds (the
//! Frame.io ones) register a handler here and need no change in the runtime.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use fleet_protocol::{ErrorClass, Job, JobError, JobSpec, ResourceRef};
use futures::future::BoxFuture;

/// What a handler sees of the job it runs.
#[derive(Debug, Clone)]
pub struct JobContext {
    /// The parsed, validated job.
    pub job: Job,
    /// This attempt's number, from 1.
    pub attempt: u32,
    /// The attempts the worker allows in all; the last one is not retried.
    pub max_attempts: u32,
}

/// Why an attempt failed, and therefore whether it is worth another.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobFailure {
    /// Worth retrying later: timeouts, connection errors, 5xx, 429.
    #[error("transient failure: {}", .0.message)]
    Transient(JobError),
    /// Retrying cannot help: bad parameters, 4xx, a resource that does not exist.
    #[error("permanent failure: {}", .0.message)]
    Permanent(JobError),
}

impl JobFailure {
    /// A transient failure with this message.
    pub fn transient(message: impl Into<String>) -> JobFailure {
        JobFailure::Transient(JobError::new(ErrorClass::Transient, message))
    }

    /// A permanent failure with this message.
    pub fn permanent(message: impl Into<String>) -> JobFailure {
        JobFailure::Permanent(JobError::new(ErrorClass::Permanent, message))
    }

    /// The error to report in a result.
    pub fn error(&self) -> &JobError {
        match self {
            JobFailure::Transient(error) | JobFailure::Permanent(error) => error,
        }
    }
}

/// What a successful attempt produced: the ids of the resources it created or touched.
pub type HandlerOutput = Result<Vec<ResourceRef>, JobFailure>;

/// Runs the jobs of one kind.
///
/// A handler must be safe to run again for the same job: the broker delivers at least once,
/// so a crash after the work and before the ack runs it twice. Kinds that create resources
/// say in their documentation how a repeat avoids a duplicate (for example by looking the
/// resource up by the job's idempotency key first).
pub trait JobHandler: Send + Sync + 'static {
    /// Runs one attempt of `context.job`.
    fn run<'a>(&'a self, context: &'a JobContext) -> BoxFuture<'a, HandlerOutput>;
}

/// The handler of every enabled kind.
#[derive(Clone, Default)]
pub struct Handlers {
    by_kind: HashMap<&'static str, Arc<dyn JobHandler>>,
}

impl Handlers {
    /// No kind enabled.
    pub fn new() -> Handlers {
        Handlers::default()
    }

    /// Enables `kind`, run by `handler`; replaces an earlier handler of the same kind.
    pub fn register(&mut self, kind: &'static str, handler: impl JobHandler) -> &mut Self {
        self.by_kind.insert(kind, Arc::new(handler));
        self
    }

    /// Enables the `test.*` kinds, which call no external service.
    pub fn register_test_kinds(&mut self) -> &mut Self {
        self.register("test.noop", TestKinds)
            .register("test.sleep", TestKinds)
            .register("test.fail", TestKinds)
    }

    /// The handler of `kind`, when that kind is enabled.
    pub fn get(&self, kind: &str) -> Option<&Arc<dyn JobHandler>> {
        self.by_kind.get(kind)
    }
}

/// The `test.*` kinds: they exercise the runtime (throughput, timing, retries, failures)
/// without any external call.
struct TestKinds;

impl JobHandler for TestKinds {
    fn run<'a>(&'a self, context: &'a JobContext) -> BoxFuture<'a, HandlerOutput> {
        Box::pin(async move {
            match &context.job.spec {
                JobSpec::Noop(_) => Ok(Vec::new()),
                JobSpec::Sleep(params) => {
                    tokio::time::sleep(Duration::from_millis(params.millis)).await;
                    Ok(Vec::new())
                }
                JobSpec::Fail(params) if params.permanent => Err(JobFailure::permanent(
                    "test.fail asked for a permanent failure",
                )),
                JobSpec::Fail(params) if context.attempt <= params.transient_failures => {
                    Err(JobFailure::transient(format!(
                        "test.fail attempt {} of {} planned transient failures",
                        context.attempt, params.transient_failures
                    )))
                }
                JobSpec::Fail(_) => Ok(Vec::new()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fleet_protocol::kinds::FailParams;
    use fleet_protocol::JobId;

    fn context(spec: JobSpec, attempt: u32) -> JobContext {
        JobContext {
            job: Job::new(JobId::random(), "a", spec),
            attempt,
            max_attempts: 5,
        }
    }

    #[tokio::test]
    async fn test_fail_fails_transiently_then_succeeds() {
        let mut handlers = Handlers::new();
        handlers.register_test_kinds();
        let handler = handlers.get("test.fail").unwrap();
        let spec = JobSpec::Fail(FailParams {
            transient_failures: 2,
            permanent: false,
        });

        for attempt in 1..=2 {
            let outcome = handler.run(&context(spec.clone(), attempt)).await;
            assert!(
                matches!(outcome, Err(JobFailure::Transient(_))),
                "attempt {attempt}"
            );
        }
        assert_eq!(handler.run(&context(spec, 3)).await, Ok(Vec::new()));
    }

    #[tokio::test]
    async fn permanent_failure_is_permanent() {
        let mut handlers = Handlers::new();
        handlers.register_test_kinds();
        let spec = JobSpec::Fail(FailParams {
            transient_failures: 0,
            permanent: true,
        });
        let outcome = handlers
            .get("test.fail")
            .unwrap()
            .run(&context(spec, 1))
            .await;
        assert!(matches!(outcome, Err(JobFailure::Permanent(_))));
        assert!(Handlers::new().get("test.noop").is_none());
    }
}
