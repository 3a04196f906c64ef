//! Facts about the machine and the broker, and readings of a process from `/proc`.
//!
//! CPU times come from `/proc/<pid>/stat`, counted in the kernel's user-visible clock ticks,
//! which Linux fixes at 100 per second for every process. Peak memory is `VmHWM` from
//! `/proc/<pid>/status`: the largest resident set the process ever had.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use lapin::protocol::{connection, AMQPClass};
use lapin::types::AMQPValue;
use lapin::uri::AMQPUri;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`), the same on every Linux.
const TICKS_PER_SECOND: u64 = 100;

/// The largest `connection.start` frame accepted from a broker.
const MAX_START_FRAME: usize = 64 * 1024;

/// What the report says about the machine and the broker.
pub struct Facts {
    /// Logical cores this process may use.
    pub cores: usize,
    /// The CPU's model name, when `/proc/cpuinfo` tells it.
    pub cpu_model: Option<String>,
    /// The load average over the last minute at the start of the run.
    pub load: Option<String>,
    /// Product, version and platform as the broker announces them.
    pub broker: String,
    /// Host and port of the broker.
    pub address: String,
}

impl Facts {
    /// Reads the machine's facts and asks the broker at `url` what it is.
    pub async fn gather(url: &str) -> anyhow::Result<Facts> {
        let uri: AMQPUri = url
            .parse()
            .map_err(|error| anyhow::anyhow!("the broker URL is not an AMQP URL: {error}"))?;
        let (host, port) = (uri.authority.host.as_str(), uri.authority.port);
        let broker = broker_product(host, port)
            .await
            .with_context(|| format!("cannot reach the broker on {host}:{port}"))?;

        Ok(Facts {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model: cpu_model(),
            load: std::fs::read_to_string("/proc/loadavg")
                .ok()
                .and_then(|text| text.split_whitespace().next().map(str::to_owned)),
            broker,
            address: format!("{host}:{port}"),
        })
    }
}

/// A name for this run, unique on this machine: seconds since the epoch and the pid.
pub fn run_id() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    format!("{seconds}-{}", std::process::id())
}

/// Creates `vhost` with the broker script and returns its AMQP URL. The script reads the
/// node's name and port from `FLEET_BROKER_NAME` and `FLEET_BROKER_PORT`.
pub fn create_vhost(script: &Path, vhost: &str) -> anyhow::Result<String> {
    let output = script_command(script)
        .args(["vhost", vhost])
        .output()
        .with_context(|| format!("cannot run {}", script.display()))?;
    anyhow::ensure!(
        output.status.success(),
        "{} vhost {vhost} failed ({}): {}; is the node up (`scripts/broker.sh start`)?",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let url = String::from_utf8(output.stdout).context("the vhost URL is not UTF-8")?;
    Ok(url.trim().to_owned())
}

/// Deletes the run's vhost with everything left in it, when the broker script can; a script
/// without `delete-vhost` leaves it (its queues are deleted after each round anyway).
pub fn delete_vhost(script: &Path, vhost: &str) {
    let _ = script_command(script)
        .args(["delete-vhost", vhost])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The OS pid of the broker's VM, when the broker script knows it.
pub fn broker_pid(script: &Path) -> Option<u32> {
    let output = script_command(script)
        .arg("pid")
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    output.status.success().then(|| text.trim().parse().ok())?
}

/// The CPU time (user and system, all threads) that process `pid` has used.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after it start with the state
    // (field 3), so utime (14) and stime (15) are the 12th and 13th after the name.
    let (_, after_name) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis(
        (user + system) * 1000 / TICKS_PER_SECOND,
    ))
}

/// The CPU time process `pid` used since the reading `before`.
pub fn cpu_since(pid: u32, before: Option<Duration>) -> Option<Duration> {
    Some(cpu_time(pid)?.saturating_sub(before?))
}

/// The peak resident set size of process `pid`, in bytes (`VmHWM`).
pub fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A call of the broker script. It runs in the temporary folder because RabbitMQ's CLI leaves
/// an `erl_crash.dump` in its working directory when it cannot start (a node that is down).
fn script_command(script: &Path) -> Command {
    let mut command = Command::new(script);
    command
        .stdin(Stdio::null())
        .current_dir(std::env::temp_dir());
    command
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = info.lines().find(|line| line.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_owned())
}

/// Opens an AMQP handshake and reads what the broker says of itself in `connection.start`
/// (lapin does not expose the server properties), then drops the socket.
async fn broker_product(host: &str, port: u16) -> anyhow::Result<String> {
    let mut socket = TcpStream::connect((host, port)).await?;
    socket.write_all(b"AMQP\x00\x00\x09\x01").await?;

    let mut header = [0u8; 7];
    socket.read_exact(&mut header).await?;
    let size = u32::from_be_bytes([header[3], header[4], header[5], header[6]]) as usize;
    anyhow::ensure!(
        header[0] == 1 && size <= MAX_START_FRAME,
        "the broker did not answer with an AMQP 0-9-1 method frame"
    );
    let mut payload = vec![0u8; size];
    socket.read_exact(&mut payload).await?;

    let start = match lapin::protocol::parse_class(&payload[..]) {
        Ok((_, AMQPClass::Connection(connection::AMQPMethod::Start(start)))) => start,
        _ => anyhow::bail!("the broker's first frame is not connection.start"),
    };
    let properties = start.server_properties.inner();
    let text = |key: &str| match properties.get(key) {
        Some(AMQPValue::LongString(value)) => String::from_utf8_lossy(value.as_bytes()).into(),
        _ => String::from("?"),
    };
    Ok(format!(
        "{} {} on {}",
        text("product"),
        text("version"),
        text("platform")
    ))
}
