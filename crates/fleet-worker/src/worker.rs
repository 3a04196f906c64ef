//! The worker: a supervised broker session that consumes every account queue, runs each
//! delivery through the [`Executor`], publishes its settlement with confirms and only then
//! acks it.
//!
//! The connection is supervised here rather than by lapin's automatic recovery: a session is
//! one connection with its channels and consumers; when anything in it fails (connection
//! error, missed heartbeats, a consumer cancelled by the server, a channel closed by an
//! error) the whole session is dropped and a new one is built after a back-off, declaring
//! the topology, applying prefetch and consuming again. Unacked deliveries of the old
//! session return to their queues; the [`Ledger`] keeps their settlements so they are
//! published again rather than run again.
//!
//! On a stop signal the worker cancels its consumers, lets running jobs finish within the
//! grace period and closes the connection, which returns every unacked delivery to its
//! queue.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions,
    BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
};
use lapin::types::FieldTable;
use lapin::uri::AMQPUri;
use lapin::{Acker, Channel, Confirmation, Connection, ConnectionProperties, Event};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::broker::{self, BrokerError};
use crate::config::Settings;
use crate::execute::{Executor, Incoming, Outgoing, Settlement, Verdict, UNROUTED};
use crate::handler::Handlers;
use crate::ledger::{Begin, Ledger};
use crate::metrics::Metrics;
use crate::topology::{self, Names};

/// Why a worker could not run.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The broker settings are unusable (for example a malformed URL).
    #[error(transparent)]
    Broker(#[from] BrokerError),
}

/// Why one broker session ended.
#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error("broker: {0}")]
    Broker(#[from] lapin::Error),
    #[error("the connection's event stream ended")]
    EventsEnded,
    #[error("consumer of queue {0} ended (cancelled by the server or its channel closed)")]
    ConsumerEnded(String),
}

