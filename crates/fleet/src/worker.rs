//! `fleet worker`: a worker process with its metrics port, stopped by SIGTERM or SIGINT.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use fleet_worker::{Handlers, Settings, Worker};
use tokio_util::sync::CancellationToken;

/// Loads the settings, serves metrics and runs the worker until a stop signal.
pub async fn run(config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(config).context("invalid configuration")?;
    fleet_worker::logging::init(&settings.log);

    let mut handlers = Handlers::new();
    if settings.worker.enable_test_kinds {
        handlers.register_test_kinds();
    }
    let listen = settings.metrics.listen;
    let worker = Worker::new(settings, handlers);

    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));

    let listener = fleet_worker::Metrics::bind(listen)
        .await
        .with_context(|| format!("cannot open the metrics port {listen}"))?;
    let metrics = worker.metrics();
    let stopped = shutdown.clone();
    let server = tokio::spawn(async move {
        metrics
            .serve(listener, async move { stopped.cancelled().await })
            .await
    });

    tracing::info!(pid = std::process::id(), "worker starting");
    worker.run(shutdown.clone()).await?;
    shutdown.cancel();
    let _ = server.await;
    Ok(ExitCode::SUCCESS)
}

/// Cancels `shutdown` on the first SIGTERM or SIGINT.
pub async fn stop_on_signal(shutdown: CancellationToken) {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = terminate.recv() => tracing::info!(signal = "SIGTERM", "stopping"),
        _ = tokio::signal::ctrl_c() => tracing::info!(signal = "SIGINT", "stopping"),
    }
    shutdown.cancel();
}
