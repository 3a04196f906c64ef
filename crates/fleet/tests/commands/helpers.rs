//! Running the built `fleet` binary with a clean environment, the simulator in this
//! process, and checks that output holds no secret or token.

use std::process::Stdio;
use std::time::{Duration, Instant};

use frameio_sim::{SimConfig, SimHandle};
use tokio::process::{Child, Command};

/// How long any child may run before the test gives up on it.
pub const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

/// The simulator with its built-in seed on a free loopback port.
pub async fn spawn_sim() -> SimHandle {
    frameio_sim::spawn(SimConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("the simulator starts")
}

/// The `fleet` binary with an empty environment (no `FLEET__` variable or `FLEET_CONFIG`
/// of the test's own), logging everything so that a leak in any log line shows up.
/// The child is killed (by its pid) if the test drops it early.
pub fn fleet() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fleet"));
    command
        .env_clear()
        .env("RUST_LOG", "trace")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command
}

/// Points the child's Frame.io and IMS base URLs at `base_url`.
pub fn at(command: &mut Command, base_url: &str) {
    command
        .env("FLEET__FRAMEIO__API_BASE_URL", base_url)
        .env("FLEET__FRAMEIO__IMS_BASE_URL", base_url);
}

/// Configures `[accounts.<alias>]` through the environment.
pub fn account(
    command: &mut Command,
    alias: &str,
    client_id: &str,
    secret: &str,
    email: Option<&str>,
) {
    let prefix = format!("FLEET__ACCOUNTS__{}", alias.to_uppercase());
    command
        .env(format!("{prefix}__CLIENT_ID"), client_id)
        .env(format!("{prefix}__CLIENT_SECRET"), secret);
    if let Some(email) = email {
        command.env(format!("{prefix}__EMAIL"), email);
    }
}

/// What a finished child did.
#[derive(Debug)]
pub struct Finished {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Finished {
    /// Both streams, for checks that nothing leaked anywhere.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs the command to its end, capturing both streams.
pub async fn run(mut command: Command) -> Finished {
    let started = Instant::now();
    let output = tokio::time::timeout(CHILD_TIMEOUT, command.output())
        .await
        .expect("fleet finished in time")
        .expect("fleet starts");
    Finished {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// Sends `signal` (`TERM`, `INT`) to the child, by its pid only.
pub async fn signal(child: &Child, signal: &str) {
    let pid = child.id().expect("the child is still running");
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .await
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// Whether `text` holds an access token of the simulator (`sim.` and 64 hex digits).
pub fn holds_sim_token(text: &str) -> bool {
    text.match_indices("sim.").any(|(at, _)| {
        let rest = &text.as_bytes()[at + 4..];
        rest.len() >= 64 && rest[..64].iter().all(u8::is_ascii_hexdigit)
    })
}

#[test]
fn holds_sim_token_finds_tokens_only() {
    let token = format!("sim.{}", "ab12".repeat(16));

    assert!(holds_sim_token(&format!("Bearer {token} x")));
    assert!(!holds_sim_token("sim.client-alpha sim.1234"));
}