/// Why publishing a settlement failed.
#[derive(Debug, thiserror::Error)]
enum PublishError {
    #[error("no broker connection")]
    Disconnected,
    #[error("broker: {0}")]
    Broker(#[from] lapin::Error),
    #[error("the broker could not route the {0} message to any queue")]
    Unroutable(&'static str),
    #[error("the broker refused the {0} message")]
    Nacked(&'static str),
}

/// A worker process's runtime. Build it with [`Worker::new`], then [`Worker::run`] it.
pub struct Worker {
    settings: Arc<Settings>,
    executor: Executor,
    metrics: Metrics,
    ledger: Ledger,
    publisher: Arc<RwLock<Option<Arc<Channel>>>>,
    permits: Arc<Semaphore>,
    tracker: TaskTracker,
}

/// What the consumers and job tasks of one session share.
#[derive(Clone)]
struct Shared {
    executor: Executor,
    metrics: Metrics,
    ledger: Ledger,
    // In an `Arc` because every publish takes the channel out of the lock, and cloning a
    // lapin channel itself costs a dozen reference counts.
    publisher: Arc<RwLock<Option<Arc<Channel>>>>,
}

impl Worker {
    /// A worker for `settings` that runs the kinds in `handlers`.
    pub fn new(settings: Settings, handlers: Handlers) -> Worker {
        let metrics = Metrics::new();
        let executor = Executor::new(&settings, handlers, metrics.clone());
        Worker {
            permits: Arc::new(Semaphore::new(settings.worker.concurrency.max(1))),
            settings: Arc::new(settings),
            executor,
            metrics,
            ledger: Ledger::new(),
            publisher: Arc::new(RwLock::new(None)),
            tracker: TaskTracker::new(),
        }
    }

    /// The worker's metrics, to serve them.
    pub fn metrics(&self) -> Metrics {
        self.metrics.clone()
    }

    /// Runs until `shutdown` is cancelled, reconnecting whenever the broker goes away.
    /// Returns once running jobs have finished or the grace period has passed.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), WorkerError> {
        let uri = broker::broker_uri(&self.settings)?;
        if self.settings.accounts.is_empty() {
            tracing::warn!("no service account configured; only unrouted jobs are consumed");
        }
        let min_backoff = Duration::from_millis(self.settings.broker.reconnect_min_ms);
        let max_backoff = Duration::from_millis(self.settings.broker.reconnect_max_ms);
        let mut backoff = min_backoff;
        let mut sessions = 0u64;

        while !shutdown.is_cancelled() {
            let outcome = self.session(uri.clone(), &shutdown, &mut sessions).await;
            self.disconnected();

            match outcome {
                Ok(()) => break,
                Err((error, was_up)) => {
                    if was_up {
                        backoff = min_backoff;
                    }
                    tracing::warn!(%error, retry_in_ms = backoff.as_millis() as u64,
                        "broker session lost; reconnecting");
                }
            }

            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(max_backoff);
        }

        self.drain().await;
        tracing::info!("worker stopped");
        Ok(())
    }

    /// One connection's life: set up, consume until it fails or the worker stops.
    /// `Ok` means a clean stop; the error says whether the session had been up.
    async fn session(
        &self,
        uri: AMQPUri,
        shutdown: &CancellationToken,
        sessions: &mut u64,
    ) -> Result<(), (SessionError, bool)> {
        let (connection, mut consumers, tags) = self.connect(uri).await.map_err(|e| (e, false))?;
        *sessions += 1;
        if *sessions > 1 {
            self.metrics.broker_reconnects.inc();
        }
        self.metrics.broker_connected.set(1);
        self.metrics.set_ready(true);
        tracing::info!(queues = tags.len(), "connected and consuming");

        let mut events = connection.events_listener();
        let failure = loop {
            tokio::select! {
                _ = shutdown.cancelled() => break None,
                event = events.next() => match event {
                    Some(Event::Error(error)) => break Some(SessionError::Broker(error)),
                    Some(Event::ConnectionBlocked(reason)) => {
                        tracing::warn!(%reason, "broker blocked publishing (resource alarm)");
                    }
                    Some(_) => {}
                    None => break Some(SessionError::EventsEnded),
                },
                ended = consumers.join_next() => {
                    let queue = ended.and_then(Result::ok).unwrap_or_default();
                    break Some(SessionError::ConsumerEnded(queue));
                }
            }
        };

        if let Some(error) = failure {
            consumers.abort_all();
            let _ = connection.close(320, "session failed".into()).await;
            return Err((error, true));
        }

        self.stop_consuming(&tags).await;
        consumers.abort_all();
        self.drain().await;
        let _ = connection.close(200, "worker stopping".into()).await;
        Ok(())
    }

    /// Connects, declares the topology and starts one consumer per queue.
    async fn connect(
        &self,
        uri: AMQPUri,
    ) -> Result<(Connection, JoinSet<String>, Vec<(Channel, String)>), SessionError> {
        let name = format!("fleet-worker pid {}", std::process::id());
        let properties = ConnectionProperties::default().with_connection_name(name.clone().into());
        let connection = Connection::connect_uri(uri, properties).await?;

        let setup = connection.create_channel().await?;
        topology::declare(&setup, &self.settings).await?;
        let _ = setup.close(200, "topology declared".into()).await;

        let publisher = connection.create_channel().await?;
        publisher
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        *self.publisher.write().expect("publisher lock") = Some(Arc::new(publisher));

        let names = Names::new(self.settings.topology.prefix.as_str());
        let mut queues: Vec<(String, String, u16)> = self
            .settings
            .accounts
            .keys()
            .map(|alias| {
                (
                    alias.clone(),
                    names.account_queue(alias),
                    self.settings.prefetch(alias),
                )
            })
            .collect();
        queues.push((
            UNROUTED.to_owned(),
            names.unrouted(),
            self.settings.worker.prefetch,
        ));

        let mut consumers = JoinSet::new();
        let mut tags = Vec::new();
        for (account, queue, prefetch) in queues {
            let channel = connection.create_channel().await?;
            channel
                .basic_qos(prefetch, BasicQosOptions::default())
                .await?;
            let tag = format!("{name} {queue}");
            let stream = channel
                .basic_consume(
                    queue.as_str().into(),
                    tag.as_str().into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            tracing::debug!(%queue, prefetch, "consuming");
            consumers.spawn(self.consume(stream, account, queue));
            tags.push((channel, tag));
        }
        Ok((connection, consumers, tags))
    }

    /// Takes deliveries from one queue until its stream ends; returns the queue's name.
    fn consume(
        &self,
        mut stream: lapin::Consumer,
        account: String,
        queue: String,
    ) -> impl std::future::Future<Output = String> + Send + 'static {
        // Each job takes its own handle on what the jobs share; behind an `Arc` that is one
        // count instead of a copy of the executor's handler table and every metric.
        let shared = Arc::new(self.shared());
        let permits = self.permits.clone();
        let tracker = self.tracker.clone();

        async move {
            while let Some(delivery) = stream.next().await {
                let delivery = match delivery {
                    Ok(delivery) => delivery,
                    Err(error) => {
                        tracing::warn!(%queue, %error, "consumer failed");
                        break;
                    }
                };
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                let shared = shared.clone();
                // The body and properties move into the job; only the acker stays behind.
                let Delivery {
                    data,
                    properties,
                    acker,
                    ..
                } = delivery;
                let incoming = Incoming {
                    body: data,
                    properties,
                    account: account.clone(),
                    queue: queue.clone(),
                };
                tracker.spawn(async move {
                    shared.handle(acker, incoming).await;
                    drop(permit);
                });
            }
            queue
        }
    }

    fn shared(&self) -> Shared {
        Shared {
            executor: self.executor.clone(),
            metrics: self.metrics.clone(),
            ledger: self.ledger.clone(),
            publisher: self.publisher.clone(),
        }
    }

    async fn stop_consuming(&self, tags: &[(Channel, String)]) {
        self.metrics.set_ready(false);
        for (channel, tag) in tags {
            let cancel = channel.basic_cancel(tag.as_str().into(), BasicCancelOptions::default());
            if let Err(error) = cancel.await {
                tracing::warn!(%error, "cancelling a consumer failed");
            }
        }
        tracing::info!(in_flight = self.tracker.len(), "stopped consuming");
    }

    /// Waits for running jobs, at most the grace period.
    async fn drain(&self) {
        self.tracker.close();
        let grace = self.settings.shutdown_grace();
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                left = self.tracker.len(),
                grace_secs = grace.as_secs(),
                "grace period over; unfinished jobs return to their queues"
            );
        }
        self.tracker.reopen();
    }

