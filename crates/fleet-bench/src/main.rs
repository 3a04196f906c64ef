//! `fleet-bench`: the jobs per second of one worker through consume → `test.noop` → publish
//! result with confirm → ack, beside a loop written with lapin alone that does the same broker
//! work, which is the broker's own limit on this machine.
//!
//! Both sides are measured in one run, alternately, on a real RabbitMQ node, so that their
//! ratio is comparable even on a noisy machine. Each measurement gets the fleet topology under
//! a prefix of its own, declared by the worker's own code, in a vhost created for the run; its
//! account queue is filled with `test.noop` jobs before the clock starts.
//!
//! - [`baseline`]: the lapin-only loop, timed from its first delivery to its last ack.
//! - [`worker`]: `fleet worker` as a child process, timed from its start until every result
//!   is in the results queue; its peak RSS is read just before it is stopped.
//! - [`stage`]: the broker objects of one measurement, filled and torn down.
//! - [`machine`]: facts about the machine and the broker, and per-process readings.
//! - [`report`]: the table and the verdicts on the two goals.
//!
//! A missed goal is printed, not turned into a failure: the process fails only when the
//! benchmark itself could not run (no broker, no `fleet` binary, a lost job).

mod baseline;
mod machine;
mod report;
mod stage;
mod worker;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use lapin::Connection;

use crate::report::{Measurement, Round, Side};
use crate::stage::Stage;

/// Measures one worker beside a lapin-only loop on the same RabbitMQ node.
#[derive(Debug, Parser)]
#[command(name = "fleet-bench", about)]
struct Options {
    /// Rounds; each measures both sides once, the side that goes first alternating.
    #[arg(long, env = "FLEET_BENCH_ROUNDS", default_value_t = 5)]
    rounds: u32,

    /// Jobs per measurement.
    #[arg(long, env = "FLEET_BENCH_JOBS", default_value_t = 20_000)]
    jobs: usize,

    /// Jobs per side of a first round that is not reported: the first queues of a fresh
    /// vhost are slower, and that would weigh on whichever side came second. 0 skips it.
    #[arg(long, env = "FLEET_BENCH_WARMUP_JOBS", default_value_t = 2_000)]
    warmup_jobs: usize,

    /// Unacked deliveries per consumer, the same on both sides (`worker.prefetch`).
    #[arg(long, env = "FLEET_BENCH_PREFETCH", default_value_t = 64)]
    prefetch: u16,

    /// The longest one measurement may take, in seconds.
    #[arg(long, env = "FLEET_BENCH_TIMEOUT_SECS", default_value_t = 300)]
    timeout_secs: u64,

    /// An AMQP URL to run against instead of a fresh vhost made by `scripts/broker.sh`.
    #[arg(long, env = "FLEET_BENCH_URL")]
    url: Option<String>,

    /// The `fleet` binary; by default the one next to this executable.
    #[arg(long, env = "FLEET_BENCH_FLEET_BIN")]
    fleet_bin: Option<PathBuf>,

    /// The broker script that creates the run's vhost and tells the broker's pid.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/broker.sh"))]
    broker_script: PathBuf,
}

/// What every measurement of a run shares.
#[derive(Clone)]
struct Plan {
    url: String,
    vhost: Option<String>,
    run_id: String,
    rounds: u32,
    jobs: usize,
    warmup_jobs: usize,
    prefetch: u16,
    timeout: Duration,
    fleet: PathBuf,
    logs: PathBuf,
    broker_pid: Option<u32>,
}

