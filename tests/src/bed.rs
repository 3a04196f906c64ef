//! The per-test broker environment: a vhost of its own, the settings of a worker for it,
//! connections, and inspection of its queues.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use fleet_worker::broker::{self, JobPublisher};
use fleet_worker::execute::{header_text, headers};
use fleet_worker::topology::{self, Names};
use fleet_worker::Settings;
use lapin::options::{BasicAckOptions, BasicGetOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};

use crate::node::Node;

/// The two service accounts every bed configures.
pub const ALPHA: &str = "alpha";
/// The second service account.
pub const BETA: &str = "beta";

/// One test's vhost on a node, deleted when the bed is dropped.
pub struct TestBed {
    node: Node,
    /// The vhost's name.
    pub vhost: String,
    /// The AMQP URL of the vhost (guest's credentials).
    pub url: String,
    /// The names of exchanges and queues (default prefix).
    pub names: Names,
    env: BTreeMap<String, String>,
}

/// A message taken from the dead-letter queue, with the headers the worker sets.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// The original body.
    pub body: Vec<u8>,
    /// The `message_id` property.
    pub message_id: Option<String>,
    /// `x-fleet-reason`: the error class.
    pub reason: Option<String>,
    /// `x-fleet-error`: the explanation.
    pub error: Option<String>,
    /// `x-fleet-attempts`.
    pub attempts: Option<String>,
    /// Every header, as text where it is text.
    pub headers: HashMap<String, String>,
}

impl TestBed {
    /// A bed on the shared test node.
    pub fn new(test: &str) -> TestBed {
        TestBed::on(Node::shared(), test)
    }

    /// A bed on `node`.
    pub fn on(node: &Node, test: &str) -> TestBed {
        crate::init_logging();
        let vhost = crate::unique_name(test);
        let url = node.create_vhost(&vhost);
        let env = default_env(&url, &vhost);

        TestBed {
            node: node.clone(),
            vhost,
            url,
            names: Names::new("frameio"),
            env,
        }
    }

    /// The node the bed lives on.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Sets `FLEET__...` variable `key` for every worker and settings built from now on.
    pub fn set(&mut self, key: &str, value: &str) -> &mut Self {
        self.env.insert(key.to_owned(), value.to_owned());
        self
    }

