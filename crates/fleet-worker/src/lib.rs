//! The frameio-fleet worker runtime.
//!
//! A worker consumes one RabbitMQ quorum queue per configured service account, runs each
//! job through the handler of its kind, publishes a result (or a retry copy, or a
//! dead-letter copy and a failure result) with publisher confirms, and acks the job only
//! after the broker confirmed. Nothing is held in memory that the broker does not also hold.
//!
//! - [`config`]: settings from defaults, a TOML file and `FLEET__` environment variables.
//! - [`topology`]: exchange and queue names and their idempotent declaration.
//! - [`handler`]: the [`JobHandler`](handler::JobHandler) trait that job kinds implement.
//! - [`execute`]: from a delivery to its [`Settlement`](execute::Settlement), broker-free.
//! - [`ledger`]: attempts in flight or awaiting their ack, so redeliveries are not re-run.
//! - [`worker`]: the supervised broker session, consumers, publishing, acks and shutdown.
//! - [`metrics`]: Prometheus metrics and the `/metrics`, `/healthz`, `/readyz` port.
//! - [`broker`]: connecting, publishing jobs and reading results (for tools and tests).
//! - [`logging`]: the tracing subscriber, text or JSON.

pub mod broker;
pub mod config;
pub mod execute;
pub mod handler;
pub mod ledger;
pub mod logging;
pub mod metrics;
pub mod topology;
pub mod worker;

pub use config::Settings;
pub use handler::{Handlers, JobHandler};
pub use metrics::Metrics;
pub use worker::{Worker, WorkerError};
