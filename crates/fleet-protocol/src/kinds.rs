//! Job kinds and their parameters.
//!
//! A kind is a dotted name (`comment.create`, `test.sleep`) and its parameters are a typed
//! struct. Unknown parameters are refused, so a typo in a backend fails loudly instead of
//! being ignored. Kinds under `test.` need no Frame.io call; they exist for demos, tests and
//! benchmarks, and a worker runs them only when its configuration enables them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a job asks for: its kind and the kind's parameters.
///
/// On the wire this is two fields of the job object: `"kind": "test.sleep"` and
/// `"params": {...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", content = "params")]
pub enum JobSpec {
    /// Does nothing and succeeds: the cheapest job, used to measure the runtime itself.
    #[serde(rename = "test.noop")]
    Noop(NoopParams),

    /// Sleeps, then succeeds: a job that stays in flight for a while.
    #[serde(rename = "test.sleep")]
    Sleep(SleepParams),

    /// Fails in a chosen way: transiently for its first attempts, or permanently.
    #[serde(rename = "test.fail")]
    Fail(FailParams),
}

/// Parameters of `test.noop`: none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoopParams {}

/// Parameters of `test.sleep`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SleepParams {
    /// How long the job runs, in milliseconds (at most one hour).
    pub millis: u64,
}

/// Parameters of `test.fail`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FailParams {
    /// The number of first attempts that fail with a transient error; later attempts
    /// succeed, unless `permanent` is set.
    #[serde(default)]
    pub transient_failures: u32,

    /// Fail with a permanent error once the transient failures are used up.
    #[serde(default)]
    pub permanent: bool,
}

impl JobSpec {
    /// Every kind name this version of the protocol knows.
    pub const KINDS: &'static [&'static str] = &["test.noop", "test.sleep", "test.fail"];

    /// The kind's name as it appears in messages, metrics and results.
    pub fn kind(&self) -> &'static str {
        match self {
            JobSpec::Noop(_) => "test.noop",
            JobSpec::Sleep(_) => "test.sleep",
            JobSpec::Fail(_) => "test.fail",
        }
    }

    /// The longest `test.sleep` accepted, so that a typo cannot park a worker slot for days.
    pub const MAX_SLEEP_MILLIS: u64 = 3_600_000;

    /// Checks rules that the types alone cannot express.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            JobSpec::Sleep(p) if p.millis > Self::MAX_SLEEP_MILLIS => Err(format!(
                "params.millis: {} is over the limit of {}",
                p.millis,
                Self::MAX_SLEEP_MILLIS
            )),
            _ => Ok(()),
        }
    }
}
