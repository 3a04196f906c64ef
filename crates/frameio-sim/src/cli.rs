//! Command-line options of the `frameio-sim` binary, shared with the `fleet sim` command.

use std::net::SocketAddr;
use std::path::PathBuf;

use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};

use crate::config::{RateLimitMode, Seed, SimConfig};
use crate::error::SimError;
use crate::reachable;

/// Options of the simulator's command line.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, env = "FRAMEIO_SIM_LISTEN", default_value = "127.0.0.1:8470")]
    pub listen: SocketAddr,
    /// JSON seed file with service accounts, accounts, workspaces and projects; the
    /// built-in seed (see the crate README) when absent.
    #[arg(long, env = "FRAMEIO_SIM_SEED")]
    pub seed: Option<PathBuf>,
    /// Factor applied to every published rate limit (10 allows ten times the requests).
    #[arg(long, env = "FRAMEIO_SIM_RATE_SCALE", default_value_t = 1.0)]
    pub rate_scale: f64,
    /// Lifetime of issued IMS tokens in seconds.
    #[arg(
        long,
        env = "FRAMEIO_SIM_TOKEN_LIFETIME_SECS",
        default_value_t = 86_399
    )]
    pub token_lifetime_secs: u64,
    /// Enforce at most `limit` requests in any window instead of Frame.io's leaky bucket.
    #[arg(long, env = "FRAMEIO_SIM_SLIDING_WINDOW")]
    pub sliding_window: bool,
    /// Target size of one local-upload part in bytes.
    #[arg(long, env = "FRAMEIO_SIM_PART_SIZE", default_value_t = crate::config::DEFAULT_PART_SIZE)]
    pub part_size: u64,
}

impl SimArgs {
    /// The configuration these options describe.
    pub fn config(&self) -> Result<SimConfig, SimError> {
        let seed = match &self.seed {
            Some(path) => Seed::from_file(path)?,
            None => Seed::default(),
        };
        Ok(SimConfig {
            seed,
            token_lifetime_secs: self.token_lifetime_secs,
            rate_scale: self.rate_scale,
            rate_limit_mode: if self.sliding_window {
                RateLimitMode::SlidingWindow
            } else {
                RateLimitMode::LeakyBucket
            },
            upload_part_size: self.part_size,
            ..SimConfig::default()
        })
    }
}

/// Runs the simulator with these options until SIGINT (Ctrl-C) or SIGTERM.
///
/// Once the port is bound it prints one line to standard output,
/// `Frame.io simulator listening on http://ADDR`, so that scripts and tests that asked for
/// port 0 learn the real one; Frame.io is under `/v4` and IMS under `/ims/token/v3` there.
pub async fn run_cli(args: SimArgs) -> Result<(), SimError> {
    let config = args.config()?;
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: args.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(SimError::LocalAddr)?;

    for account in &config.seed.service_accounts {
        tracing::info!(client_id = %account.client_id, "service account available");
    }
    // The handlers are installed before the ready line, so that a signal sent as soon as it
    // is read stops the server instead of killing the process.
    let stop = stop_signal();
    println!("Frame.io simulator listening on http://{}", reachable(addr));
    crate::serve(config, listener, stop).await
}

/// Installs SIGINT (Ctrl-C) and SIGTERM handlers now and returns a future that resolves on
/// the first of them; SIGTERM is how Kubernetes and process supervisors stop a process.
fn stop_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    let terminate = signal(SignalKind::terminate());
    let interrupt = signal(SignalKind::interrupt());

    async move {
        let (mut terminate, mut interrupt) = match (terminate, interrupt) {
            (Ok(terminate), Ok(interrupt)) => (terminate, interrupt),
            (Err(error), _) | (_, Err(error)) => {
                tracing::warn!(%error, "cannot listen for stop signals; kill the process instead");
                return std::future::pending().await;
            }
        };
        let name = tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        };
        tracing::info!(signal = name, "stopping");
    }
}
