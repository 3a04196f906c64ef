//! What a run prints: a header with the machine and the broker, one line per measurement
//! while it runs (on stderr), then a table of the rounds and the verdicts on the two goals.
//!
//! The throughput goal is judged on the median over rounds of each round's ratio, worker to
//! loop, since the two sides of one round saw the same machine. The memory goal is judged on
//! the largest peak RSS of any worker of the run.

use std::time::Duration;

use crate::machine::Facts;
use crate::Plan;

/// The worker's throughput goal, as a share of the loop's.
const THROUGHPUT_GOAL: f64 = 0.80;

/// The worker's memory goal: peak RSS under this many bytes.
const MEMORY_GOAL_BYTES: u64 = 50 * 1024 * 1024;

const MIB: f64 = 1024.0 * 1024.0;

/// Which side a measurement is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The lapin-only loop.
    Baseline,
    /// `fleet worker`.
    Worker,
}

/// What one measurement found.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// Jobs settled.
    pub jobs: usize,
    /// The measured time (see the side's module for where it starts and stops).
    pub elapsed: Duration,
    /// For the worker: time from its start to its first result.
    pub startup: Option<Duration>,
    /// CPU time of the client process (the loop's or the worker's) over the measurement.
    pub client_cpu: Option<Duration>,
    /// CPU time of the broker over the measurement.
    pub broker_cpu: Option<Duration>,
    /// For the worker: its peak resident set size, in bytes.
    pub peak_rss: Option<u64>,
}

/// Both measurements of one round.
pub struct Round {
    /// The round's number, from 1.
    pub number: u32,
    /// The side measured first.
    pub first: Side,
    /// The loop's measurement.
    pub baseline: Measurement,
    /// The worker's measurement.
    pub worker: Measurement,
}

impl Side {
    /// The prefix of the side's stage names.
    pub fn prefix(self) -> &'static str {
        match self {
            Side::Baseline => "loop",
            Side::Worker => "worker",
        }
    }

    /// The side's name in the report.
    pub fn label(self) -> &'static str {
        match self {
            Side::Baseline => "lapin loop",
            Side::Worker => "worker",
        }
    }
}

