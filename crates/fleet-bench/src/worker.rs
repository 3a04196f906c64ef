//! The worker side: `fleet worker` as a child process over a filled account queue.
//!
//! The clock starts when the child is spawned and stops when the results queue holds one
//! result per job, read by a passive declare every few milliseconds: nothing is subtracted,
//! so the worker's start (connecting, declaring the topology, consuming) counts against it,
//! and the time to its first result is reported beside. The child's peak RSS (`VmHWM`) and
//! CPU time are read just before it is sent SIGTERM; it must then exit 0, leaving no job in
//! its queue and exactly one result per job.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use lapin::Connection;
use rustix::process::{kill_process, Pid, Signal};
use tokio::process::{Child, Command};

use crate::machine;
use crate::report::Measurement;
use crate::stage::{self, Stage};
use crate::Plan;

/// The shortest and the longest pause between two readings of the results queue. The pause
/// shrinks as the last result nears, so that the end is seen within a few milliseconds while
/// the readings add little work to the broker the rest of the time.
const POLL_MIN: Duration = Duration::from_millis(5);
const POLL_MAX: Duration = Duration::from_millis(100);

/// How long the worker may take to exit after SIGTERM: its grace period and some.
const EXIT_TIMEOUT: Duration = Duration::from_secs(40);

/// The `fleet` binary: `given`, or the release build next to this executable.
pub fn fleet_binary(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = match given {
        Some(path) => path.to_owned(),
        None => std::env::current_exe()
            .context("cannot locate this executable")?
            .with_file_name("fleet"),
    };
    anyhow::ensure!(
        path.is_file(),
        "{} not found; build it first with `cargo build --release -p fleet --bin fleet` \
         (`make bench` does)",
        path.display()
    );
    Ok(path)
}

/// Runs one worker over the stage's filled account queue until every job has its result.
pub async fn measure(
    plan: &Plan,
    stage: &Stage,
    control: &Connection,
    log: &Path,
) -> anyhow::Result<Measurement> {
    let channel = control.create_channel().await?;
    let broker_before = plan.broker_pid.and_then(machine::cpu_time);
    let started = Instant::now();
    let mut child = spawn(&plan.fleet, stage, log)?;
    let pid = child.id().context("the worker exited at once")?;

    let progress = await_results(&channel, stage, plan, &mut child, started).await;
    let elapsed = started.elapsed();
    let broker_cpu = plan
        .broker_pid
        .and_then(|pid| machine::cpu_since(pid, broker_before));
    let peak_rss = machine::peak_rss(pid);
    let client_cpu = machine::cpu_time(pid);

    let stopped = stop(&mut child, pid).await;
    let startup = progress.with_context(|| format!("worker log: {}", log.display()))?;
    let status = stopped.with_context(|| format!("worker log: {}", log.display()))?;
    anyhow::ensure!(
        status.success(),
        "the worker exited with {status} after SIGTERM; its log: {}",
        log.display()
    );
    check_nothing_lost(&channel, stage, plan.jobs).await?;
    let _ = channel.close(200, "worker measured".into()).await;

    Ok(Measurement {
        jobs: plan.jobs,
        elapsed,
        startup: Some(startup),
        client_cpu,
        broker_cpu,
        peak_rss,
    })
}

/// Starts `fleet worker` with the stage's settings only: `FLEET__` variables, a
/// configuration file and `RUST_LOG` of this process do not reach it.
fn spawn(fleet: &Path, stage: &Stage, log: &Path) -> anyhow::Result<Child> {
    let output = std::fs::File::create(log)
        .with_context(|| format!("cannot create the worker log {}", log.display()))?;
    let errors = output.try_clone()?;

    let mut command = Command::new(fleet);
    command
        .arg("worker")
        .stdin(Stdio::null())
        .stdout(output)
        .stderr(errors)
        .kill_on_drop(true);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("FLEET__") || key == "FLEET_CONFIG" || key == "RUST_LOG" {
            command.env_remove(key.as_ref());
        }
    }
    command.envs(stage.env().iter().cloned());
    // The log goes to a file: plain text reads better there than colour codes.
    command.env("NO_COLOR", "1");

    command
        .spawn()
        .with_context(|| format!("cannot start {} worker", fleet.display()))
}

/// Waits until the results queue holds a result per job; returns the time to the first.
async fn await_results(
    channel: &lapin::Channel,
    stage: &Stage,
    plan: &Plan,
    child: &mut Child,
    started: Instant,
) -> anyhow::Result<Duration> {
    let queue = stage.results_queue();
    let mut first = None;
    loop {
        let results = stage::message_count(channel, &queue).await? as usize;
        let elapsed = started.elapsed();
        if results > 0 {
            first.get_or_insert(elapsed);
        }
        if results >= plan.jobs {
            return Ok(first.unwrap_or_default());
        }

        if let Some(status) = child.try_wait()? {
            anyhow::bail!("the worker exited with {status} after {results} results");
        }
        anyhow::ensure!(
            started.elapsed() < plan.timeout,
            "only {results} of {} results after {:?}",
            plan.jobs,
            plan.timeout
        );
        let running = elapsed.saturating_sub(first.unwrap_or(elapsed));
        tokio::time::sleep(pause(results, plan.jobs, running)).await;
    }
}

/// The pause before the next reading: half the time the missing results should take at the
/// rate seen so far, within [`POLL_MIN`] and [`POLL_MAX`].
fn pause(results: usize, jobs: usize, running: Duration) -> Duration {
    if results == 0 || running.is_zero() {
        return POLL_MIN;
    }
    let rate = results as f64 / running.as_secs_f64();
    let left = Duration::from_secs_f64((jobs - results.min(jobs)) as f64 / rate);
    (left / 2).clamp(POLL_MIN, POLL_MAX)
}

/// Sends SIGTERM to the worker by its pid and waits for it to exit; kills it if it does not.
async fn stop(child: &mut Child, pid: u32) -> anyhow::Result<ExitStatus> {
    if let Some(status) = child.try_wait()? {
        return Ok(status);
    }
    let target = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .context("the worker's pid is out of range")?;
    kill_process(target, Signal::TERM).context("cannot send SIGTERM to the worker")?;

    match tokio::time::timeout(EXIT_TIMEOUT, child.wait()).await {
        Ok(status) => Ok(status?),
        Err(_) => {
            child.kill().await?;
            anyhow::bail!("the worker did not exit within {EXIT_TIMEOUT:?} of SIGTERM")
        }
    }
}

/// After the worker stopped: its queue is empty and every job has exactly one result.
async fn check_nothing_lost(
    channel: &lapin::Channel,
    stage: &Stage,
    jobs: usize,
) -> anyhow::Result<()> {
    let left = stage::message_count(channel, &stage.account_queue()).await?;
    anyhow::ensure!(left == 0, "{left} jobs were left in the account queue");

    let results = stage::message_count(channel, &stage.results_queue()).await? as usize;
    anyhow::ensure!(
        results == jobs,
        "{results} results for {jobs} jobs (a duplicate or a lost result)"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_shrinks_as_the_last_result_nears() {
        let second = Duration::from_secs(1);

        assert_eq!(pause(0, 20_000, Duration::ZERO), POLL_MIN);
        assert_eq!(pause(1_000, 20_000, second), POLL_MAX);
        assert_eq!(pause(19_990, 20_000, 2 * second), POLL_MIN);
        let near = pause(19_000, 20_000, 2 * second);
        assert!(near > POLL_MIN && near < POLL_MAX, "{near:?}");
    }
}
