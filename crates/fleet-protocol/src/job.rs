//! The job message and its strict parser.
//!
//! A job arrives as the body of an AMQP message. [`Job::parse`] turns those bytes into a
//! [`Job`] or a [`ParseError`] that says exactly what is wrong, so that the worker can
//! dead-letter a bad message at once with a reason an operator understands.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::kinds::JobSpec;
use crate::PROTOCOL_VERSION;

/// A job: one unit of work for one service account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Job", extend("unevaluatedProperties" = false))]
pub struct Job {
    /// The message format version; must be 1.
    pub version: u32,

    /// The job's id, chosen by the backend; also the AMQP `message_id`.
    pub id: JobId,

    /// The alias of a configured service account (never a credential).
    pub account: String,

    /// The kind and its parameters.
    #[serde(flatten)]
    pub spec: JobSpec,

    /// A key that lets a kind recognise a job it already ran, for kinds that create things.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,

    /// After this instant the job is not started any more; it fails with
    /// `deadline_exceeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DateTime<Utc>>,

    /// When the backend created the job; used for the time from enqueue to start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
}

/// A job id: 1 to 128 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct JobId(#[schemars(length(min = 1, max = 128), regex(pattern = r"^[!-~]+$"))] String);

/// Limits applied while parsing, from the worker's configuration.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// The largest body accepted, in bytes.
    pub max_body_bytes: usize,
}

/// Why a message is not a valid job. Each variant is one class of poison message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    /// The body is larger than the configured limit.
    #[error("message body of {size} bytes is over the limit of {limit} bytes")]
    TooLarge {
        /// The body's size.
        size: usize,
        /// The configured limit.
        limit: usize,
    },

    /// The body is not JSON at all.
    #[error("message body is not JSON: {0}")]
    NotJson(String),

    /// The body is JSON but not a job object: a field missing, of the wrong type, or unknown.
    #[error("message is not a valid job: {0}")]
    InvalidJob(String),

    /// The job names a format version this worker does not read.
    #[error("unsupported message version {found}; this worker reads version {expected}")]
    UnsupportedVersion {
        /// The version in the message.
        found: String,
        /// The version this crate reads.
        expected: u32,
    },

    /// The job names a kind this protocol does not know.
    #[error("unknown job kind {0:?}")]
    UnknownKind(String),

    /// The kind is known but its parameters are not valid for it.
    #[error("invalid parameters for {kind}: {reason}")]
    InvalidParams {
        /// The job's kind.
        kind: String,
        /// What is wrong.
        reason: String,
    },
}

impl ParseError {
    /// A short, stable name of the error's class, for headers, results and metric labels.
    pub fn class(&self) -> crate::ErrorClass {
        use crate::ErrorClass as C;

        match self {
            ParseError::TooLarge { .. } => C::TooLarge,
            ParseError::NotJson(_) => C::NotJson,
            ParseError::InvalidJob(_) => C::InvalidJob,
            ParseError::UnsupportedVersion { .. } => C::UnsupportedVersion,
            ParseError::UnknownKind(_) => C::UnknownKind,
            ParseError::InvalidParams { .. } => C::InvalidParams,
        }
    }
}

/// The envelope fields of a job, read before its parameters so that every problem gets
/// its own class.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    /// Checked before the envelope is read, by `check_version`.
    #[serde(rename = "version")]
    _version: Value,
    id: JobId,
    account: String,
    kind: String,
    #[serde(default)]
    params: Option<Value>,
    #[serde(default)]
    idempotency_key: Option<String>,
    #[serde(default)]
    deadline: Option<DateTime<Utc>>,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
}

impl Job {
    /// Parses a message body into a job, checking everything a worker relies on.
    pub fn parse(body: &[u8], limits: ParseLimits) -> Result<Job, ParseError> {
        if body.len() > limits.max_body_bytes {
            return Err(ParseError::TooLarge {
                size: body.len(),
                limit: limits.max_body_bytes,
            });
        }

        let value: Value =
            serde_json::from_slice(body).map_err(|e| ParseError::NotJson(e.to_string()))?;
        check_version(&value)?;

        let envelope: Envelope =
            serde_json::from_value(value).map_err(|e| ParseError::InvalidJob(e.to_string()))?;
        envelope.check_fields()?;

        let spec = parse_spec(&envelope.kind, envelope.params.clone())?;
        Ok(Job {
            version: PROTOCOL_VERSION,
            id: envelope.id,
            account: envelope.account,
            spec,
            idempotency_key: envelope.idempotency_key,
            deadline: envelope.deadline,
            created_at: envelope.created_at,
        })
    }

    /// Serialises the job as a message body.
    pub fn to_body(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a job always serialises")
    }

    /// A job of the current version with no optional fields.
    pub fn new(id: JobId, account: impl Into<String>, spec: JobSpec) -> Job {
        Job {
            version: PROTOCOL_VERSION,
            id,
            account: account.into(),
            spec,
            idempotency_key: None,
            deadline: None,
            created_at: None,
        }
    }
}

