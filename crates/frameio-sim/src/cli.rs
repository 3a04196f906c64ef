//! Command-line options of the `frameio-sim` binary, shared with the `fleet sim` command.

use std::net::SocketAddr;
use std::path::PathBuf;

use tokio::net::TcpListener;

use crate::config::{RateLimitMode, Seed, SimConfig};
use crate::error::SimError;

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

/// Runs the simulator with these options until Ctrl-C.
pub async fn run_cli(args: SimArgs) -> Result<(), SimError> {
    let config = args.config()?;
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: args.listen,
            source,
        })?;
    for account in &config.seed.service_accounts {
        tracing::info!(client_id = %account.client_id, "service account available");
    }
    let shutdown = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C; stop the process instead");
            std::future::pending::<()>().await;
        }
        tracing::info!("Ctrl-C received, stopping");
    };
    crate::serve(config, listener, shutdown).await
}
