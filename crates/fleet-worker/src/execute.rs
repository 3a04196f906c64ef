//! What happens to one delivery: from its bytes to the messages that settle it.
//!
//! [`Executor::execute`] parses and checks a delivery, runs its handler and returns a
//! [`Settlement`]: the messages to publish (a result, a retry copy, a dead-letter copy)
//! before the delivery may be acked. It touches no broker, so every rule of the runtime
//! (poison messages, deadlines, retries, exhausted attempts) is tested here without one.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use fleet_protocol::{
    ErrorClass, Job, JobError, JobResult, Outcome, ParseLimits, ResourceRef, Timings,
    PROTOCOL_VERSION,
};
use futures::FutureExt;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::BasicProperties;
use rand::Rng;
use tracing::Instrument;

use crate::config::Settings;
use crate::handler::{HandlerOutput, Handlers, JobContext, JobFailure, JobHandler};
use crate::metrics::Metrics;
use crate::topology::{self, Names, ATTEMPT_HEADER, DELAY_HEADER};

/// The header in which quorum queues count the earlier deliveries of a message.
pub const DELIVERY_COUNT_HEADER: &str = "x-delivery-count";

/// The account label and queue of deliveries that came through the alternate exchange.
pub const UNROUTED: &str = "unrouted";

/// Headers of a dead-letter copy.
pub mod headers {
    /// The error class that sent the message to the dead-letter queue.
    pub const REASON: &str = "x-fleet-reason";
    /// A readable explanation, without secrets.
    pub const ERROR: &str = "x-fleet-error";
    /// Attempts made before the message was dead-lettered.
    pub const ATTEMPTS: &str = "x-fleet-attempts";
    /// The queue the message was taken from.
    pub const QUEUE: &str = "x-fleet-queue";
}

/// One delivery as the executor sees it.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The message body.
    pub body: Vec<u8>,
    /// The message properties, copied onto retry and dead-letter copies.
    pub properties: BasicProperties,
    /// The account whose queue it came from, or [`UNROUTED`].
    pub account: String,
    /// The queue it came from.
    pub queue: String,
}

impl Incoming {
    /// This attempt's number: the retry header plus one, or 1 for a first delivery.
    pub fn attempt(&self) -> u32 {
        self.header_number(ATTEMPT_HEADER).unwrap_or(1).max(1)
    }

    /// How often the broker delivered this message before: `x-delivery-count`, which quorum
    /// queues set on redeliveries; 0 for a first delivery.
    pub fn delivery_count(&self) -> u32 {
        self.header_number(DELIVERY_COUNT_HEADER).unwrap_or(0)
    }

    fn header_number(&self, name: &str) -> Option<u32> {
        let headers = self.properties.headers().as_ref()?;
        match headers.inner().get(name)? {
            AMQPValue::LongString(text) => std::str::from_utf8(text.as_bytes()).ok()?.parse().ok(),
            AMQPValue::LongLongInt(n) => u32::try_from(*n).ok(),
            AMQPValue::LongInt(n) => u32::try_from(*n).ok(),
            AMQPValue::ShortInt(n) => u32::try_from(*n).ok(),
            _ => None,
        }
    }

    /// The `message_id` property, which backends set to the job id.
    pub fn message_id(&self) -> Option<&str> {
        self.properties
            .message_id()
            .as_ref()
            .map(ShortString::as_str)
    }
}

/// A message to publish, with confirm, before the delivery is acked.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// What it is, for metrics and logs.
    pub role: Role,
    /// Target exchange; empty for the default exchange.
    pub exchange: String,
    /// Routing key.
    pub routing_key: String,
    /// Body.
    pub body: Vec<u8>,
    /// Properties.
    pub properties: BasicProperties,
    /// Whether an unroutable publish is an error (all but `reply_to` copies).
    pub mandatory: bool,
}

/// The role of an [`Outgoing`] message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The job's result on the results exchange.
    Result,
    /// A copy of the result for the job's `reply_to` queue.
    Reply,
    /// A copy of the job for a later attempt.
    Retry,
    /// A copy of the message for the dead-letter queue.
    DeadLetter,
}

