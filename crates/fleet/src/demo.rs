//! `fleet demo`: the fleet end to end on embedded defaults.
//!
//! Starts the Frame.io simulator in this process and checks the two demo service accounts
//! against it (IMS token, `/v4/me`, accounts and workspaces), declares the topology, starts
//! a worker with its metrics port, publishes a mix of sample jobs (quick, slow, retried,
//! failing, malformed, for an unknown account), waits for one result per job, then prints a
//! summary read from the worker's `/metrics` page beside what the results said.
//!
//! The sample jobs are of the `test.*` kinds, which need no Frame.io call.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fleet_protocol::kinds::{FailParams, NoopParams, SleepParams};
use fleet_protocol::{Job, JobId, JobSpec, Outcome};
use fleet_worker::broker::{self, job_properties, JobPublisher, ResultReader};
use fleet_worker::metrics::sum_samples;
use fleet_worker::topology::{self, Names};
use fleet_worker::{Handlers, Metrics, Settings, Worker};
use frameio_sim::SimConfig;
use tokio_util::sync::CancellationToken;

use crate::accounts;

/// The demo's defaults over the worker's: two service accounts (the simulator's built-in
/// test credentials), test kinds on, short retry delays, a free metrics port. The Frame.io
/// and IMS URLs of the simulator are added when it is up.
const DEMO_SETTINGS: &str = r#"
[worker]
enable_test_kinds = true
max_attempts = 4
retry_base_ms = 250
retry_max_ms = 2000
shutdown_grace_secs = 10

[metrics]
listen = "127.0.0.1:0"

[accounts.studio-a]
client_id = "sim-client-alpha"
client_secret = "sim-secret-alpha"

[accounts.agency-b]
client_id = "sim-client-beta"
client_secret = "sim-secret-beta"
prefetch = 16
"#;

/// Arguments of `fleet demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Quick `test.noop` jobs per account.
    #[arg(long, default_value_t = 500)]
    jobs: usize,
    /// Seconds to wait for all results.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
}

/// Runs the demo; exits non-zero when any job has no result.
pub async fn run(config: Option<&Path>, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let simulator = frameio_sim::spawn(SimConfig::default(), "127.0.0.1:0".parse()?)
        .await
        .context("starting the Frame.io simulator")?;
    let overlay = format!(
        "{DEMO_SETTINGS}\n[frameio]\napi_base_url = \"{url}\"\nims_base_url = \"{url}\"\n",
        url = simulator.base_url()
    );
    let settings = Settings::load_layered(Some(&overlay), config, None).context("demo settings")?;
    fleet_worker::logging::init(&settings.log);
    let names = Names::new(settings.topology.prefix.as_str());

    println!("Frame.io simulator at {}", simulator.base_url());
    let aliases: Vec<String> = settings.accounts.keys().cloned().collect();
    if accounts::check_and_print(&settings, &aliases).await? > 0 {
        bail!("a demo service account failed its check");
    }

    let connection = broker::connect(&settings, "fleet demo")
        .await
        .context("connecting to RabbitMQ (is it running? `make broker` starts it)")?;
    let channel = connection.create_channel().await?;
    topology::declare(&channel, &settings)
        .await
        .context("declaring the topology")?;
    let results_queue = format!("{}.results.demo", settings.topology.prefix);
    let mut reader = ResultReader::bind(&connection, &names, &results_queue, "#").await?;

    let worker = start_worker(settings.clone()).await?;
    println!("worker running; metrics at {}", worker.metrics_url);

    let started = Instant::now();
    let expected = publish_samples(&connection, &names, args.jobs).await?;
    println!("published {expected} jobs and malformed messages");

    let outcomes = collect(
        &mut reader,
        expected,
        Duration::from_secs(args.timeout_secs),
    )
    .await;
    let elapsed = started.elapsed();

    // A job is counted once its delivery is acked, which comes after its result is
    // published: the worker is drained before its page is read, so every job is counted.
    worker.stop.cancel();
    worker.task.await.context("worker task")??;
    let page = reqwest::get(&worker.metrics_url).await?.text().await?;
    worker.metrics_stop.cancel();
    let _ = channel
        .queue_delete(results_queue.as_str().into(), Default::default())
        .await;
    let _ = connection.close(200, "demo done".into()).await;

    simulator.shutdown().await;
    print_summary(&outcomes, &page, elapsed);
    let received: usize = outcomes.values().sum();
    if received < expected {
        bail!("{} of {expected} results missing", expected - received);
    }
    Ok(ExitCode::SUCCESS)
}

/// The demo's worker, run in this process, with its metrics port.
struct DemoWorker {
    /// The worker's `/metrics` page.
    metrics_url: String,
    /// Stops the worker: it drains its running jobs and returns.
    stop: CancellationToken,
    /// Stops the metrics port, which outlives the worker so its last figures can be read.
    metrics_stop: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), fleet_worker::WorkerError>>,
}

