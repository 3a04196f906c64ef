//! Prometheus metrics of a worker and the HTTP port that serves them with health checks.
//!
//! Every label is bounded: `account` is a configured alias or `unrouted`, `kind` a known job
//! kind or `unknown`, `outcome` and `reason` come from fixed lists. Values that come from
//! messages are mapped through [`Metrics::kind_label`] before they become a label.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use fleet_protocol::JobSpec;
use prometheus::{
    exponential_buckets, Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    Opts, Registry, TextEncoder,
};

/// The label value used for jobs of an unknown or unreadable kind.
pub const UNKNOWN_KIND: &str = "unknown";

/// The metrics of one worker process, registered in a registry of their own.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Jobs that ended, by account, kind and outcome (`succeeded` or `failed`).
    pub jobs: IntCounterVec,
    /// Retry copies sent to a delay queue, by account, kind and reason (an error class:
    /// `transient` or `timeout`).
    pub retries: IntCounterVec,
    /// Messages sent to the dead-letter queue, by account and reason (an error class).
    pub dead_letters: IntCounterVec,
    /// Time a job's handler ran, by account and kind.
    pub job_duration: HistogramVec,
    /// Time from a job's `created_at` to the start of its attempt, by account.
    pub queue_wait: HistogramVec,
    /// Jobs running now.
    pub in_flight: IntGauge,
    /// Time from publishing a result (or retry or dead-letter copy) to the broker's confirm.
    pub confirm_latency: HistogramVec,
    /// 1 while the worker holds a connection to the broker, else 0.
    pub broker_connected: IntGauge,
    /// Connections re-established after a loss.
    pub broker_reconnects: IntCounter,
    /// Deliveries of a job whose settlement this worker already held (redeliveries).
    pub duplicates: IntCounterVec,
    ready: Arc<AtomicBool>,
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let seconds = |start, count| exponential_buckets(start, 2.0, count).expect("buckets");

        let metrics = Metrics {
            jobs: IntCounterVec::new(
                Opts::new("fleet_jobs_total", "Jobs that ended, by outcome."),
                &["account", "kind", "outcome"],
            )
            .expect("metric"),
            retries: IntCounterVec::new(
                Opts::new(
                    "fleet_job_retries_total",
                    "Retries scheduled through delay queues, by reason.",
                ),
                &["account", "kind", "reason"],
            )
            .expect("metric"),
            dead_letters: IntCounterVec::new(
                Opts::new(
                    "fleet_dead_letters_total",
                    "Messages dead-lettered, by reason.",
                ),
                &["account", "reason"],
            )
            .expect("metric"),
            job_duration: HistogramVec::new(
                HistogramOpts::new("fleet_job_duration_seconds", "Time a job attempt ran.")
                    .buckets(seconds(0.000_25, 18)),
                &["account", "kind"],
            )
            .expect("metric"),
            queue_wait: HistogramVec::new(
                HistogramOpts::new(
                    "fleet_job_queue_wait_seconds",
                    "Time from a job's creation to the start of an attempt.",
                )
                .buckets(seconds(0.001, 20)),
                &["account"],
            )
            .expect("metric"),
            in_flight: IntGauge::new("fleet_jobs_in_flight", "Jobs running now.").expect("metric"),
            confirm_latency: HistogramVec::new(
                HistogramOpts::new(
                    "fleet_publish_confirm_seconds",
                    "Time from a publish to the broker's confirm, by message type.",
                )
                .buckets(seconds(0.000_1, 16)),
                &["message"],
            )
            .expect("metric"),
            broker_connected: IntGauge::new(
                "fleet_broker_connected",
                "1 while connected to the broker.",
            )
            .expect("metric"),
            broker_reconnects: IntCounter::new(
                "fleet_broker_reconnects_total",
                "Broker connections re-established after a loss.",
            )
            .expect("metric"),
            duplicates: IntCounterVec::new(
                Opts::new(
                    "fleet_duplicate_deliveries_total",
                    "Redeliveries of jobs this worker had already settled or was running.",
                ),
                &["account"],
            )
            .expect("metric"),
            registry,
            ready: Arc::new(AtomicBool::new(false)),
        };
        metrics.register_all();
        metrics
    }

    fn register_all(&self) {
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(self.jobs.clone()),
            Box::new(self.retries.clone()),
            Box::new(self.dead_letters.clone()),
            Box::new(self.job_duration.clone()),
            Box::new(self.queue_wait.clone()),
            Box::new(self.in_flight.clone()),
            Box::new(self.confirm_latency.clone()),
            Box::new(self.broker_connected.clone()),
            Box::new(self.broker_reconnects.clone()),
            Box::new(self.duplicates.clone()),
        ];
        for collector in collectors {
            self.registry
                .register(collector)
                .expect("unique metric names");
        }
    }

    /// A bounded label for a kind read from a message.
    pub fn kind_label(kind: &str) -> &'static str {
        let known = JobSpec::KINDS.iter().find(|known| **known == kind);
        known.copied().unwrap_or(UNKNOWN_KIND)
    }

    /// Marks the worker ready (connected and consuming) or not, for `/readyz`.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    /// Whether the worker is connected and consuming.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("text encoding of gathered metrics");
        String::from_utf8(buffer).expect("prometheus text is UTF-8")
    }

    /// The router of the metrics port: `/metrics`, `/healthz` (alive) and `/readyz`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/metrics", get(metrics_page))
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/readyz", get(readiness))
            .with_state(self.clone())
    }

    /// Binds `listen` for [`Metrics::serve`]; port 0 picks a free port.
    pub async fn bind(listen: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
        tokio::net::TcpListener::bind(listen).await
    }

    /// Serves [`Metrics::router`] on `listener` until `shutdown` resolves.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(address = %listener.local_addr()?, "metrics port open");
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

async fn metrics_page(State(metrics): State<Metrics>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(),
    )
}

async fn readiness(State(metrics): State<Metrics>) -> impl IntoResponse {
    if metrics.is_ready() {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}

/// Sums the samples of metric `name` in a text exposition whose labels include every pair
/// in `labels`. Reads `/metrics` pages in the demo and the tests.
pub fn sum_samples(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, label_text) = match series.split_once('{') {
                Some((metric, rest)) => (metric, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let wanted = labels.iter().all(|(key, val)| {
                label_text
                    .split(',')
                    .any(|pair| pair == format!("{key}=\"{val}\""))
            });
            (metric == name && wanted)
                .then(|| value.parse::<f64>().ok())
                .flatten()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_with_their_labels() {
        let metrics = Metrics::new();
        metrics
            .jobs
            .with_label_values(&["a", "test.noop", "succeeded"])
            .inc();
        let text = metrics.render();
        assert!(text
            .contains(r#"fleet_jobs_total{account="a",kind="test.noop",outcome="succeeded"} 1"#));
        assert_eq!(Metrics::kind_label("no.such.kind"), UNKNOWN_KIND);
        assert_eq!(Metrics::kind_label("test.fail"), "test.fail");
        assert_eq!(
            sum_samples(&text, "fleet_jobs_total", &[("account", "a")]),
            1.0
        );
        assert_eq!(
            sum_samples(&text, "fleet_jobs_total", &[("account", "b")]),
            0.0
        );
    }
}