/// Refuses a version other than ours before anything else, since the rest of the message
/// may follow other rules.
fn check_version(value: &Value) -> Result<(), ParseError> {
    let Some(object) = value.as_object() else {
        return Err(ParseError::InvalidJob("expected a JSON object".into()));
    };

    match object.get("version") {
        None => Err(ParseError::InvalidJob("missing field `version`".into())),
        Some(v) if v.as_u64() == Some(u64::from(PROTOCOL_VERSION)) => Ok(()),
        Some(v) => Err(ParseError::UnsupportedVersion {
            found: v.to_string(),
            expected: PROTOCOL_VERSION,
        }),
    }
}

fn parse_spec(kind: &str, params: Option<Value>) -> Result<JobSpec, ParseError> {
    if !JobSpec::KINDS.contains(&kind) {
        return Err(ParseError::UnknownKind(kind.to_string()));
    }

    let tagged = serde_json::json!({ "kind": kind, "params": params.unwrap_or(Value::Null) });
    let invalid = |reason: String| ParseError::InvalidParams {
        kind: kind.to_string(),
        reason,
    };
    let spec: JobSpec = serde_json::from_value(tagged).map_err(|e| invalid(e.to_string()))?;
    spec.validate().map_err(invalid)?;
    Ok(spec)
}

impl Envelope {
    fn check_fields(&self) -> Result<(), ParseError> {
        if !self.id.is_valid() {
            return Err(ParseError::InvalidJob(
                "id: must be 1 to 128 visible ASCII characters".into(),
            ));
        }
        if !is_valid_alias(&self.account) {
            return Err(ParseError::InvalidJob(
                "account: must be 1 to 64 characters of a-z, 0-9, '-' and '_'".into(),
            ));
        }
        if self
            .idempotency_key
            .as_ref()
            .is_some_and(|k| k.is_empty() || k.len() > 256)
        {
            return Err(ParseError::InvalidJob(
                "idempotency_key: must be 1 to 256 bytes".into(),
            ));
        }
        Ok(())
    }
}

/// Whether `alias` can name a service account: it becomes part of queue names and routing
/// keys, so it is kept to characters that need no quoting anywhere.
pub fn is_valid_alias(alias: &str) -> bool {
    (1..=64).contains(&alias.len())
        && alias
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl JobId {
    /// Wraps an id, checking its form.
    pub fn new(id: impl Into<String>) -> Result<JobId, ParseError> {
        let id = JobId(id.into());
        match id.is_valid() {
            true => Ok(id),
            false => Err(ParseError::InvalidJob(
                "id: must be 1 to 128 visible ASCII characters".into(),
            )),
        }
    }

    /// A new random id (a UUID).
    pub fn random() -> JobId {
        JobId(uuid::Uuid::new_v4().to_string())
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn is_valid(&self) -> bool {
        (1..=128).contains(&self.0.len()) && self.0.bytes().all(|b| (b'!'..=b'~').contains(&b))
    }
}

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::SleepParams;

    const LIMITS: ParseLimits = ParseLimits {
        max_body_bytes: 1024,
    };

    fn parse(value: Value) -> Result<Job, ParseError> {
        Job::parse(value.to_string().as_bytes(), LIMITS)
    }

    fn good() -> Value {
        serde_json::json!({
            "version": 1, "id": "job-1", "account": "acme",
            "kind": "test.sleep", "params": {"millis": 5}
        })
    }

    #[test]
    fn a_valid_job_parses_into_its_typed_spec() {
        let job = parse(good()).unwrap();

        assert_eq!(job.id.as_str(), "job-1");
        assert_eq!(job.spec, JobSpec::Sleep(SleepParams { millis: 5 }));
    }

    #[test]
    fn a_job_round_trips_through_its_body() {
        let job = parse(good()).unwrap();

        assert_eq!(Job::parse(&job.to_body(), LIMITS).unwrap(), job);
    }

    #[test]
    fn each_kind_of_bad_message_gets_its_own_class() {
        use crate::ErrorClass as C;
        let with = |key: &str, v: Value| {
            let mut j = good();
            j[key] = v;
            j
        };
        let cases = [
            (with("kind", "nope".into()), C::UnknownKind),
            (
                with("params", serde_json::json!({"millis": "x"})),
                C::InvalidParams,
            ),
            (
                with("params", serde_json::json!({"millis": 1, "x": 2})),
                C::InvalidParams,
            ),
            (
                with("params", serde_json::json!({"millis": 99_999_999})),
                C::InvalidParams,
            ),
            (with("version", 2.into()), C::UnsupportedVersion),
            (with("extra", 1.into()), C::InvalidJob),
            (with("account", "ACME!".into()), C::InvalidJob),
            (with("id", "".into()), C::InvalidJob),
            (with("id", 7.into()), C::InvalidJob),
            (serde_json::json!([1, 2]), C::InvalidJob),
        ];

        for (value, class) in cases {
            assert_eq!(parse(value.clone()).unwrap_err().class(), class, "{value}");
        }
    }

    #[test]
    fn bodies_that_are_not_json_or_too_large_are_refused() {
        let not_json = Job::parse(b"\xff\xfe garbage", LIMITS).unwrap_err();
        let large = Job::parse(&vec![b' '; 2048], LIMITS).unwrap_err();

        assert!(matches!(not_json, ParseError::NotJson(_)));
        assert_eq!(
            large,
            ParseError::TooLarge {
                size: 2048,
                limit: 1024
            }
        );
    }
}