    /// The `FLEET__` environment a worker of this bed runs with.
    pub fn env(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    /// The client secret configured for `alias`.
    pub fn secret_of(&self, alias: &str) -> String {
        let key = format!("FLEET__ACCOUNTS__{}__CLIENT_SECRET", alias.to_uppercase());
        self.env[&key].clone()
    }

    /// The worker settings of this bed's environment.
    pub fn settings(&self) -> Settings {
        let env: HashMap<String, String> = self.env.clone().into_iter().collect();
        Settings::load_from(None, Some(env)).expect("test settings are valid")
    }

    /// A new connection to the vhost.
    pub async fn connect(&self) -> Connection {
        let name = format!("test {}", self.vhost);
        let properties = ConnectionProperties::default().with_connection_name(name.into());
        Connection::connect(&self.url, properties)
            .await
            .expect("connect to the test vhost")
    }

    /// Declares the topology of this bed's settings, as a worker does at start.
    pub async fn declare_topology(&self) {
        let connection = self.connect().await;
        let channel = connection.create_channel().await.expect("channel");
        topology::declare(&channel, &self.settings())
            .await
            .expect("declare topology");
        let _ = connection.close(200, "declared".into()).await;
    }

    /// Publishes `jobs` on a connection of its own, with confirms.
    pub async fn publish(&self, jobs: &[fleet_protocol::Job]) {
        let connection = self.connect().await;
        self.publisher(&connection)
            .await
            .publish_many(jobs, 256)
            .await
            .expect("publish jobs");
        let _ = connection.close(200, "published".into()).await;
    }

    /// A job publisher on `connection`.
    pub async fn publisher(&self, connection: &Connection) -> JobPublisher {
        JobPublisher::new(connection, &self.names)
            .await
            .expect("job publisher")
    }

    /// The number of ready messages in `queue`.
    pub async fn queue_len(&self, queue: &str) -> u32 {
        let (messages, _) = self
            .queue_counts(queue)
            .await
            .unwrap_or_else(|error| panic!("queue {queue}: {error}"));
        messages
    }

    /// Waits until `queue` exists with at least `count` consumers, at most `timeout`.
    pub async fn wait_consumers(&self, queue: &str, count: u32, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            if let Ok((_, consumers)) = self.queue_counts(queue).await {
                if consumers >= count {
                    return true;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// Ready messages and consumers of `queue`, through a passive declare.
    async fn queue_counts(&self, queue: &str) -> Result<(u32, u32), lapin::Error> {
        let connection = self.connect().await;
        let channel = connection.create_channel().await?;
        let options = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let declared = channel
            .queue_declare(queue.into(), options, FieldTable::default())
            .await;
        let _ = connection.close(200, "counted".into()).await;
        let declared = declared?;
        Ok((declared.message_count(), declared.consumer_count()))
    }

    /// Waits until `queue` holds `count` ready messages, at most `timeout`; returns the last
    /// count seen.
    pub async fn wait_queue_len(&self, queue: &str, count: u32, timeout: Duration) -> u32 {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let seen = self.queue_len(queue).await;
            if seen == count || tokio::time::Instant::now() >= deadline {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Takes (and acks) every message of the dead-letter queue.
    pub async fn take_dead_letters(&self) -> Vec<DeadLetter> {
        let connection = self.connect().await;
        let channel = connection.create_channel().await.expect("channel");
        let queue = self.names.dead();
        let mut taken = Vec::new();

        while let Some(message) = channel
            .basic_get(queue.as_str().into(), BasicGetOptions::default())
            .await
            .expect("basic.get on the dead-letter queue")
        {
            let delivery = message.delivery;
            taken.push(dead_letter(&delivery));
            delivery
                .acker
                .ack(BasicAckOptions::default())
                .await
                .expect("ack");
        }
        let _ = connection.close(200, "taken".into()).await;
        taken
    }

    /// Connects with the bed's settings through the library, as the tools do.
    pub async fn connect_as_tools(&self) -> Connection {
        broker::connect(&self.settings(), "test tools")
            .await
            .expect("connect")
    }
}

impl Drop for TestBed {
    fn drop(&mut self) {
        self.node.delete_vhost(&self.vhost);
    }
}

/// The environment of a worker on `url`: two accounts, the test kinds, short retry delays,
/// a free metrics port.
fn default_env(url: &str, vhost: &str) -> BTreeMap<String, String> {
    let pairs = [
        ("FLEET__BROKER__URL", url.to_owned()),
        ("FLEET__BROKER__RECONNECT_MIN_MS", "100".into()),
        ("FLEET__BROKER__RECONNECT_MAX_MS", "1000".into()),
        ("FLEET__WORKER__ENABLE_TEST_KINDS", "true".into()),
        ("FLEET__WORKER__MAX_ATTEMPTS", "4".into()),
        ("FLEET__WORKER__RETRY_BASE_MS", "100".into()),
        ("FLEET__WORKER__RETRY_MAX_MS", "400".into()),
        ("FLEET__WORKER__SHUTDOWN_GRACE_SECS", "10".into()),
        ("FLEET__METRICS__LISTEN", "127.0.0.1:0".into()),
        ("FLEET__ACCOUNTS__ALPHA__CLIENT_ID", "client-alpha".into()),
        (
            "FLEET__ACCOUNTS__ALPHA__CLIENT_SECRET",
            format!("secret-alpha-{vhost}"),
        ),
        ("FLEET__ACCOUNTS__BETA__CLIENT_ID", "client-beta".into()),
        (
            "FLEET__ACCOUNTS__BETA__CLIENT_SECRET",
            format!("secret-beta-{vhost}"),
        ),
    ];
    pairs
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}

fn dead_letter(delivery: &lapin::message::Delivery) -> DeadLetter {
    let table = delivery.properties.headers().clone().unwrap_or_default();
    let text = |name: &str| header_text(&table, name);
    let all = table
        .inner()
        .keys()
        .filter_map(|key| Some((key.to_string(), text(key.as_str())?)))
        .collect();

    DeadLetter {
        body: delivery.data.clone(),
        message_id: delivery
            .properties
            .message_id()
            .as_ref()
            .map(|id| id.to_string()),
        reason: text(headers::REASON),
        error: text(headers::ERROR),
        attempts: text(headers::ATTEMPTS),
        headers: all,
    }
}
