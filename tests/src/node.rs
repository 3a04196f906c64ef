//! RabbitMQ nodes for the tests, run through the project's own `scripts/broker.sh`.
//!
//! The shared node serves every test's vhost. A test that stops, kills or restarts its broker
//! starts a private node with [`Node::private`] instead, with its own name, port and data
//! directory under `target/rabbitmq/`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// One RabbitMQ node, addressed by its name and AMQP port.
#[derive(Debug, Clone)]
pub struct Node {
    name: String,
    port: u16,
}

impl Node {
    /// The node every test shares, started (and installed, when missing) on first use.
    pub fn shared() -> &'static Node {
        static SHARED: OnceLock<Node> = OnceLock::new();

        SHARED.get_or_init(|| {
            let name = std::env::var("FLEET_BROKER_NAME").unwrap_or_else(|_| "fleet-test".into());
            let port = std::env::var("FLEET_BROKER_PORT")
                .ok()
                .and_then(|port| port.parse().ok())
                .unwrap_or(5682);
            Node::private(&name, port)
        })
    }

    /// Starts node `name` on `port` (a no-op when it is up already).
    pub fn private(name: &str, port: u16) -> Node {
        let node = Node {
            name: name.to_owned(),
            port,
        };
        node.start();
        node
    }

    /// The AMQP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts the node and waits until it accepts AMQP connections.
    pub fn start(&self) {
        self.script(&["start"]);
    }

    /// Stops the node cleanly and waits until its process is gone.
    pub fn stop(&self) {
        self.script(&["stop"]);
    }

    /// Creates `vhost` with full permissions for guest; returns its AMQP URL.
    pub fn create_vhost(&self, vhost: &str) -> String {
        self.script(&["vhost", vhost]).trim().to_owned()
    }

    /// Deletes `vhost` and everything in it.
    pub fn delete_vhost(&self, vhost: &str) {
        self.script(&["delete-vhost", vhost]);
    }

    /// Creates user `user` with `password` and full permissions on `vhost`; returns the AMQP
    /// URL with the password in it.
    pub fn create_user(&self, user: &str, password: &str, vhost: &str) -> String {
        self.script(&["user", user, password, vhost]);
        format!("amqp://{user}:{password}@127.0.0.1:{}/{vhost}", self.port)
    }

    /// Runs `rabbitmqctl` with `args` against this node and returns its standard output.
    pub fn ctl(&self, args: &[&str]) -> String {
        let mut all = vec!["ctl"];
        all.extend_from_slice(args);
        self.script(&all)
    }

    /// The OS pid of the node's Erlang VM, when it runs.
    pub fn pid(&self) -> Option<u32> {
        let output = self.command(&["pid"]).output().ok()?;
        String::from_utf8_lossy(&output.stdout).trim().parse().ok()
    }

    fn script(&self, args: &[&str]) -> String {
        let output = self
            .command(args)
            .output()
            .unwrap_or_else(|error| panic!("cannot run scripts/broker.sh: {error}"));
        assert!(
            output.status.success(),
            "scripts/broker.sh {args:?} on node {} failed: {}",
            self.name,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(repo_dir().join("scripts/broker.sh"));
        command
            .args(args)
            .env("FLEET_BROKER_NAME", &self.name)
            .env("FLEET_BROKER_PORT", self.port.to_string())
            .stdin(std::process::Stdio::null());
        command
    }
}

/// The repository's top directory.
pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lies in the repository")
        .to_path_buf()
}
