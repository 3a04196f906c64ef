//! Local-upload throughput and memory through the simulator.
//!
//! Generates a file (1 GiB unless `UPLOAD_BENCH_MIB` says otherwise), starts the simulator
//! in this process, uploads the file with the client's streaming part uploader and prints
//! the throughput and the process's peak resident memory (`VmHWM`), which stays far below
//! the file size because parts are streamed from disk in small reads. It fails when the
//! upload is incomplete or the peak grew by more than [`MAX_RSS_GROWTH_MIB`].
//!
//! The generated file is a temporary file, removed when the benchmark ends, fails, or is
//! stopped with SIGINT or SIGTERM.
//!
//! ```text
//! cargo run --release -p frameio --example upload_bench
//! UPLOAD_BENCH_MIB=256 UPLOAD_BENCH_CONCURRENCY=8 cargo run -p frameio --example upload_bench
//! ```

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use frameio::{Client, ClientConfig, Credentials};
use frameio_sim::{SimConfig, ALPHA};
use tokio::signal::unix::{signal, SignalKind};

const MIB: u64 = 1024 * 1024;

/// The most the peak resident memory may grow during the upload: a fraction of the default
/// 1 GiB file, so that a client holding the file in memory fails the benchmark.
const MAX_RSS_GROWTH_MIB: f64 = 256.0;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// A `/proc/self/status` field in KiB (`VmHWM`, `VmRSS`); `None` off Linux.
fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Writes `size` bytes of a repeating pattern, 1 MiB at a time.
fn generate(size: u64) -> std::io::Result<tempfile::NamedTempFile> {
    let mut file = tempfile::NamedTempFile::new()?;
    let block: Vec<u8> = (0..MIB as usize).map(|i| (i * 31 % 251) as u8).collect();
    let mut left = size;
    while left > 0 {
        let n = left.min(MIB) as usize;
        file.write_all(&block[..n])?;
        left -= n as u64;
    }
    file.flush()?;
    Ok(file)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let size = env_number("UPLOAD_BENCH_MIB", 1024) * MIB;
    let concurrency = env_number("UPLOAD_BENCH_CONCURRENCY", 4) as usize;

    // The handlers are installed before the file exists: a signal then ends the run through
    // an ordinary return, so that the file is dropped (and deleted) on every way out.
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let file = generate(size)?;
    let outcome = tokio::select! {
        outcome = run(file.path(), size, concurrency) => outcome,
        _ = interrupt.recv() => Err("interrupted by SIGINT".into()),
        _ = terminate.recv() => Err("interrupted by SIGTERM".into()),
    };
    let path = file.path().to_owned();
    file.close()?;
    println!("temporary file:     {} removed", path.display());
    outcome
}

async fn run(path: &Path, size: u64, concurrency: usize) -> Result<(), Box<dyn std::error::Error>> {
    let before_kib = proc_status_kib("VmHWM:").unwrap_or_default();

    let sim = frameio_sim::spawn(SimConfig::default(), "127.0.0.1:0".parse()?).await?;
    let config = ClientConfig {
        upload_concurrency: concurrency,
        ..ClientConfig::with_base_url(&sim.base_url())
    };
    let client = Client::new(
        config,
        Credentials::new(ALPHA.client_id, ALPHA.client_secret),
    )?;

    let started = Instant::now();
    let uploaded = client
        .upload_local_file(
            ALPHA.account_id,
            ALPHA.root_folder_id,
            path,
            Some("bench.mov"),
        )
        .await?;
    let elapsed = started.elapsed();
    let status = client
        .file_upload_status(ALPHA.account_id, &uploaded.file.id)
        .await?;
    let stats = sim.stats();
    sim.shutdown().await;

    let mib = size as f64 / MIB as f64;
    let before_mib = before_kib as f64 / 1024.0;
    let peak_mib = proc_status_kib("VmHWM:").unwrap_or_default() as f64 / 1024.0;
    println!(
        "file size:          {mib:.0} MiB in {} parts",
        uploaded.parts
    );
    println!("part concurrency:   {concurrency}");
    println!("elapsed:            {:.2} s", elapsed.as_secs_f64());
    println!(
        "throughput:         {:.1} MiB/s",
        mib / elapsed.as_secs_f64()
    );
    println!("bytes at simulator: {}", stats.upload_bytes_received);
    println!("upload complete:    {}", status.upload_complete);
    println!("peak RSS before:    {before_mib:.1} MiB");
    println!("peak RSS (VmHWM):   {peak_mib:.1} MiB");
    if !status.upload_complete || stats.upload_bytes_received != size {
        return Err("the simulator did not receive the whole file".into());
    }
    if peak_mib - before_mib > MAX_RSS_GROWTH_MIB {
        return Err(format!("peak memory grew by more than {MAX_RSS_GROWTH_MIB} MiB").into());
    }
    Ok(())
}
