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

use std::collections::BTreeMap;
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

/// The arguments of an exchange, queue or binding, by name. Kept as plain values so that
/// the plan can be compared with other descriptions of the topology; [`declare`] turns them
/// into the AMQP table the broker receives.
pub type Arguments = BTreeMap<String, Argument>;

/// One argument value: the fleet only ever sets strings and integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Argument {
    /// A string, sent as an AMQP long string.
    Text(String),
    /// An integer, sent as an AMQP signed 64-bit integer.
    Integer(i64),
}

/// The type of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeType {
    /// Routes on the exact routing key.
    Direct,
    /// Routes to every bound queue.
    Fanout,
    /// Routes on message headers.
    Headers,
    /// Routes on routing key patterns.
    Topic,
}

impl ExchangeType {
    /// The name RabbitMQ gives the type (`direct`, `fanout`, `headers`, `topic`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExchangeType::Direct => "direct",
            ExchangeType::Fanout => "fanout",
            ExchangeType::Headers => "headers",
            ExchangeType::Topic => "topic",
        }
    }

    fn kind(self) -> ExchangeKind {
        match self {
            ExchangeType::Direct => ExchangeKind::Direct,
            ExchangeType::Fanout => ExchangeKind::Fanout,
            ExchangeType::Headers => ExchangeKind::Headers,
            ExchangeType::Topic => ExchangeKind::Topic,
        }
    }
}

/// A durable exchange to declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeSpec {
    /// The exchange name.
    pub name: String,
    /// The exchange type.
    pub kind: ExchangeType,
    /// The declaration arguments, e.g. `alternate-exchange`.
    pub arguments: Arguments,
}

/// A durable queue to declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    /// The queue name.
    pub name: String,
    /// The declaration arguments (queue type, delivery limit, dead-lettering, ...).
    pub arguments: Arguments,
}

/// A binding of a queue to an exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingSpec {
    /// The exchange the binding routes from.
    pub exchange: String,
    /// The queue the binding routes to.
    pub queue: String,
    /// The binding key; empty where the exchange type ignores it.
    pub routing_key: String,
    /// The binding arguments; a headers exchange matches on them.
    pub arguments: Arguments,
}

/// One declaration of a [`Plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Declare an exchange.
    Exchange(ExchangeSpec),
    /// Declare a queue.
    Queue(QueueSpec),
    /// Bind a queue to an exchange.
    Binding(BindingSpec),
}

/// Every exchange, queue and binding of the topology, as plain data, in declaration order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The declarations in the order [`declare`] sends them: dead letters, jobs, retries,
    /// results. The order is kept as one list so that an object is declared after what it
    /// is bound to, exactly as before the plan existed.
    pub steps: Vec<Step>,
}

impl Plan {
    /// The exchanges, in declaration order.
    pub fn exchanges(&self) -> impl Iterator<Item = &ExchangeSpec> {
        self.steps.iter().filter_map(|step| match step {
            Step::Exchange(exchange) => Some(exchange),
            _ => None,
        })
    }

    /// The queues, in declaration order.
    pub fn queues(&self) -> impl Iterator<Item = &QueueSpec> {
        self.steps.iter().filter_map(|step| match step {
            Step::Queue(queue) => Some(queue),
            _ => None,
        })
    }

    /// The bindings, in declaration order.
    pub fn bindings(&self) -> impl Iterator<Item = &BindingSpec> {
        self.steps.iter().filter_map(|step| match step {
            Step::Binding(binding) => Some(binding),
            _ => None,
        })
    }

    fn exchange(&mut self, name: &str, kind: ExchangeType, arguments: Arguments) {
        self.steps.push(Step::Exchange(ExchangeSpec {
            name: name.to_string(),
            kind,
            arguments,
        }));
    }

    fn queue(&mut self, name: &str, arguments: Arguments) {
        self.steps.push(Step::Queue(QueueSpec {
            name: name.to_string(),
            arguments,
        }));
    }

    fn bind(&mut self, queue: &str, exchange: &str, routing_key: &str, arguments: Arguments) {
        self.steps.push(Step::Binding(BindingSpec {
            exchange: exchange.to_string(),
            queue: queue.to_string(),
            routing_key: routing_key.to_string(),
            arguments,
        }));
    }
}

/// The topology that `settings` describe, without touching a broker.
pub fn plan(settings: &Settings) -> Plan {
    let names = Names::new(settings.topology.prefix.as_str());
    let mut plan = Plan::default();

    plan_dead_letters(&mut plan, &names);
    plan_jobs(&mut plan, &names, settings);
    plan_retries(&mut plan, &names, settings);
    plan_results(&mut plan, &names);
    plan
}

/// Declares every exchange, queue and binding that `settings` describe.
///
/// Fails with the broker's error when an object exists with other arguments
/// (`PRECONDITION_FAILED`), which closes `channel`: callers use a channel of its own.
pub async fn declare(channel: &Channel, settings: &Settings) -> Result<(), lapin::Error> {
    for step in plan(settings).steps {
        match step {
            Step::Exchange(spec) => exchange(channel, &spec).await?,
            Step::Queue(spec) => queue(channel, &spec).await?,
            Step::Binding(spec) => bind(channel, &spec).await?,
        }
    }
    Ok(())
}

fn plan_dead_letters(plan: &mut Plan, names: &Names) {
    plan.exchange(&names.dead(), ExchangeType::Fanout, Arguments::new());
    plan.queue(&names.dead(), quorum_args());
    plan.bind(&names.dead(), &names.dead(), "", Arguments::new());
}

