//! The `fleet` command: a thin command line over the libraries of frameio-fleet.
//!
//! - `fleet worker`: runs a worker until SIGTERM or SIGINT.
//! - `fleet topology apply`: declares exchanges and queues, as a worker does at start.
//! - `fleet enqueue`: publishes jobs (sample or given) with confirms.
//! - `fleet results`: prints results from a queue.
//! - `fleet accounts check [ALIAS]`: proves that service accounts reach Frame.io.
//! - `fleet sim`: runs the Frame.io and IMS simulator in the foreground.
//! - `fleet demo`: runs the whole fleet once on embedded defaults and prints a summary.
//!
//! Every command reads the same settings: embedded defaults, then `--config FILE`, then
//! `FLEET__` environment variables (see `fleet_worker::config`).

mod accounts;
mod demo;
mod sim;
mod tools;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Runs Frame.io jobs from RabbitMQ under Adobe IMS service accounts.
#[derive(Debug, Parser)]
#[command(name = "fleet", version, about)]
pub struct Cli {
    /// A TOML settings file, layered over the embedded defaults and under `FLEET__`
    /// environment variables.
    #[arg(long, short, global = true, env = "FLEET_CONFIG")]
    config: Option<PathBuf>,

    /// The log format, over `log.format` of the settings: `text` for people, `json` for
    /// log pipelines.
    #[arg(long, global = true, value_parser = ["text", "json"])]
    log_format: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs a worker until SIGTERM or SIGINT.
    Worker,
    /// Manages the broker topology.
    Topology {
        #[command(subcommand)]
        action: TopologyAction,
    },
    /// Publishes jobs to the jobs exchange and waits for the broker's confirms.
    Enqueue(tools::EnqueueArgs),
    /// Prints results (one JSON object per line) from a results queue.
    Results(tools::ResultsArgs),
    /// Runs a worker, sample jobs and a summary on the embedded demo settings.
    Demo(demo::DemoArgs),
    /// Checks the configured Frame.io service accounts.
    Accounts {
        #[command(subcommand)]
        action: AccountsAction,
    },
    /// Runs the Frame.io and IMS simulator in the foreground until SIGINT or SIGTERM.
    Sim(frameio_sim::SimArgs),
}

#[derive(Debug, Subcommand)]
enum AccountsAction {
    /// Fetches a token for each account (or the one named), calls Frame.io as it and prints
    /// the user, accounts and workspaces it reaches; exits non-zero when any account fails.
    Check(accounts::CheckArgs),
}

#[derive(Debug, Subcommand)]
enum TopologyAction {
    /// Declares every exchange, queue and binding of the configuration (idempotent).
    Apply,
}

/// Parses the command line, runs the command and turns its outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();

    // The flag becomes the highest settings layer, as if given as FLEET__LOG__FORMAT. It is
    // set here, before the runtime starts any thread, so no other thread reads the
    // environment while it changes.
    if let Some(format) = &cli.log_format {
        std::env::set_var("FLEET__LOG__FORMAT", format);
    }

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("fleet: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };

    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("fleet: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config.as_deref();
    match cli.command {
        Command::Worker => worker::run(config).await,
        Command::Topology {
            action: TopologyAction::Apply,
        } => tools::apply_topology(config).await,
        Command::Enqueue(args) => tools::enqueue(config, args).await,
        Command::Results(args) => tools::results(config, args).await,
        Command::Demo(args) => demo::run(config, args).await,
        Command::Accounts {
            action: AccountsAction::Check(args),
        } => accounts::check(config, args).await,
        Command::Sim(args) => sim::run(args).await,
    }
}