impl Role {
    /// The role's name, as a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Result => "result",
            Role::Reply => "reply",
            Role::Retry => "retry",
            Role::DeadLetter => "dead_letter",
        }
    }
}

/// Everything that must be published before the delivery is acked, and how it ended.
#[derive(Debug, Clone)]
pub struct Settlement {
    /// The account label: the alias of the queue the delivery came from, or [`UNROUTED`].
    pub account: String,
    /// The kind label: a known kind or `unknown`.
    pub kind: &'static str,
    /// The job id (or `message_id` of an unreadable message), when there is one.
    pub job_id: Option<String>,
    /// How the attempt ended.
    pub verdict: Verdict,
    /// The messages to publish, in order.
    pub messages: Vec<Outgoing>,
}

/// How one attempt of a delivery ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The job succeeded.
    Succeeded,
    /// The attempt failed transiently and a later attempt is scheduled.
    Retry {
        /// The delay before the next attempt, before jitter.
        delay: Duration,
        /// The class of the failure: `transient` or `timeout`.
        class: ErrorClass,
    },
    /// The message was dead-lettered, with a failure result, for this reason.
    DeadLettered(ErrorClass),
}

/// Runs deliveries: parse, check, handle, and build the settlement.
#[derive(Clone)]
pub struct Executor {
    names: Names,
    handlers: Handlers,
    metrics: Metrics,
    limits: ParseLimits,
    settings: Arc<Settings>,
}

impl Executor {
    /// An executor for `settings`, running the kinds in `handlers`.
    pub fn new(settings: &Settings, handlers: Handlers, metrics: Metrics) -> Executor {
        Executor {
            names: Names::new(settings.topology.prefix.as_str()),
            handlers,
            metrics,
            limits: ParseLimits {
                max_body_bytes: settings.worker.max_message_bytes,
            },
            settings: Arc::new(settings.clone()),
        }
    }

    /// Runs one delivery and returns what settles it. Never fails: every problem becomes a
    /// dead-letter copy and a failure result.
    pub async fn execute(&self, incoming: &Incoming) -> Settlement {
        let started_at = Utc::now();
        let attempt = incoming.attempt();

        let job = match self.admit(incoming) {
            Ok(job) => job,
            Err(error) => return self.refuse(incoming, None, attempt, started_at, error),
        };

        let span = tracing::debug_span!(
            "job",
            job_id = job.id.as_str(),
            account = %job.account,
            kind = job.spec.kind(),
            attempt
        );
        self.run(incoming, job, attempt, started_at)
            .instrument(span)
            .await
    }

    /// Parses and checks a delivery; the error says why it must be dead-lettered.
    fn admit(&self, incoming: &Incoming) -> Result<Job, JobError> {
        // The broker dead-letters a message delivered once more than the limit without a
        // result; refusing its last delivery here gives it one.
        let deliveries = incoming.delivery_count();
        if deliveries >= self.settings.topology.delivery_limit {
            let message = format!(
                "delivered {} times without being settled; it may crash the workers that take it",
                deliveries + 1
            );
            return Err(JobError::new(ErrorClass::DeliveryLimit, message));
        }

        if incoming.account == UNROUTED {
            let account = peek(&incoming.body, "account").unwrap_or_default();
            return Err(JobError::new(
                ErrorClass::UnknownAccount,
                format!("no worker is configured for account {account:?}"),
            ));
        }

        let job = Job::parse(&incoming.body, self.limits)
            .map_err(|error| JobError::new(error.class(), error.to_string()))?;

        if job.account != incoming.account {
            let message = format!(
                "job names account {:?} but was taken from the queue of {:?}",
                job.account, incoming.account
            );
            return Err(JobError::new(ErrorClass::InvalidJob, message));
        }
        if !self.settings.accounts.contains_key(&job.account) {
            let message = format!("no worker is configured for account {:?}", job.account);
            return Err(JobError::new(ErrorClass::UnknownAccount, message));
        }
        if let Some(deadline) = job.deadline.filter(|deadline| *deadline < Utc::now()) {
            let message = format!("deadline {} passed before the job started", deadline);
            return Err(JobError::new(ErrorClass::DeadlineExceeded, message));
        }
        if self.handlers.get(job.spec.kind()).is_none() {
            let message = format!("kind {} is not enabled on this worker", job.spec.kind());
            return Err(JobError::new(ErrorClass::KindDisabled, message));
        }
        Ok(job)
    }

