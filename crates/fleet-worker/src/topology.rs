//! The broker topology of the fleet: names, arguments and an idempotent declaration.
//!
//! ```text
//!  backend ──► frameio.jobs (direct) ──alias──► frameio.jobs.<alias>  (quorum, one per account)
//!                   │ unroutable                      │ delivery limit / rejected
//!                   ▼                                 ▼
//!           frameio.jobs.unrouted (fanout ► queue)   frameio.dead (fanout ► queue)
//!
//!  worker ──► frameio.retry (headers: fleet-delay-ms) ──► frameio.retry.<ms> (TTL queue)
//!                                                            │ expired: dead-lettered back
//!                                                            ▼
//!                                                       frameio.jobs (routing key = alias)
//!
//!  worker ──► frameio.results (topic: <account>.<outcome>.<kind>)
//!                   │ no bound queue takes it
//!                   ▼
//!           frameio.results.unrouted (fanout) ──► frameio.results.default (quorum)
//! ```
//!
//! Every queue argument the fleet relies on is set explicitly (queue type, delivery limit,
//! dead-letter exchange and strategy, overflow) so that RabbitMQ 3.10 through 4.x behave the
//! same. Declaring is idempotent: the same settings declare the same objects again without
//! error, which is how every worker start and `fleet topology apply` use it.

use std::time::Duration;

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, ExchangeKind};

use crate::config::Settings;

/// Header that carries the delay of a retry copy; the retry exchange routes on it. It must
/// not start with `x-`: headers exchanges ignore such headers when matching, and every copy
/// would then reach every delay queue.
pub const DELAY_HEADER: &str = "fleet-delay-ms";

/// Header that carries the attempt number of a retried job (the first attempt has none).
pub const ATTEMPT_HEADER: &str = "x-fleet-attempt";

/// The names of every exchange and queue, derived from one prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    prefix: String,
}

impl Names {
    /// Names under `prefix` (`frameio` by default).
    pub fn new(prefix: impl Into<String>) -> Names {
        Names {
            prefix: prefix.into(),
        }
    }

    /// The direct exchange that backends publish jobs to, with the account alias as key.
    pub fn jobs_exchange(&self) -> String {
        format!("{}.jobs", self.prefix)
    }

    /// The queue of one service account.
    pub fn account_queue(&self, alias: &str) -> String {
        format!("{}.jobs.{alias}", self.prefix)
    }

    /// The alternate exchange of the jobs exchange and the queue behind it: jobs whose
    /// account no queue is bound for.
    pub fn unrouted(&self) -> String {
        format!("{}.jobs.unrouted", self.prefix)
    }

    /// The dead-letter exchange and its queue (the same name).
    pub fn dead(&self) -> String {
        format!("{}.dead", self.prefix)
    }

    /// The headers exchange that routes retry copies to their delay queue.
    pub fn retry_exchange(&self) -> String {
        format!("{}.retry", self.prefix)
    }

    /// The delay queue that holds retry copies for `delay`.
    pub fn delay_queue(&self, delay: Duration) -> String {
        format!("{}.retry.{}", self.prefix, delay.as_millis())
    }

    /// The topic exchange of results.
    pub fn results_exchange(&self) -> String {
        format!("{}.results", self.prefix)
    }

    /// The alternate exchange of the results exchange.
    pub fn results_unrouted(&self) -> String {
        format!("{}.results.unrouted", self.prefix)
    }

    /// The queue that keeps results no backend has bound a queue for.
    pub fn results_default(&self) -> String {
        format!("{}.results.default", self.prefix)
    }
}

/// The routing key of a result: `<account>.<outcome>.<kind>`, e.g.
/// `studio-a.failed.file.upload`. Backends bind `studio-a.#` or `*.failed.#`.
pub fn result_routing_key(account: &str, outcome: &str, kind: &str) -> String {
    format!("{account}.{outcome}.{kind}")
}

/// Declares every exchange, queue and binding that `settings` describe.
///
/// Fails with the broker's error when an object exists with other arguments
/// (`PRECONDITION_FAILED`), which closes `channel`: callers use a channel of its own.
pub async fn declare(channel: &Channel, settings: &Settings) -> Result<(), lapin::Error> {
    let names = Names::new(settings.topology.prefix.as_str());

    declare_dead_letters(channel, &names).await?;
    declare_jobs(channel, &names, settings).await?;
    declare_retries(channel, &names, settings).await?;
    declare_results(channel, &names).await?;
    Ok(())
}

async fn declare_dead_letters(channel: &Channel, names: &Names) -> Result<(), lapin::Error> {
    exchange(
        channel,
        &names.dead(),
        ExchangeKind::Fanout,
        FieldTable::default(),
    )
    .await?;
    queue(channel, &names.dead(), quorum_args()).await?;
    bind(
        channel,
        &names.dead(),
        &names.dead(),
        "",
        FieldTable::default(),
    )
    .await
}