async fn start_worker(settings: Settings) -> anyhow::Result<DemoWorker> {
    let mut handlers = Handlers::new();
    handlers.register_test_kinds();
    let listener = Metrics::bind(settings.metrics.listen).await?;
    let metrics_url = format!("http://{}/metrics", listener.local_addr()?);

    let worker = Worker::new(settings, handlers);
    let metrics = worker.metrics();
    let metrics_stop = CancellationToken::new();
    let stopped = metrics_stop.clone();
    tokio::spawn(async move { metrics.serve(listener, stopped.cancelled_owned()).await });

    let stop = CancellationToken::new();
    let task = tokio::spawn(worker.run(stop.clone()));
    Ok(DemoWorker {
        metrics_url,
        stop,
        metrics_stop,
        task,
    })
}

/// Publishes the sample mix and returns how many results to expect.
async fn publish_samples(
    connection: &lapin::Connection,
    names: &Names,
    quick_per_account: usize,
) -> anyhow::Result<usize> {
    let mut jobs = Vec::new();
    for account in ["studio-a", "agency-b"] {
        let job = |spec: JobSpec| Job::new(JobId::random(), account, spec);
        jobs.extend((0..quick_per_account).map(|_| job(JobSpec::Noop(NoopParams {}))));
        jobs.extend((0..20).map(|i| {
            job(JobSpec::Sleep(SleepParams {
                millis: 50 + i * 20,
            }))
        }));
        let flaky = FailParams {
            transient_failures: 2,
            permanent: false,
        };
        jobs.extend((0..5).map(|_| job(JobSpec::Fail(flaky.clone()))));
        let doomed = FailParams {
            transient_failures: 0,
            permanent: true,
        };
        jobs.extend((0..3).map(|_| job(JobSpec::Fail(doomed.clone()))));
        let hopeless = FailParams {
            transient_failures: 99,
            permanent: false,
        };
        jobs.push(job(JobSpec::Fail(hopeless)));
    }
    jobs.push(Job::new(
        JobId::random(),
        "nobody",
        JobSpec::Noop(NoopParams {}),
    ));

    let publisher = JobPublisher::new(connection, names).await?;
    publisher.publish_many(&jobs, 256).await?;

    let job_body = |id: &str, kind: &str, params: &str| {
        format!(
            r#"{{"version":1,"id":"{id}","account":"studio-a","kind":"{kind}","params":{params}}}"#
        )
        .into_bytes()
    };
    let poison: [(&str, Vec<u8>); 4] = [
        ("not-json", b"this is not json".to_vec()),
        ("unknown-kind", job_body("p2", "file.melt", "{}")),
        (
            "bad-params",
            job_body("p3", "test.sleep", r#"{"millis":"soon"}"#),
        ),
        ("too-large", vec![b' '; 300 * 1024]),
    ];
    for (id, body) in &poison {
        publisher
            .publish_raw("studio-a", body, job_properties(id))
            .await?;
    }
    Ok(jobs.len() + poison.len())
}

/// Reads results until `expected` came or `timeout` passed; counts them by outcome and
/// error class.
async fn collect(
    reader: &mut ResultReader,
    expected: usize,
    timeout: Duration,
) -> BTreeMap<String, usize> {
    let deadline = Instant::now() + timeout;
    let mut outcomes = BTreeMap::new();
    let mut received = 0;
    while received < expected {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(result) = reader.next(left).await else {
            break;
        };
        let label = match (&result.outcome, &result.error) {
            (Outcome::Failed, Some(error)) => format!("failed: {}", error.class.as_str()),
            (outcome, _) => outcome.as_str().to_owned(),
        };
        *outcomes.entry(label).or_default() += 1;
        received += 1;
    }
    outcomes
}

fn print_summary(outcomes: &BTreeMap<String, usize>, page: &str, elapsed: Duration) {
    println!();
    println!("results received ({:.1}s):", elapsed.as_secs_f64());
    for (label, count) in outcomes {
        println!("  {label:<32} {count:>6}");
    }

    println!("worker metrics (/metrics):");
    let line = |label: &str, value: f64| println!("  {label:<32} {:>6}", value.round() as u64);
    line(
        "jobs succeeded",
        sum_samples(page, "fleet_jobs_total", &[("outcome", "succeeded")]),
    );
    line(
        "jobs failed",
        sum_samples(page, "fleet_jobs_total", &[("outcome", "failed")]),
    );
    line(
        "retries scheduled",
        sum_samples(page, "fleet_job_retries_total", &[]),
    );
    line(
        "dead-lettered",
        sum_samples(page, "fleet_dead_letters_total", &[]),
    );
    line(
        "duplicate deliveries",
        sum_samples(page, "fleet_duplicate_deliveries_total", &[]),
    );
    line(
        "broker reconnects",
        sum_samples(page, "fleet_broker_reconnects_total", &[]),
    );
    let count = sum_samples(page, "fleet_job_duration_seconds_count", &[]);
    let total = sum_samples(page, "fleet_job_duration_seconds_sum", &[]);
    if count > 0.0 {
        println!(
            "  {:<32} {:>6.1} ms",
            "mean job duration",
            total / count * 1000.0
        );
    }
}
