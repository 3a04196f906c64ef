//! The result message, published for every job that ends.
//!
//! A result says whether the job succeeded, how many attempts it took, when it was
//! enqueued, started and finished, which Frame.io resources it produced, and for a failure
//! a classified error. Its AMQP `correlation_id` is the job id.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The result of one job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "JobResult")]
pub struct JobResult {
    /// The message format version; 1.
    pub version: u32,

    /// The id of the job this result is for; `null` when a poison message had no usable id.
    pub job_id: Option<String>,

    /// The service account alias the job named, when it could be read.
    pub account: Option<String>,

    /// The job's kind, when it could be read.
    pub kind: Option<String>,

    /// How the job ended.
    pub outcome: Outcome,

    /// How many times the job was started (1 for a job that succeeded at once; 0 for a
    /// message that was refused before it could start).
    pub attempts: u32,

    /// When the job moved through the fleet.
    pub timings: Timings,

    /// The Frame.io resources the job created or changed.
    #[serde(default)]
    pub resources: Vec<ResourceRef>,

    /// What went wrong, for a failed job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The job did what it asked.
    Succeeded,
    /// The job failed for good; its message is in the dead-letter queue.
    Failed,
}

impl Outcome {
    /// The outcome's name, as in messages, routing keys and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
        }
    }
}

/// Instants in a job's life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timings {
    /// When the backend created the job, if it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,

    /// When the last attempt started.
    pub started_at: DateTime<Utc>,

    /// When the job ended.
    pub finished_at: DateTime<Utc>,
}

/// A Frame.io resource a job produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceRef {
    /// The resource type: `file`, `folder`, `comment`, ...
    #[serde(rename = "type")]
    pub kind: String,

    /// The Frame.io id.
    pub id: String,
}

/// A classified error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobError {
    /// The class of the error.
    pub class: ErrorClass,

    /// A human-readable explanation. Never contains a secret.
    pub message: String,

    /// The HTTP status Frame.io answered, when the error came from Frame.io.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,

    /// Frame.io's own error detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,

    /// Frame.io's request id, for support requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl JobError {
    /// An error of `class` with `message` and no Frame.io details.
    pub fn new(class: ErrorClass, message: impl Into<String>) -> JobError {
        JobError {
            class,
            message: message.into(),
            http_status: None,
            detail: None,
            request_id: None,
        }
    }
}

/// The classes of error. The first six are poison messages, refused before any work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The body is over the configured size limit.
    TooLarge,
    /// The body is not JSON.
    NotJson,
    /// The body is JSON but not a job.
    InvalidJob,
    /// The job's format version is not one this worker reads.
    UnsupportedVersion,
    /// The job's kind is unknown.
    UnknownKind,
    /// The kind's parameters are invalid.
    InvalidParams,
    /// The job names a service account no worker is configured for.
    UnknownAccount,
    /// The kind is known but not enabled on this worker.
    KindDisabled,
    /// The job's deadline passed before it could start.
    DeadlineExceeded,
    /// A failure that may pass (timeout, 5xx, 429); the job was retried until its attempts
    /// ran out.
    Transient,
    /// A failure that will not pass by retrying (4xx, validation).
    Permanent,
    /// An attempt ran past the worker's job timeout; retried like a transient failure.
    Timeout,
    /// The broker delivered the message as often as the queue's delivery limit allows without
    /// any worker settling it (it may crash the workers that take it); it is refused before
    /// it runs again, so that it ends with a result rather than a silent dead letter.
    DeliveryLimit,
}

impl ErrorClass {
    /// The class's name, as in messages, headers and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::TooLarge => "too_large",
            ErrorClass::NotJson => "not_json",
            ErrorClass::InvalidJob => "invalid_job",
            ErrorClass::UnsupportedVersion => "unsupported_version",
            ErrorClass::UnknownKind => "unknown_kind",
            ErrorClass::InvalidParams => "invalid_params",
            ErrorClass::UnknownAccount => "unknown_account",
            ErrorClass::KindDisabled => "kind_disabled",
            ErrorClass::DeadlineExceeded => "deadline_exceeded",
            ErrorClass::Transient => "transient",
            ErrorClass::Permanent => "permanent",
            ErrorClass::Timeout => "timeout",
            ErrorClass::DeliveryLimit => "delivery_limit",
        }
    }
}

impl JobResult {
    /// Serialises the result as a message body.
    pub fn to_body(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a result always serialises")
    }

    /// Reads a result from a message body.
    pub fn from_body(body: &[u8]) -> Result<JobResult, serde_json::Error> {
        serde_json::from_slice(body)
    }
}