async fn declare_jobs(
    channel: &Channel,
    names: &Names,
    settings: &Settings,
) -> Result<(), lapin::Error> {
    let unrouted = names.unrouted();
    exchange(
        channel,
        &unrouted,
        ExchangeKind::Fanout,
        FieldTable::default(),
    )
    .await?;
    queue(channel, &unrouted, job_queue_args(names, settings)).await?;
    bind(channel, &unrouted, &unrouted, "", FieldTable::default()).await?;

    let mut jobs_args = FieldTable::default();
    jobs_args.insert("alternate-exchange".into(), string(&unrouted));
    exchange(
        channel,
        &names.jobs_exchange(),
        ExchangeKind::Direct,
        jobs_args,
    )
    .await?;

    for alias in settings.accounts.keys() {
        let name = names.account_queue(alias);
        queue(channel, &name, job_queue_args(names, settings)).await?;
        bind(
            channel,
            &name,
            &names.jobs_exchange(),
            alias,
            FieldTable::default(),
        )
        .await?;
    }
    Ok(())
}

async fn declare_retries(
    channel: &Channel,
    names: &Names,
    settings: &Settings,
) -> Result<(), lapin::Error> {
    let retry = names.retry_exchange();
    exchange(
        channel,
        &retry,
        ExchangeKind::Headers,
        FieldTable::default(),
    )
    .await?;

    for delay in settings.retry_delays() {
        let name = names.delay_queue(delay);
        let mut args = quorum_args();
        args.insert(
            "x-message-ttl".into(),
            AMQPValue::LongLongInt(millis(delay)),
        );
        args.insert(
            "x-dead-letter-exchange".into(),
            string(&names.jobs_exchange()),
        );
        args.insert("x-dead-letter-strategy".into(), string("at-least-once"));
        args.insert("x-overflow".into(), string("reject-publish"));
        queue(channel, &name, args).await?;

        let mut binding = FieldTable::default();
        binding.insert("x-match".into(), string("all"));
        binding.insert(DELAY_HEADER.into(), string(&delay.as_millis().to_string()));
        bind(channel, &name, &retry, "", binding).await?;
    }
    Ok(())
}

async fn declare_results(channel: &Channel, names: &Names) -> Result<(), lapin::Error> {
    let unrouted = names.results_unrouted();
    let default_queue = names.results_default();
    exchange(
        channel,
        &unrouted,
        ExchangeKind::Fanout,
        FieldTable::default(),
    )
    .await?;
    queue(channel, &default_queue, quorum_args()).await?;
    bind(
        channel,
        &default_queue,
        &unrouted,
        "",
        FieldTable::default(),
    )
    .await?;

    let mut args = FieldTable::default();
    args.insert("alternate-exchange".into(), string(&unrouted));
    exchange(
        channel,
        &names.results_exchange(),
        ExchangeKind::Topic,
        args,
    )
    .await
}

/// Arguments of a job queue: quorum, an explicit delivery limit (a job that crashes workers
/// is dead-lettered after that many deliveries), and at-least-once dead-lettering, which
/// RabbitMQ only allows with `reject-publish` overflow.
fn job_queue_args(names: &Names, settings: &Settings) -> FieldTable {
    let mut args = quorum_args();
    args.insert(
        "x-delivery-limit".into(),
        AMQPValue::LongLongInt(i64::from(settings.topology.delivery_limit)),
    );
    args.insert("x-dead-letter-exchange".into(), string(&names.dead()));
    args.insert("x-dead-letter-strategy".into(), string("at-least-once"));
    args.insert("x-overflow".into(), string("reject-publish"));
    args
}

fn quorum_args() -> FieldTable {
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), string("quorum"));
    args
}

fn string(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value.as_bytes().to_vec()))
}

fn millis(delay: Duration) -> i64 {
    i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)
}

async fn exchange(
    channel: &Channel,
    name: &str,
    kind: ExchangeKind,
    args: FieldTable,
) -> Result<(), lapin::Error> {
    let options = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    channel
        .exchange_declare(name.into(), kind, options, args)
        .await
}

async fn queue(channel: &Channel, name: &str, args: FieldTable) -> Result<(), lapin::Error> {
    let options = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .queue_declare(name.into(), options, args)
        .await
        .map(drop)
}

async fn bind(
    channel: &Channel,
    queue: &str,
    exchange: &str,
    key: &str,
    args: FieldTable,
) -> Result<(), lapin::Error> {
    let options = QueueBindOptions::default();
    channel
        .queue_bind(queue.into(), exchange.into(), key.into(), options, args)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prefix() {
        let names = Names::new("acme");
        assert_eq!(names.jobs_exchange(), "acme.jobs");
        assert_eq!(names.account_queue("studio-a"), "acme.jobs.studio-a");
        assert_eq!(
            names.delay_queue(Duration::from_millis(1500)),
            "acme.retry.1500"
        );
        assert_eq!(names.results_default(), "acme.results.default");
        assert_eq!(
            result_routing_key("a", "failed", "test.fail"),
            "a.failed.test.fail"
        );
    }
}