    async fn run(
        &self,
        incoming: &Incoming,
        job: Job,
        attempt: u32,
        started_at: DateTime<Utc>,
    ) -> Settlement {
        let kind = job.spec.kind();
        let created_at = job
            .created_at
            .or_else(|| amqp_timestamp(&incoming.properties));
        if let Some(created_at) = created_at {
            let wait = (started_at - created_at).to_std().unwrap_or_default();
            self.metrics
                .queue_wait
                .with_label_values(&[&job.account])
                .observe(secs(wait));
        }
        tracing::debug!("job started");

        let handler = self.handlers.get(kind).expect("checked by admit").clone();
        let context = JobContext {
            job,
            attempt,
            max_attempts: self.settings.worker.max_attempts,
        };
        let clock = Instant::now();
        self.metrics.in_flight.inc();
        let output = self.run_handler(handler.as_ref(), &context).await;
        self.metrics.in_flight.dec();
        let account = context.job.account.as_str();
        let elapsed = clock.elapsed();
        self.metrics
            .job_duration
            .with_label_values(&[account, kind])
            .observe(secs(elapsed));

        match output {
            Ok(resources) => self.succeed(incoming, &context.job, attempt, started_at, resources),
            Err(JobFailure::Transient(error)) if attempt < self.settings.worker.max_attempts => {
                tracing::debug!(error = %error.message, "attempt failed, retry scheduled");
                self.retry(incoming, &context.job, attempt, error.class)
            }
            Err(JobFailure::Transient(error)) => {
                let message = format!(
                    "gave up after {attempt} attempts; last error: {}",
                    error.message
                );
                let error = JobError { message, ..error };
                self.refuse(incoming, Some(&context.job), attempt, started_at, error)
            }
            Err(JobFailure::Permanent(error)) => {
                self.refuse(incoming, Some(&context.job), attempt, started_at, error)
            }
        }
    }

    /// Runs one attempt, bounded by the job timeout. A panic or a timeout becomes a failure
    /// of the attempt, so that the delivery is settled instead of lost or stuck.
    async fn run_handler(&self, handler: &dyn JobHandler, context: &JobContext) -> HandlerOutput {
        let kind = context.job.spec.kind();
        let timeout = self.settings.job_timeout();
        let attempt = AssertUnwindSafe(handler.run(context)).catch_unwind();

        match tokio::time::timeout(timeout, attempt).await {
            Ok(Ok(output)) => output,
            Ok(Err(panic)) => {
                // The panic's text stays in the log: it is the handler's, not the job's, and
                // a result only carries what the fleet itself wrote.
                tracing::error!(
                    kind,
                    panic = panic_text(panic.as_ref()),
                    "job handler panicked"
                );
                Err(JobFailure::permanent(format!(
                    "the handler of {kind} failed unexpectedly (it panicked)"
                )))
            }
            Err(_) => {
                let message = format!(
                    "the attempt ran past the job timeout of {} s",
                    timeout.as_secs()
                );
                Err(JobFailure::Transient(JobError::new(
                    ErrorClass::Timeout,
                    message,
                )))
            }
        }
    }

    fn succeed(
        &self,
        incoming: &Incoming,
        job: &Job,
        attempt: u32,
        started_at: DateTime<Utc>,
        resources: Vec<ResourceRef>,
    ) -> Settlement {
        tracing::debug!("job succeeded");
        let result = JobResult {
            version: PROTOCOL_VERSION,
            job_id: Some(job.id.as_str().to_owned()),
            account: Some(job.account.clone()),
            kind: Some(job.spec.kind().to_owned()),
            outcome: Outcome::Succeeded,
            attempts: attempt,
            timings: Timings {
                created_at: job.created_at,
                started_at,
                finished_at: Utc::now(),
            },
            resources,
            error: None,
        };
        Settlement {
            account: incoming.account.clone(),
            kind: Metrics::kind_label(job.spec.kind()),
            job_id: result.job_id.clone(),
            verdict: Verdict::Succeeded,
            messages: self.result_messages(incoming, &result),
        }
    }