    fn disconnected(&self) {
        self.metrics.broker_connected.set(0);
        self.metrics.set_ready(false);
        *self.publisher.write().expect("publisher lock") = None;
    }
}

impl Shared {
    /// Settles one delivery: run (or reuse) its settlement, publish it, then ack.
    async fn handle(&self, acker: Acker, incoming: Incoming) {
        let key = incoming
            .message_id()
            .map(|id| (id.to_owned(), incoming.attempt()));
        let Some(settlement) = self.settlement(&key, &incoming).await else {
            return;
        };

        if let Err(error) = self.publish(&settlement).await {
            self.publish_failed(&acker, &error).await;
            return;
        }

        match acker.ack(BasicAckOptions::default()).await {
            Ok(true) => {
                if let Some(key) = &key {
                    self.ledger.finish(key);
                }
                self.count(&settlement);
            }
            Ok(false) => tracing::debug!("delivery no longer ackable; it will come back"),
            Err(error) => tracing::debug!(%error, "ack failed; the delivery will come back"),
        }
    }

    /// The settlement of an attempt: computed now, or reused from the ledger.
    async fn settlement(
        &self,
        key: &Option<(String, u32)>,
        incoming: &Incoming,
    ) -> Option<Arc<Settlement>> {
        let Some(key) = key else {
            return Some(Arc::new(self.executor.execute(incoming).await));
        };

        match self.ledger.begin(key) {
            Begin::Fresh => {
                let settlement = Arc::new(self.executor.execute(incoming).await);
                self.ledger.settle(key, &settlement);
                Some(settlement)
            }
            Begin::Settled(settlement) => {
                self.duplicate(incoming, "settled");
                Some(settlement)
            }
            Begin::Running(running) => {
                self.duplicate(incoming, "running");
                Ledger::wait(running).await
            }
        }
    }

