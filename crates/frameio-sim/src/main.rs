//! The `frameio-sim` binary: a Frame.io V4 and Adobe IMS simulator on one port.

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// A Frame.io V4 and Adobe IMS simulator for tests, benchmarks and demos.
#[derive(Debug, Parser)]
#[command(name = "frameio-sim", version)]
struct Cli {
    #[command(flatten)]
    sim: frameio_sim::SimArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Logs go to standard error: standard output carries the address line that scripts read.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    match frameio_sim::run_cli(cli.sim).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "simulator failed");
            std::process::ExitCode::FAILURE
        }
    }
}
