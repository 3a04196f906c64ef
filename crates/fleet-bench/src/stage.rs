//! The broker objects of one measurement: the fleet topology under a prefix of its own, a
//! quorum queue bound to every result, and the account queue filled with `test.noop` jobs.
//!
//! The loop and the worker get the same objects with the same arguments, declared by
//! [`fleet_worker::topology::declare`], so that both do the same broker work: a persistent
//! job taken from a quorum queue, a persistent result routed by the topic results exchange
//! into a quorum queue, a confirm, an ack.

use std::collections::HashMap;

use anyhow::Context;
use fleet_protocol::kinds::NoopParams;
use fleet_protocol::{Job, JobId, JobSpec};
use fleet_worker::broker::JobPublisher;
use fleet_worker::topology::{self, Names};
use fleet_worker::Settings;
use lapin::options::{
    ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, Connection};

use crate::Plan;

/// The service account alias of every benchmark job.
pub const ACCOUNT: &str = "bench";

/// Confirms kept outstanding while filling a queue: enough to keep the broker busy.
const FILL_WINDOW: usize = 512;

/// The objects of one measurement and the settings that name them.
pub struct Stage {
    env: Vec<(String, String)>,
    settings: Settings,
    names: Names,
}

impl Stage {
    /// A stage under the prefix `<side><round>-<run id>`, with the plan's broker and prefetch.
    pub fn new(plan: &Plan, name: &str) -> anyhow::Result<Stage> {
        let prefix = format!("{name}-{}", plan.run_id);
        let env = worker_env(&plan.url, &prefix, plan.prefetch);
        let map: HashMap<String, String> = env.iter().cloned().collect();
        let settings =
            Settings::load_from(None, Some(map)).context("the benchmark's worker settings")?;
        Ok(Stage {
            names: Names::new(prefix),
            env,
            settings,
        })
    }

    /// The `FLEET__` variables that give a `fleet worker` process these settings.
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    /// The settings of a worker on this stage.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The queue the jobs wait in.
    pub fn account_queue(&self) -> String {
        self.names.account_queue(ACCOUNT)
    }

    /// The exchange results are published to.
    pub fn results_exchange(&self) -> String {
        self.names.results_exchange()
    }

    /// The queue that takes every result.
    pub fn results_queue(&self) -> String {
        format!("{}.bench", self.names.results_exchange())
    }

    /// The routing key of a `test.noop` success, as the worker publishes it.
    pub fn result_routing_key(&self) -> String {
        topology::result_routing_key(ACCOUNT, "succeeded", "test.noop")
    }

    /// Declares the topology and the results queue, then fills the account queue with `jobs`
    /// jobs and checks that they are all there and nothing else is.
    pub async fn prepare(&self, connection: &Connection, jobs: usize) -> anyhow::Result<()> {
        let channel = connection.create_channel().await?;
        topology::declare(&channel, &self.settings)
            .await
            .context("cannot declare the fleet topology")?;
        self.declare_results_queue(&channel).await?;

        let publisher = JobPublisher::new(connection, &self.names).await?;
        publisher
            .publish_many(&noop_jobs(jobs), FILL_WINDOW)
            .await
            .context("cannot fill the account queue")?;

        let queued = message_count(&channel, &self.account_queue()).await?;
        anyhow::ensure!(
            queued as usize == jobs,
            "the account queue holds {queued} jobs after publishing {jobs}"
        );
        let _ = channel.close(200, "stage prepared".into()).await;
        Ok(())
    }

    /// Deletes every queue and exchange of the stage, so that rounds do not pile messages
    /// up in the broker.
    pub async fn teardown(&self, connection: &Connection) -> anyhow::Result<()> {
        let channel = connection.create_channel().await?;
        for queue in self.queues() {
            channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await
                .with_context(|| format!("cannot delete queue {queue}"))?;
        }
        for exchange in self.exchanges() {
            channel
                .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
                .await
                .with_context(|| format!("cannot delete exchange {exchange}"))?;
        }
        let _ = channel.close(200, "stage torn down".into()).await;
        Ok(())
    }

    async fn declare_results_queue(&self, channel: &Channel) -> anyhow::Result<()> {
        let queue = self.results_queue();
        let mut args = FieldTable::default();
        let quorum = LongString::from(b"quorum".to_vec());
        args.insert("x-queue-type".into(), AMQPValue::LongString(quorum));
        let options = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        channel
            .queue_declare(queue.as_str().into(), options, args)
            .await
            .with_context(|| format!("cannot declare queue {queue}"))?;
        channel
            .queue_bind(
                queue.as_str().into(),
                self.results_exchange().as_str().into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .with_context(|| format!("cannot bind queue {queue}"))?;
        Ok(())
    }

    fn queues(&self) -> Vec<String> {
        let mut queues = vec![
            self.account_queue(),
            self.names.unrouted(),
            self.names.dead(),
            self.names.results_default(),
            self.results_queue(),
        ];
        let delays = self.settings.retry_delays();
        queues.extend(
            delays
                .into_iter()
                .map(|delay| self.names.delay_queue(delay)),
        );
        queues
    }

    fn exchanges(&self) -> Vec<String> {
        vec![
            self.names.jobs_exchange(),
            self.names.unrouted(),
            self.names.dead(),
            self.names.retry_exchange(),
            self.names.results_exchange(),
            self.names.results_unrouted(),
        ]
    }
}

/// The ready messages of an existing queue, by a passive declare.
pub async fn message_count(channel: &Channel, queue: &str) -> anyhow::Result<u32> {
    let options = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    let declared = channel
        .queue_declare(queue.into(), options, FieldTable::default())
        .await
        .with_context(|| format!("cannot read the message count of queue {queue}"))?;
    Ok(declared.message_count())
}

/// `count` jobs of kind `test.noop` for [`ACCOUNT`], as a backend would publish them.
pub fn noop_jobs(count: usize) -> Vec<Job> {
    (0..count)
        .map(|_| Job::new(JobId::random(), ACCOUNT, JobSpec::Noop(NoopParams {})))
        .collect()
}

/// The worker settings of a stage as `FLEET__` variables. The account's credential is never
/// used: `test.noop` calls no external service.
fn worker_env(url: &str, prefix: &str, prefetch: u16) -> Vec<(String, String)> {
    let account = ACCOUNT.to_uppercase();
    [
        ("FLEET__BROKER__URL".to_owned(), url.to_owned()),
        ("FLEET__TOPOLOGY__PREFIX".to_owned(), prefix.to_owned()),
        ("FLEET__WORKER__PREFETCH".to_owned(), prefetch.to_string()),
        ("FLEET__WORKER__ENABLE_TEST_KINDS".to_owned(), "true".into()),
        ("FLEET__METRICS__LISTEN".to_owned(), "127.0.0.1:0".into()),
        (
            format!("FLEET__ACCOUNTS__{account}__CLIENT_ID"),
            "fleet-bench".into(),
        ),
        (
            format!("FLEET__ACCOUNTS__{account}__CLIENT_SECRET"),
            "unused-by-test-kinds".into(),
        ),
    ]
    .into()
}