    fn retry(&self, incoming: &Incoming, job: &Job, attempt: u32, class: ErrorClass) -> Settlement {
        let delay = self.settings.retry_delay(attempt);
        let expiration = jittered(delay);

        let mut headers = copied_headers(&incoming.properties);
        headers.insert(ATTEMPT_HEADER.into(), string(&(attempt + 1).to_string()));
        headers.insert(DELAY_HEADER.into(), string(&delay.as_millis().to_string()));
        let properties = incoming
            .properties
            .clone()
            .with_headers(headers)
            .with_delivery_mode(2)
            .with_expiration(expiration.as_millis().to_string().into());

        let copy = Outgoing {
            role: Role::Retry,
            exchange: self.names.retry_exchange(),
            routing_key: job.account.clone(),
            body: incoming.body.clone(),
            properties,
            mandatory: true,
        };
        Settlement {
            account: incoming.account.clone(),
            kind: Metrics::kind_label(job.spec.kind()),
            job_id: Some(job.id.as_str().to_owned()),
            verdict: Verdict::Retry { delay, class },
            messages: vec![copy],
        }
    }

    /// Dead-letters the delivery with `error` and publishes a failure result.
    fn refuse(
        &self,
        incoming: &Incoming,
        job: Option<&Job>,
        attempt: u32,
        started_at: DateTime<Utc>,
        error: JobError,
    ) -> Settlement {
        tracing::debug!(class = error.class.as_str(), error = %error.message, "dead-lettered");
        let job_id = job
            .map(|job| job.id.as_str().to_owned())
            .or_else(|| incoming.message_id().map(str::to_owned))
            .or_else(|| peek(&incoming.body, "id"));
        let kind = job
            .map(|job| job.spec.kind().to_owned())
            .or_else(|| peek(&incoming.body, "kind"));
        let account = job
            .map(|job| job.account.clone())
            .or_else(|| peek(&incoming.body, "account"))
            .unwrap_or_else(|| incoming.account.clone());

        let result = JobResult {
            version: PROTOCOL_VERSION,
            job_id: job_id.clone(),
            account: Some(account),
            kind,
            outcome: Outcome::Failed,
            attempts: attempt,
            timings: Timings {
                created_at: job.and_then(|job| job.created_at),
                started_at,
                finished_at: Utc::now(),
            },
            resources: Vec::new(),
            error: Some(error.clone()),
        };

        let mut messages = vec![self.dead_letter_copy(incoming, &error, attempt)];
        messages.extend(self.result_messages(incoming, &result));
        Settlement {
            account: incoming.account.clone(),
            kind: Metrics::kind_label(result.kind.as_deref().unwrap_or("")),
            job_id,
            verdict: Verdict::DeadLettered(error.class),
            messages,
        }
    }

    fn dead_letter_copy(&self, incoming: &Incoming, error: &JobError, attempts: u32) -> Outgoing {
        let mut headers = copied_headers(&incoming.properties);
        headers.insert(headers::REASON.into(), string(error.class.as_str()));
        headers.insert(
            headers::ERROR.into(),
            string(&truncate(&error.message, 1024)),
        );
        headers.insert(
            headers::ATTEMPTS.into(),
            AMQPValue::LongLongInt(attempts.into()),
        );
        headers.insert(headers::QUEUE.into(), string(&incoming.queue));
        let properties = BasicProperties::default()
            .with_headers(headers)
            .with_delivery_mode(2);
        let properties = copy_identity(&incoming.properties, properties);

        Outgoing {
            role: Role::DeadLetter,
            exchange: self.names.dead(),
            routing_key: incoming.account.clone(),
            body: incoming.body.clone(),
            properties,
            mandatory: true,
        }
    }

