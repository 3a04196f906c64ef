//! `fleet sim`: the Frame.io and IMS simulator in the foreground, with the options of the
//! `frameio-sim` binary.
//!
//! It prints `Frame.io simulator listening on http://ADDR` once bound; pointing
//! `FLEET__FRAMEIO__API_BASE_URL` and `FLEET__FRAMEIO__IMS_BASE_URL` at that URL makes
//! workers and `fleet accounts check` use it. SIGINT or SIGTERM stops it with exit code 0.

use std::process::ExitCode;

use anyhow::Context;
use fleet_worker::config::{LogFormat, LogSettings};

/// Runs the simulator until SIGINT or SIGTERM.
///
/// The worker settings are not read: the simulator needs none of them, and a configuration
/// made for a worker (accounts whose secrets live elsewhere) must not stop it from starting.
/// Logs are text on standard error, filtered by `RUST_LOG` (default `info`).
pub async fn run(args: frameio_sim::SimArgs) -> anyhow::Result<ExitCode> {
    fleet_worker::logging::init(&LogSettings {
        format: LogFormat::Text,
        filter: "info".to_owned(),
    });

    let listen = args.listen;
    frameio_sim::run_cli(args)
        .await
        .with_context(|| format!("the simulator on {listen} failed"))?;
    Ok(ExitCode::SUCCESS)
}
