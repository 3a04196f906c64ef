//! Reading results until every job has one, across broker restarts.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use fleet_protocol::JobResult;
use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicQosOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Connection, Consumer};
use tokio::time::Instant;

use crate::bed::TestBed;

/// A queue bound to the results exchange with `#`, consumed by the test.
///
/// A result message that comes twice (redelivered after a lost connection, or published
/// again by a worker from its ledger) has the same `message_id` both times and is counted
/// once; a job that ran twice has two results with different ids, and both are kept.
pub struct ResultCollector {
    url: String,
    exchange: String,
    queue: String,
    reader: Option<(Connection, Consumer)>,
    seen_messages: HashSet<String>,
}

/// Results by job id.
#[derive(Debug, Default)]
pub struct Collected {
    /// Every result of each job id, in the order they came.
    pub by_id: HashMap<String, Vec<JobResult>>,
    /// Results without a job id (poison messages without one).
    pub without_id: Vec<JobResult>,
}

impl ResultCollector {
    /// Declares the bed's topology and a results queue of the test's own, bound with `#`.
    /// Call it before publishing jobs, so that no result goes to the default queue instead.
    pub async fn bind(bed: &TestBed) -> ResultCollector {
        bed.declare_topology().await;
        let mut collector = ResultCollector {
            url: bed.url.clone(),
            exchange: bed.names.results_exchange(),
            queue: format!("{}.results.test", bed.names.results_exchange()),
            reader: None,
            seen_messages: HashSet::new(),
        };
        collector
            .reconnect()
            .await
            .expect("bind the test's results queue");
        collector
    }

    /// Reads until every id in `expected` has a result, or `timeout` passes; then reads for
    /// `linger` more so that duplicates show.
    pub async fn collect(
        &mut self,
        expected: &HashSet<String>,
        timeout: Duration,
        linger: Duration,
    ) -> Collected {
        self.complete(Collected::default(), expected, timeout, linger)
            .await
    }

    /// Reads the first `count` results (with `timeout` for each); `None` when one is late.
    pub async fn read(&mut self, count: usize, timeout: Duration) -> Option<Collected> {
        let mut collected = Collected::default();
        for _ in 0..count {
            collected.add(self.next(timeout).await?);
        }
        Some(collected)
    }

    /// Like [`ResultCollector::collect`], adding to the results read so far.
    pub async fn complete(
        &mut self,
        mut collected: Collected,
        expected: &HashSet<String>,
        timeout: Duration,
        linger: Duration,
    ) -> Collected {
        let deadline = Instant::now() + timeout;

        while collected.missing(expected).next().is_some() && Instant::now() < deadline {
            if let Some(result) = self.next(deadline - Instant::now()).await {
                collected.add(result);
            }
        }

        let deadline = Instant::now() + linger;
        while let Some(result) = self
            .next(deadline.saturating_duration_since(Instant::now()))
            .await
        {
            collected.add(result);
        }
        collected
    }

    /// The next result within `timeout`. A lost connection is re-opened (the queue is a
    /// durable quorum queue, so nothing is lost across a broker restart).
    pub async fn next(&mut self, timeout: Duration) -> Option<JobResult> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            let Some((_, consumer)) = self.reader.as_mut() else {
                if self.reconnect().await.is_err() {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                continue;
            };
            let delivery = match tokio::time::timeout(left, consumer.next()).await {
                Err(_) => return None,
                Ok(Some(Ok(delivery))) => delivery,
                Ok(_) => {
                    self.reader = None;
                    continue;
                }
            };
            if let Some(result) = self.take(delivery).await {
                return Some(result);
            }
        }
    }

    /// Acks a delivery and returns its result, unless that result message was seen before
    /// or the ack failed (then it comes again after the reconnect).
    async fn take(&mut self, delivery: lapin::message::Delivery) -> Option<JobResult> {
        if delivery
            .acker
            .ack(BasicAckOptions::default())
            .await
            .is_err()
        {
            self.reader = None;
            return None;
        }

        let message_id = delivery.properties.message_id().as_ref()?.to_string();
        if !self.seen_messages.insert(message_id) {
            return None;
        }
        let result = JobResult::from_body(&delivery.data);
        Some(result.expect("every message on the results exchange is a result"))
    }

    async fn reconnect(&mut self) -> Result<(), lapin::Error> {
        let properties = lapin::ConnectionProperties::default();
        let connection = Connection::connect(&self.url, properties).await?;
        let channel = connection.create_channel().await?;
        let mut args = FieldTable::default();
        let quorum = AMQPValue::LongString(LongString::from(b"quorum".to_vec()));
        args.insert("x-queue-type".into(), quorum);
        let durable = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        channel
            .queue_declare(self.queue.as_str().into(), durable, args)
            .await?;
        channel
            .queue_bind(
                self.queue.as_str().into(),
                self.exchange.as_str().into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        channel.basic_qos(256, BasicQosOptions::default()).await?;
        let consumer = channel
            .basic_consume(
                self.queue.as_str().into(),
                "test results".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        self.reader = Some((connection, consumer));
        Ok(())
    }
}

impl Collected {
    fn add(&mut self, result: JobResult) {
        match result.job_id.clone() {
            Some(id) => self.by_id.entry(id).or_default().push(result),
            None => self.without_id.push(result),
        }
    }

    /// The expected ids that have no result.
    pub fn missing<'a>(
        &'a self,
        expected: &'a HashSet<String>,
    ) -> impl Iterator<Item = &'a String> {
        expected.iter().filter(|id| !self.by_id.contains_key(*id))
    }

    /// Results beyond the first of each job.
    pub fn duplicates(&self) -> usize {
        self.by_id.values().map(|results| results.len() - 1).sum()
    }

    /// The first result of job `id`; panics when there is none.
    pub fn first(&self, id: &str) -> &JobResult {
        self.by_id
            .get(id)
            .and_then(|results| results.first())
            .unwrap_or_else(|| panic!("no result for job {id}"))
    }

    /// How many results arrived in all.
    pub fn total(&self) -> usize {
        self.by_id.values().map(Vec::len).sum::<usize>() + self.without_id.len()
    }
}