    /// The result on the results exchange, and a copy for `reply_to` when the job asks.
    fn result_messages(&self, incoming: &Incoming, result: &JobResult) -> Vec<Outgoing> {
        let account = result.account.as_deref().unwrap_or(UNROUTED);
        let kind = result
            .kind
            .as_deref()
            .map(Metrics::kind_label)
            .unwrap_or("unknown");
        let routing_key =
            topology::result_routing_key(&routing_word(account), result.outcome.as_str(), kind);

        let mut properties = BasicProperties::default()
            .with_content_type("application/json".into())
            .with_delivery_mode(2)
            .with_message_id(uuid::Uuid::new_v4().to_string().into());
        if let Some(job_id) = &result.job_id {
            properties = properties.with_correlation_id(truncate(job_id, 255).into());
        }
        let body = result.to_body();

        // The body and properties are copied only for a job that asks for a reply.
        let reply = incoming
            .properties
            .reply_to()
            .as_ref()
            .map(|reply_to| Outgoing {
                role: Role::Reply,
                exchange: String::new(),
                routing_key: reply_to.as_str().to_owned(),
                body: body.clone(),
                properties: properties.clone(),
                mandatory: false,
            });
        let result = Outgoing {
            role: Role::Result,
            exchange: self.names.results_exchange(),
            routing_key,
            body,
            properties,
            mandatory: true,
        };
        std::iter::once(result).chain(reply).collect()
    }
}

/// The headers of a delivery for a copy published anew, without the count of deliveries
/// that the broker keeps for the original: a retry copy is a new message and starts at 0.
fn copied_headers(properties: &BasicProperties) -> FieldTable {
    let mut copy = FieldTable::default();
    let headers = properties.headers().iter().flat_map(|table| table.inner());
    for (key, value) in headers.filter(|(key, _)| key.as_str() != DELIVERY_COUNT_HEADER) {
        copy.insert(key.clone(), value.clone());
    }
    copy
}

/// The text of a panic payload, when it is a string.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

/// A per-message TTL between half and all of `delay`, so that jobs that failed together do
/// not all come back in the same instant. Never more than the delay queue's own TTL.
fn jittered(delay: Duration) -> Duration {
    let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
    let low = millis / 2;
    Duration::from_millis(rand::rng().random_range(low..=millis))
}

/// A top-level string field of a body that may not be a valid job, for failure results of
/// poison messages. Only short printable values are taken.
fn peek(body: &[u8], field: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = value.get(field)?.as_str()?;
    let printable = text.chars().all(|c| c.is_ascii_graphic());
    (printable && !text.is_empty() && text.len() <= 128).then(|| text.to_owned())
}

/// A routing-key word: dots would split it into two words of the topic.
fn routing_word(text: &str) -> String {
    text.replace(['.', '*', '#'], "_")
}

fn copy_identity(from: &BasicProperties, to: BasicProperties) -> BasicProperties {
    let mut to = to;
    if let Some(id) = from.message_id() {
        to = to.with_message_id(id.clone());
    }
    if let Some(content_type) = from.content_type() {
        to = to.with_content_type(content_type.clone());
    }
    if let Some(timestamp) = from.timestamp() {
        to = to.with_timestamp(*timestamp);
    }
    to
}

fn amqp_timestamp(properties: &BasicProperties) -> Option<DateTime<Utc>> {
    let seconds = i64::try_from((*properties.timestamp())?).ok()?;
    DateTime::from_timestamp(seconds, 0)
}

fn string(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value.as_bytes().to_vec()))
}

fn truncate(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

fn secs(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

/// Reads the headers of a message as strings, for tests and the `results` command.
pub fn header_text(headers: &FieldTable, name: &str) -> Option<String> {
    match headers.inner().get(name)? {
        AMQPValue::LongString(text) => Some(String::from_utf8_lossy(text.as_bytes()).into()),
        AMQPValue::ShortString(text) => Some(text.as_str().to_owned()),
        AMQPValue::LongLongInt(n) => Some(n.to_string()),
        AMQPValue::LongInt(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
