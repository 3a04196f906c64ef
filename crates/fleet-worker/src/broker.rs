//! Small broker-side tools shared by the worker, the `fleet` command and the tests:
//! connecting with the configured settings, publishing jobs with confirms, and reading
//! results.

use std::time::Duration;

use fleet_protocol::{Job, JobResult};
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions,
    QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::uri::AMQPUri;
use lapin::{Acker, BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};
use secrecy::ExposeSecret;

use crate::config::Settings;
use crate::topology::Names;

/// Errors of the broker tools.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The configured broker URL cannot be parsed; the URL is not repeated (it holds a
    /// password).
    #[error("broker.url is not a valid AMQP URL (expected amqp://user:pass@host:port/vhost)")]
    BadUrl,
    /// The broker failed or refused an operation.
    #[error("broker: {0}")]
    Lapin(#[from] lapin::Error),
    /// A published message was not routed to any queue.
    #[error("the broker routed the message to no queue (is the topology declared?)")]
    Unroutable,
    /// The broker negatively confirmed a published message.
    #[error("the broker refused the message")]
    Nacked,
    /// No message came in time.
    #[error("no message within {0:?}")]
    Timeout(Duration),
}

/// The broker URL of `settings`, with the configured heartbeat.
pub fn broker_uri(settings: &Settings) -> Result<AMQPUri, BrokerError> {
    let mut uri: AMQPUri = settings
        .broker
        .url
        .expose_secret()
        .parse()
        .map_err(|_| BrokerError::BadUrl)?;
    uri.query.heartbeat = Some(settings.broker.heartbeat_secs);
    Ok(uri)
}

/// Opens a connection named `name` (shown in the management UI) to the configured broker.
pub async fn connect(settings: &Settings, name: &str) -> Result<Connection, BrokerError> {
    let uri = broker_uri(settings)?;
    let properties = ConnectionProperties::default().with_connection_name(name.into());
    Ok(Connection::connect_uri(uri, properties).await?)
}

/// Publishes jobs to the jobs exchange and waits for each confirm.
pub struct JobPublisher {
    channel: Channel,
    exchange: String,
}

impl JobPublisher {
    /// A publisher on a channel of its own, with confirms.
    pub async fn new(connection: &Connection, names: &Names) -> Result<Self, BrokerError> {
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok(JobPublisher {
            channel,
            exchange: names.jobs_exchange(),
        })
    }

    /// Publishes `job` persistently, routed by its account, with `message_id` = job id.
    pub async fn publish(&self, job: &Job) -> Result<(), BrokerError> {
        let properties = job_properties(job.id.as_str());
        self.publish_raw(&job.account, &job.to_body(), properties)
            .await
    }

    /// Publishes any body to the jobs exchange (tests use it for malformed messages).
    pub async fn publish_raw(
        &self,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(), BrokerError> {
        let options = BasicPublishOptions {
            mandatory: true,
            ..BasicPublishOptions::default()
        };
        let confirm = self
            .channel
            .basic_publish(
                self.exchange.as_str().into(),
                routing_key.into(),
                options,
                body,
                properties,
            )
            .await?
            .await?;
        match confirm {
            Confirmation::Ack(None) | Confirmation::NotRequested => Ok(()),
            Confirmation::Ack(Some(_)) => Err(BrokerError::Unroutable),
            Confirmation::Nack(_) => Err(BrokerError::Nacked),
        }
    }

    /// Publishes many jobs, keeping up to `window` confirms outstanding at once.
    pub async fn publish_many(&self, jobs: &[Job], window: usize) -> Result<(), BrokerError> {
        use futures::TryStreamExt;

        futures::stream::iter(jobs.iter().map(Ok))
            .try_for_each_concurrent(window.max(1), |job| self.publish(job))
            .await
    }
}

/// The properties of a job message: JSON, persistent, `message_id` = job id, a timestamp.
pub fn job_properties(job_id: &str) -> BasicProperties {
    let now = chrono::Utc::now().timestamp();
    BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(2)
        .with_message_id(job_id.into())
        .with_timestamp(u64::try_from(now).unwrap_or_default())
}

/// A consumer of results on a queue of its own, bound to the results exchange by `pattern`
/// (`#` takes every result).
pub struct ResultReader {
    consumer: lapin::Consumer,
}

impl ResultReader {
    /// Declares a quorum queue `queue` bound by `pattern` and consumes it.
    pub async fn bind(
        connection: &Connection,
        names: &Names,
        queue: &str,
        pattern: &str,
    ) -> Result<Self, BrokerError> {
        let channel = connection.create_channel().await?;
        let mut args = FieldTable::default();
        let quorum = LongString::from(b"quorum".to_vec());
        args.insert("x-queue-type".into(), AMQPValue::LongString(quorum));
        let options = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        channel.queue_declare(queue.into(), options, args).await?;
        channel
            .queue_bind(
                queue.into(),
                names.results_exchange().as_str().into(),
                pattern.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        ResultReader::consume(&channel, queue).await
    }

    /// Consumes an existing queue of results.
    pub async fn consume(channel: &Channel, queue: &str) -> Result<Self, BrokerError> {
        channel.basic_qos(1000, Default::default()).await?;
        let consumer = channel
            .basic_consume(
                queue.into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok(ResultReader { consumer })
    }

    /// The next result (acked), waiting at most `timeout`. A body that is not a result is
    /// acked and skipped with a warning.
    pub async fn next(&mut self, timeout: Duration) -> Result<JobResult, BrokerError> {
        self.next_unacked(timeout).await?.ack().await
    }

    /// The next result, not yet acked: the caller acks it once it has handled it, so that a
    /// result it could not handle goes back to the queue.
    pub async fn next_unacked(&mut self, timeout: Duration) -> Result<Received, BrokerError> {
        use futures::StreamExt;

        loop {
            let delivery = tokio::time::timeout(timeout, self.consumer.next())
                .await
                .map_err(|_| BrokerError::Timeout(timeout))?
                .ok_or(BrokerError::Timeout(timeout))??;
            match JobResult::from_body(&delivery.data) {
                Ok(result) => {
                    let acker = delivery.acker;
                    return Ok(Received { result, acker });
                }
                Err(error) => {
                    tracing::warn!(%error, "skipping a message that is not a result");
                    delivery.acker.ack(BasicAckOptions::default()).await?;
                }
            }
        }
    }
}

/// A result taken from a queue and not yet acked.
pub struct Received {
    /// The result.
    pub result: JobResult,
    acker: Acker,
}

impl Received {
    /// Acks the result's message and hands the result over.
    pub async fn ack(self) -> Result<JobResult, BrokerError> {
        self.acker.ack(BasicAckOptions::default()).await?;
        Ok(self.result)
    }
}
