//! The broker's own limit: the worker's broker work done by a loop written with lapin alone.
//!
//! One connection, a consumer channel with the worker's prefetch and a publisher channel in
//! confirm mode, as the worker has. For every delivery the loop publishes a persistent,
//! result-sized message (mandatory, with the job id as `correlation_id`) to the results
//! exchange, waits for its confirm and then acks the delivery. Deliveries are settled
//! concurrently, up to the prefetch, in one task on a single-threaded runtime: nothing is
//! parsed, built or counted, so the client costs as little as a client can.

use std::time::{Duration, Instant};

use anyhow::Context;
use fleet_protocol::{JobResult, Outcome, Timings, PROTOCOL_VERSION};
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Confirmation, Connection};

use crate::machine;
use crate::report::Measurement;
use crate::stage::{Stage, ACCOUNT};
use crate::Plan;

/// Where the loop publishes and what.
struct Target<'a> {
    channel: &'a Channel,
    exchange: &'a str,
    routing_key: &'a str,
    body: &'a [u8],
}

/// Runs the loop over the stage's filled account queue, timed from the first delivery to the
/// last ack.
pub async fn measure(plan: &Plan, stage: &Stage) -> anyhow::Result<Measurement> {
    let connection = fleet_worker::broker::connect(stage.settings(), "fleet-bench loop").await?;
    let publisher = connection.create_channel().await?;
    publisher
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let consumer = consume(&connection, stage, plan.prefetch).await?;

    let exchange = stage.results_exchange();
    let routing_key = stage.result_routing_key();
    let body = result_body();
    let target = Target {
        channel: &publisher,
        exchange: &exchange,
        routing_key: &routing_key,
        body: &body,
    };

    let broker_before = plan.broker_pid.and_then(machine::cpu_time);
    let own_before = machine::cpu_time(std::process::id());
    let settled = settle_all(consumer, &target, plan.jobs);
    let elapsed = tokio::time::timeout(plan.timeout, settled)
        .await
        .map_err(|_| anyhow::anyhow!("the loop did not settle {} jobs in time", plan.jobs))??;

    let measurement = Measurement {
        jobs: plan.jobs,
        elapsed,
        startup: None,
        client_cpu: machine::cpu_since(std::process::id(), own_before),
        broker_cpu: plan
            .broker_pid
            .and_then(|pid| machine::cpu_since(pid, broker_before)),
        peak_rss: None,
    };
    let _ = connection.close(200, "loop done".into()).await;
    Ok(measurement)
}

async fn consume(
    connection: &Connection,
    stage: &Stage,
    prefetch: u16,
) -> anyhow::Result<lapin::Consumer> {
    let channel = connection.create_channel().await?;
    channel
        .basic_qos(prefetch, BasicQosOptions::default())
        .await?;
    let consumer = channel
        .basic_consume(
            stage.account_queue().as_str().into(),
            "fleet-bench loop".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .context("cannot consume the account queue")?;
    Ok(consumer)
}

/// Settles `jobs` deliveries, as many at once as the broker hands out; returns the time from
/// the first delivery to the last ack.
async fn settle_all(
    mut consumer: lapin::Consumer,
    target: &Target<'_>,
    jobs: usize,
) -> anyhow::Result<Duration> {
    let mut in_flight = FuturesUnordered::new();
    let mut taken = 0;
    let mut settled = 0;
    let mut first = None;

    while settled < jobs {
        tokio::select! {
            Some(delivery) = consumer.next(), if taken < jobs => {
                first.get_or_insert_with(Instant::now);
                in_flight.push(settle(target, delivery?));
                taken += 1;
            }
            Some(outcome) = in_flight.next() => {
                outcome?;
                settled += 1;
            }
            else => anyhow::bail!("the consumer ended after {taken} deliveries"),
        }
    }
    Ok(first.map(|first| first.elapsed()).unwrap_or_default())
}

/// Publishes the result of one delivery, waits for its confirm, then acks the delivery.
async fn settle(target: &Target<'_>, delivery: Delivery) -> anyhow::Result<()> {
    let properties = BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(2)
        .with_message_id(uuid::Uuid::new_v4().to_string().into())
        .with_correlation_id(delivery.properties.message_id().clone().unwrap_or_default());
    let options = BasicPublishOptions {
        mandatory: true,
        ..BasicPublishOptions::default()
    };
    let confirm = target
        .channel
        .basic_publish(
            target.exchange.into(),
            target.routing_key.into(),
            options,
            target.body,
            properties,
        )
        .await?
        .await?;
    anyhow::ensure!(
        matches!(confirm, Confirmation::Ack(None)),
        "the broker did not take a result: {confirm:?}"
    );

    delivery.acker.ack(BasicAckOptions::default()).await?;
    Ok(())
}

/// The body of a `test.noop` success as the worker writes it, built once: the loop sends the
/// same bytes on the wire without the work of making them.
fn result_body() -> Vec<u8> {
    let now = chrono::Utc::now();
    let result = JobResult {
        version: PROTOCOL_VERSION,
        job_id: Some(uuid::Uuid::new_v4().to_string()),
        account: Some(ACCOUNT.to_owned()),
        kind: Some("test.noop".to_owned()),
        outcome: Outcome::Succeeded,
        attempts: 1,
        timings: Timings {
            created_at: None,
            started_at: now,
            finished_at: now,
        },
        resources: Vec::new(),
        error: None,
    };
    result.to_body()
}
