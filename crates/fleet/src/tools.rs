//! Operator tools: `fleet topology apply`, `fleet enqueue` and `fleet results`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fleet_protocol::{Job, JobId, JobSpec};
use fleet_worker::broker::{self, BrokerError, JobPublisher, ResultReader};
use fleet_worker::topology::{self, Names};
use fleet_worker::Settings;

/// Arguments of `fleet enqueue`.
#[derive(Debug, clap::Args)]
pub struct EnqueueArgs {
    /// The service-account alias the jobs run under.
    #[arg(long)]
    account: String,
    /// The job kind.
    #[arg(long, default_value = "test.noop")]
    kind: String,
    /// The kind's parameters, as a JSON object.
    #[arg(long, default_value = "{}")]
    params: String,
    /// How many jobs to publish.
    #[arg(long, default_value_t = 1)]
    count: usize,
    /// Publishes kept awaiting their confirm at once.
    #[arg(long, default_value_t = 256)]
    window: usize,
}

/// Arguments of `fleet results`.
#[derive(Debug, clap::Args)]
pub struct ResultsArgs {
    /// The queue to read; by default the queue of results no backend has bound.
    #[arg(long)]
    queue: Option<String>,
    /// Stop after this many results.
    #[arg(long)]
    max: Option<usize>,
    /// Stop when no result came for this many seconds.
    #[arg(long, default_value_t = 5)]
    idle_secs: u64,
}

fn load(config: Option<&Path>) -> anyhow::Result<Settings> {
    let settings = Settings::load(config).context("invalid configuration")?;
    fleet_worker::logging::init(&settings.log);
    Ok(settings)
}

/// Declares the topology of the configuration.
pub async fn apply_topology(config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let settings = load(config)?;
    let connection = broker::connect(&settings, "fleet topology apply").await?;
    let channel = connection.create_channel().await?;
    topology::declare(&channel, &settings)
        .await
        .context("declaring the topology")?;

    let names = Names::new(settings.topology.prefix.as_str());
    println!(
        "declared {} and the queues of {} accounts",
        names.jobs_exchange(),
        settings.accounts.len()
    );
    let _ = connection.close(200, "done".into()).await;
    Ok(ExitCode::SUCCESS)
}

/// Publishes `args.count` jobs of one kind.
pub async fn enqueue(config: Option<&Path>, args: EnqueueArgs) -> anyhow::Result<ExitCode> {
    let settings = load(config)?;
    let params: serde_json::Value =
        serde_json::from_str(&args.params).context("--params is not JSON")?;
    let template = serde_json::json!({"kind": args.kind, "params": params});
    let spec: JobSpec = serde_json::from_value(template)
        .with_context(|| format!("--kind {} with --params {}", args.kind, args.params))?;
    if let Err(reason) = spec.validate() {
        bail!("invalid --params: {reason}");
    }

    let jobs: Vec<Job> = (0..args.count)
        .map(|_| Job::new(JobId::random(), args.account.as_str(), spec.clone()))
        .collect();
    let connection = broker::connect(&settings, "fleet enqueue").await?;
    let publisher = JobPublisher::new(&connection, &Names::new(&settings.topology.prefix)).await?;

    let started = Instant::now();
    publisher
        .publish_many(&jobs, args.window)
        .await
        .context("publishing jobs")?;
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!(
        "published {} jobs in {elapsed:.2}s ({:.0}/s), all confirmed",
        jobs.len(),
        jobs.len() as f64 / elapsed.max(1e-9)
    );
    let _ = connection.close(200, "done".into()).await;
    Ok(ExitCode::SUCCESS)
}

/// Prints results as JSON lines until `--max` or `--idle-secs` of silence.
pub async fn results(config: Option<&Path>, args: ResultsArgs) -> anyhow::Result<ExitCode> {
    let settings = load(config)?;
    let names = Names::new(settings.topology.prefix.as_str());
    let queue = args.queue.unwrap_or_else(|| names.results_default());
    let connection = broker::connect(&settings, "fleet results").await?;
    let channel = connection.create_channel().await?;
    let mut reader = ResultReader::consume(&channel, &queue).await?;

    let idle = Duration::from_secs(args.idle_secs);
    let mut stdout = std::io::stdout().lock();
    let mut count = 0;
    while args.max.is_none_or(|max| count < max) {
        let received = match reader.next_unacked(idle).await {
            Ok(received) => received,
            Err(BrokerError::Timeout(_)) => break,
            Err(error) => return Err(error.into()),
        };

        // A result is acked only once its line is written: when the reader of our output
        // goes away (`fleet results | head`), the unwritten results stay in the queue.
        let line = serde_json::to_string(&received.result)?;
        if writeln!(stdout, "{line}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            break;
        }
        received.ack().await?;
        count += 1;
    }
    eprintln!("{count} results");
    let _ = connection.close(200, "done".into()).await;
    Ok(ExitCode::SUCCESS)
}