    fn duplicate(&self, incoming: &Incoming, state: &str) {
        self.metrics
            .duplicates
            .with_label_values(&[&incoming.account])
            .inc();
        tracing::debug!(
            message_id = incoming.message_id(),
            attempt = incoming.attempt(),
            state,
            headers = ?incoming.properties.headers(),
            "redelivery of a known attempt"
        );
    }

    async fn publish(&self, settlement: &Settlement) -> Result<(), PublishError> {
        for message in &settlement.messages {
            let channel = self.publisher.read().expect("publisher lock").clone();
            let channel = channel.ok_or(PublishError::Disconnected)?;
            let started = Instant::now();
            publish_confirmed(&channel, message).await?;
            self.metrics
                .confirm_latency
                .with_label_values(&[message.role.as_str()])
                .observe(started.elapsed().as_secs_f64());
        }
        Ok(())
    }

    /// A settlement that could not be published stays in the ledger. When the connection is
    /// gone the delivery comes back by itself; otherwise it is returned to its queue after a
    /// pause, so a broker that refuses a message is not hammered.
    async fn publish_failed(&self, acker: &Acker, error: &PublishError) {
        if matches!(error, PublishError::Unroutable(_) | PublishError::Nacked(_)) {
            tracing::error!(%error, "settlement refused by the broker; requeueing the job");
            tokio::time::sleep(Duration::from_secs(1)).await;
            let options = BasicNackOptions {
                requeue: true,
                ..BasicNackOptions::default()
            };
            let _ = acker.nack(options).await;
        } else {
            tracing::debug!(%error, "settlement not confirmed; kept for the redelivery");
        }
    }

    fn count(&self, settlement: &Settlement) {
        let account = settlement.account.as_str();
        let kind = settlement.kind;
        match &settlement.verdict {
            Verdict::Succeeded => {
                self.metrics
                    .jobs
                    .with_label_values(&[account, kind, "succeeded"])
                    .inc();
            }
            Verdict::Retry { class, .. } => {
                self.metrics
                    .retries
                    .with_label_values(&[account, kind, class.as_str()])
                    .inc();
            }
            Verdict::DeadLettered(class) => {
                self.metrics
                    .jobs
                    .with_label_values(&[account, kind, "failed"])
                    .inc();
                let reason = class.as_str();
                self.metrics
                    .dead_letters
                    .with_label_values(&[account, reason])
                    .inc();
            }
        }
    }
}

/// Publishes one message and waits for the broker's confirm.
async fn publish_confirmed(channel: &Channel, message: &Outgoing) -> Result<(), PublishError> {
    let options = BasicPublishOptions {
        mandatory: message.mandatory,
        ..BasicPublishOptions::default()
    };
    let confirm = channel
        .basic_publish(
            message.exchange.as_str().into(),
            message.routing_key.as_str().into(),
            options,
            &message.body,
            message.properties.clone(),
        )
        .await?
        .await?;

    match confirm {
        Confirmation::Ack(None) | Confirmation::NotRequested => Ok(()),
        Confirmation::Ack(Some(_)) => Err(PublishError::Unroutable(message.role.as_str())),
        Confirmation::Nack(_) => Err(PublishError::Nacked(message.role.as_str())),
    }
}
