//! Helpers of the end-to-end tests: private RabbitMQ nodes, a vhost per test, workers in this
//! process or as `fleet worker` child processes, and readers of results and dead letters.
//!
//! Every test gets a [`TestBed`]: its own vhost on the shared test node (`fleet-test` on
//! port 5682 unless `FLEET_BROKER_NAME` and `FLEET_BROKER_PORT` say otherwise), deleted when
//! the bed is dropped. A test that stops or restarts its broker starts a [`Node`] of its own,
//! so that no other test loses its connection.
//!
//! - [`node`]: RabbitMQ nodes through `scripts/broker.sh`.
//! - [`bed`]: the per-test vhost, settings, connections and queue inspection.
//! - [`workers`]: workers in this process and as child processes.
//! - [`collect`]: reading results until every job id has one.

pub mod bed;
pub mod collect;
pub mod node;
pub mod workers;

pub use bed::TestBed;
pub use collect::{Collected, ResultCollector};
pub use node::Node;
pub use workers::{InProcessWorker, WorkerProcess};

/// Installs a tracing subscriber for the test process once; `RUST_LOG` sets its filter
/// (warnings only by default, so test output stays readable).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// A name that no other test or run uses: `<base>-<pid>-<counter>`, in the characters that
/// vhosts, queue names and aliases accept.
pub fn unique_name(base: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);

    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{base}-{}-{n}", std::process::id())
}