fn plan_jobs(plan: &mut Plan, names: &Names, settings: &Settings) {
    let unrouted = names.unrouted();
    plan.exchange(&unrouted, ExchangeType::Fanout, Arguments::new());
    plan.queue(&unrouted, job_queue_args(names, settings));
    plan.bind(&unrouted, &unrouted, "", Arguments::new());

    // Jobs for an account no queue is bound for are kept, not dropped by the broker.
    let mut jobs_args = Arguments::new();
    jobs_args.insert("alternate-exchange".into(), text(&unrouted));
    plan.exchange(&names.jobs_exchange(), ExchangeType::Direct, jobs_args);

    for alias in settings.accounts.keys() {
        let name = names.account_queue(alias);
        plan.queue(&name, job_queue_args(names, settings));
        plan.bind(&name, &names.jobs_exchange(), alias, Arguments::new());
    }
}

fn plan_retries(plan: &mut Plan, names: &Names, settings: &Settings) {
    let retry = names.retry_exchange();
    plan.exchange(&retry, ExchangeType::Headers, Arguments::new());

    for delay in settings.retry_delays() {
        // An expired copy is dead-lettered back to the jobs exchange with its original
        // routing key, which is how the retry reaches its account queue again.
        let name = names.delay_queue(delay);
        let mut args = quorum_args();
        args.insert("x-message-ttl".into(), Argument::Integer(millis(delay)));
        args.insert(
            "x-dead-letter-exchange".into(),
            text(&names.jobs_exchange()),
        );
        args.insert("x-dead-letter-strategy".into(), text("at-least-once"));
        args.insert("x-overflow".into(), text("reject-publish"));
        plan.queue(&name, args);

        let mut binding = Arguments::new();
        binding.insert("x-match".into(), text("all"));
        binding.insert(DELAY_HEADER.into(), text(&delay.as_millis().to_string()));
        plan.bind(&name, &retry, "", binding);
    }
}

fn plan_results(plan: &mut Plan, names: &Names) {
    let unrouted = names.results_unrouted();
    let default_queue = names.results_default();
    plan.exchange(&unrouted, ExchangeType::Fanout, Arguments::new());
    plan.queue(&default_queue, quorum_args());
    plan.bind(&default_queue, &unrouted, "", Arguments::new());

    // Results no backend has bound a queue for end in the default queue.
    let mut args = Arguments::new();
    args.insert("alternate-exchange".into(), text(&unrouted));
    plan.exchange(&names.results_exchange(), ExchangeType::Topic, args);
}

/// Arguments of a job queue: quorum, an explicit delivery limit (a job that crashes workers
/// is dead-lettered after that many deliveries), and at-least-once dead-lettering, which
/// RabbitMQ only allows with `reject-publish` overflow.
fn job_queue_args(names: &Names, settings: &Settings) -> Arguments {
    let mut args = quorum_args();
    args.insert(
        "x-delivery-limit".into(),
        Argument::Integer(i64::from(settings.topology.delivery_limit)),
    );
    args.insert("x-dead-letter-exchange".into(), text(&names.dead()));
    args.insert("x-dead-letter-strategy".into(), text("at-least-once"));
    args.insert("x-overflow".into(), text("reject-publish"));
    args
}

fn quorum_args() -> Arguments {
    let mut args = Arguments::new();
    args.insert("x-queue-type".into(), text("quorum"));
    args
}

fn text(value: &str) -> Argument {
    Argument::Text(value.to_string())
}

fn millis(delay: Duration) -> i64 {
    i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)
}

/// The AMQP table of `arguments`: strings as long strings and integers as signed 64-bit
/// integers, the types the declarations have always used, so that existing objects match.
fn field_table(arguments: &Arguments) -> FieldTable {
    let mut table = FieldTable::default();
    for (key, value) in arguments {
        let value = match value {
            Argument::Text(text) => {
                AMQPValue::LongString(LongString::from(text.as_bytes().to_vec()))
            }
            Argument::Integer(number) => AMQPValue::LongLongInt(*number),
        };
        table.insert(key.as_str().into(), value);
    }
    table
}

async fn exchange(channel: &Channel, spec: &ExchangeSpec) -> Result<(), lapin::Error> {
    let options = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    let args = field_table(&spec.arguments);
    channel
        .exchange_declare(spec.name.as_str().into(), spec.kind.kind(), options, args)
        .await
}

async fn queue(channel: &Channel, spec: &QueueSpec) -> Result<(), lapin::Error> {
    let options = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    let args = field_table(&spec.arguments);
    channel
        .queue_declare(spec.name.as_str().into(), options, args)
        .await
        .map(drop)
}

async fn bind(channel: &Channel, spec: &BindingSpec) -> Result<(), lapin::Error> {
    let options = QueueBindOptions::default();
    let args = field_table(&spec.arguments);
    channel
        .queue_bind(
            spec.queue.as_str().into(),
            spec.exchange.as_str().into(),
            spec.routing_key.as_str().into(),
            options,
            args,
        )
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

    #[test]
    fn the_plan_declares_an_exchange_and_a_queue_before_binding_them() {
        let settings = Settings::load_from(None, Some(Default::default())).unwrap();
        let plan = plan(&settings);
        assert!(plan.bindings().count() > 0);

        // A binding fails on the broker when its exchange or queue does not exist yet.
        let mut exchanges = Vec::new();
        let mut queues = Vec::new();
        for step in &plan.steps {
            match step {
                Step::Exchange(spec) => exchanges.push(spec.name.as_str()),
                Step::Queue(spec) => queues.push(spec.name.as_str()),
                Step::Binding(spec) => {
                    assert!(exchanges.contains(&spec.exchange.as_str()), "{spec:?}");
                    assert!(queues.contains(&spec.queue.as_str()), "{spec:?}");
                }
            }
        }
    }
}