fn main() -> ExitCode {
    let options = Options::parse();
    // One thread makes the loop the leanest client lapin allows (its I/O has a thread of its
    // own anyway), so that the loop measures the broker rather than its client.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("fleet-bench: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };

    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("fleet-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: Options) -> anyhow::Result<()> {
    anyhow::ensure!(options.rounds > 0, "--rounds must be at least 1");
    anyhow::ensure!(options.jobs > 0, "--jobs must be at least 1");
    anyhow::ensure!(options.prefetch > 0, "--prefetch must be at least 1");

    let plan = plan(&options)?;
    let measured = measure_rounds(&plan).await;
    if let Some(vhost) = &plan.vhost {
        machine::delete_vhost(&options.broker_script, vhost);
    }

    report::results(&measured?, &plan);
    Ok(())
}

/// Prints the header, then runs the warm-up and every round on one control connection.
async fn measure_rounds(plan: &Plan) -> anyhow::Result<Vec<Round>> {
    let facts = machine::Facts::gather(&plan.url).await?;
    report::header(&facts, plan);

    let probe = Stage::new(plan, "probe")?;
    let control = fleet_worker::broker::connect(probe.settings(), "fleet-bench control")
        .await
        .context("cannot connect to the broker")?;

    if plan.warmup_jobs > 0 {
        let small = Plan {
            jobs: plan.warmup_jobs,
            ..plan.clone()
        };
        run_round(&small, &control, 0).await?;
    }

    let mut measured = Vec::new();
    for round in 1..=plan.rounds {
        measured.push(run_round(plan, &control, round).await?);
    }
    let _ = control.close(200, "benchmark done".into()).await;
    Ok(measured)
}

/// Resolves the binary, the log folder, the broker URL (a fresh vhost unless one is given)
/// and the broker's pid.
fn plan(options: &Options) -> anyhow::Result<Plan> {
    let fleet = worker::fleet_binary(options.fleet_bin.as_deref())?;
    let logs = fleet
        .parent()
        .map(|dir| dir.join("bench-logs"))
        .context("the fleet binary has no folder")?;
    std::fs::create_dir_all(&logs)
        .with_context(|| format!("cannot create the log folder {}", logs.display()))?;
    forget_old_logs(&logs);

    let run_id = machine::run_id();
    let (url, vhost) = match &options.url {
        Some(url) => (url.clone(), None),
        None => {
            let vhost = format!("fleet-bench-{run_id}");
            let url = machine::create_vhost(&options.broker_script, &vhost)?;
            (url, Some(vhost))
        }
    };

    Ok(Plan {
        url,
        vhost,
        broker_pid: machine::broker_pid(&options.broker_script),
        run_id,
        rounds: options.rounds,
        jobs: options.jobs,
        warmup_jobs: options.warmup_jobs,
        prefetch: options.prefetch,
        timeout: Duration::from_secs(options.timeout_secs),
        fleet,
        logs,
    })
}

/// Removes the worker logs of earlier runs, so that the folder holds the last run's only.
fn forget_old_logs(logs: &Path) {
    let Ok(entries) = std::fs::read_dir(logs) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("worker-") && name.ends_with(".log") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Measures both sides once; odd rounds start with the loop, even rounds with the worker, so
/// that a drift of the machine during the run weighs on both alike. Both stages are filled
/// before either is measured, so that the two measurements of a round follow each other
/// closely and see the same machine.
async fn run_round(plan: &Plan, control: &Connection, round: u32) -> anyhow::Result<Round> {
    let order = match round % 2 {
        1 => [Side::Baseline, Side::Worker],
        _ => [Side::Worker, Side::Baseline],
    };
    let mut stages = Vec::new();
    for side in order {
        let stage = Stage::new(plan, &format!("{}{round}", side.prefix()))?;
        stage.prepare(control, plan.jobs).await?;
        stages.push((side, stage));
    }

    let mut baseline = None;
    let mut worker = None;
    for (side, stage) in &stages {
        let measurement = measure(plan, control, stage, *side, round)
            .await
            .with_context(|| format!("round {round}, {}", side.label()))?;
        report::progress(round, *side, &measurement);
        match side {
            Side::Baseline => baseline = Some(measurement),
            Side::Worker => worker = Some(measurement),
        }
    }

    for (_, stage) in &stages {
        stage.teardown(control).await?;
    }
    Ok(Round {
        number: round,
        first: order[0],
        baseline: baseline.expect("measured above"),
        worker: worker.expect("measured above"),
    })
}

async fn measure(
    plan: &Plan,
    control: &Connection,
    stage: &Stage,
    side: Side,
    round: u32,
) -> anyhow::Result<Measurement> {
    match side {
        Side::Baseline => baseline::measure(plan, stage).await,
        Side::Worker => {
            let log = plan
                .logs
                .join(format!("worker-{}-{round}.log", plan.run_id));
            worker::measure(plan, stage, control, &log).await
        }
    }
}