impl Measurement {
    /// Jobs per second.
    pub fn rate(&self) -> f64 {
        self.jobs as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    fn per_job(&self, cpu: Option<Duration>) -> Option<f64> {
        cpu.map(|cpu| cpu.as_secs_f64() * 1e6 / self.jobs as f64)
    }
}

impl Round {
    /// The worker's jobs per second as a share of the loop's.
    pub fn ratio(&self) -> f64 {
        self.worker.rate() / self.baseline.rate()
    }
}

/// Prints what is measured, on what.
pub fn header(facts: &Facts, plan: &Plan) {
    println!("fleet-bench: one worker through consume → test.noop → publish result with confirm");
    println!("             → ack, beside a lapin-only loop doing the same broker work");
    println!();
    let model = facts.cpu_model.as_deref().unwrap_or("unknown CPU");
    let load = facts.load.as_deref().unwrap_or("?");
    println!(
        "machine  {} cores ({model}), load average {load}",
        facts.cores
    );
    println!("broker   {} at {}", facts.broker, facts.address);
    match &plan.vhost {
        Some(vhost) => println!("vhost    {vhost} (fresh for this run)"),
        None => println!("vhost    as given by --url"),
    }
    println!(
        "run      {} × {} jobs after a warm-up of {}, prefetch {}",
        count_of_rounds(plan.rounds as usize),
        plan.jobs,
        plan.warmup_jobs,
        plan.prefetch
    );
    println!("worker   {}", plan.fleet.display());
    println!();
}

/// One line on stderr as each measurement ends, so a long run shows it is alive. Round 0 is
/// the warm-up.
pub fn progress(round: u32, side: Side, measurement: &Measurement) {
    let round = match round {
        0 => "warm-up".to_owned(),
        n => format!("round {n}"),
    };
    eprintln!(
        "{round:<8} {:<10} {:>8.0} jobs/s in {:.2} s",
        side.label(),
        measurement.rate(),
        measurement.elapsed.as_secs_f64()
    );
}

/// Prints the table of rounds, the medians and the verdicts.
pub fn results(rounds: &[Round], plan: &Plan) {
    println!();
    println!(
        "{:<6} {:<7} {:>10} {:>10} {:>7} {:>8} {:>8} {:>15} {:>15}",
        "round", "first", "loop", "worker", "ratio", "worker", "worker", "client CPU", "broker CPU"
    );
    println!(
        "{:<6} {:<7} {:>10} {:>10} {:>7} {:>8} {:>8} {:>15} {:>15}",
        "", "", "jobs/s", "jobs/s", "", "start", "VmHWM", "µs/job l | w", "µs/job l | w"
    );
    for round in rounds {
        print_round(round);
    }

    let median_loop = median(rounds.iter().map(|r| r.baseline.rate()));
    let median_worker = median(rounds.iter().map(|r| r.worker.rate()));
    let median_ratio = median(rounds.iter().map(Round::ratio));
    println!(
        "{:<14} {:>10.0} {:>10.0} {:>6.1}%",
        "median",
        median_loop,
        median_worker,
        median_ratio * 100.0
    );
    println!();

    verdicts(rounds, median_ratio, plan);
}

fn print_round(round: &Round) {
    let worker = &round.worker;
    let baseline = &round.baseline;
    let start = worker
        .startup
        .map_or("?".into(), |d| format!("{} ms", d.as_millis()));
    let rss = worker
        .peak_rss
        .map_or("?".into(), |bytes| format!("{:.1} MiB", bytes as f64 / MIB));
    let client = pair(
        baseline.per_job(baseline.client_cpu),
        worker.per_job(worker.client_cpu),
    );
    let broker = pair(
        baseline.per_job(baseline.broker_cpu),
        worker.per_job(worker.broker_cpu),
    );
    println!(
        "{:<6} {:<7} {:>10.0} {:>10.0} {:>6.1}% {:>8} {:>8} {:>15} {:>15}",
        round.number,
        match round.first {
            Side::Baseline => "loop",
            Side::Worker => "worker",
        },
        baseline.rate(),
        worker.rate(),
        round.ratio() * 100.0,
        start,
        rss,
        client,
        broker
    );
}

fn verdicts(rounds: &[Round], median_ratio: f64, plan: &Plan) {
    let verdict = |pass: bool| if pass { "PASS" } else { "FAIL" };
    println!(
        "{} throughput: the worker reaches {:.1}% of the lapin loop (median of {} × {} jobs; \
         goal ≥ {:.0}%)",
        verdict(median_ratio >= THROUGHPUT_GOAL),
        median_ratio * 100.0,
        count_of_rounds(rounds.len()),
        plan.jobs,
        THROUGHPUT_GOAL * 100.0
    );

    let peak = rounds.iter().filter_map(|r| r.worker.peak_rss).max();
    match peak {
        Some(peak) => println!(
            "{} memory: the worker's peak RSS is {:.1} MiB (largest VmHWM of the run; goal < {:.0} \
             MiB)",
            verdict(peak < MEMORY_GOAL_BYTES),
            peak as f64 / MIB,
            MEMORY_GOAL_BYTES as f64 / MIB
        ),
        None => println!("FAIL memory: the worker's VmHWM could not be read from /proc"),
    }
}

fn count_of_rounds(count: usize) -> String {
    match count {
        1 => "1 round".to_owned(),
        n => format!("{n} rounds"),
    }
}

fn pair(left: Option<f64>, right: Option<f64>) -> String {
    let show = |value: Option<f64>| value.map_or("?".into(), |v| format!("{v:.0}"));
    format!("{} | {}", show(left), show(right))
}

/// The median of `values`; the mean of the middle two for an even count.
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_takes_the_middle_value_or_the_mean_of_the_middle_two() {
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), 2.0);
        assert_eq!(median([4.0, 1.0, 2.0, 3.0].into_iter()), 2.5);
        assert!(median(std::iter::empty()).is_nan());
    }
}
