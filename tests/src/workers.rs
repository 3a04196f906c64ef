//! Workers for the tests: in this process (fast, shares the test's runtime) or as `fleet
//! worker` child processes (for SIGKILL, SIGTERM and what a real process prints).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use fleet_worker::{Handlers, Metrics, Settings, Worker, WorkerError};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// A worker running as a task of the test's runtime, with its metrics port.
pub struct InProcessWorker {
    /// `http://127.0.0.1:<port>` of its metrics port.
    pub base_url: String,
    shutdown: CancellationToken,
    task: Option<JoinHandle<Result<(), WorkerError>>>,
}

impl InProcessWorker {
    /// Starts a worker with the test kinds on `settings`.
    pub async fn start(settings: Settings) -> InProcessWorker {
        let mut handlers = Handlers::new();
        handlers.register_test_kinds();
        let listener = Metrics::bind(settings.metrics.listen)
            .await
            .expect("bind the metrics port");
        let base_url = format!("http://{}", listener.local_addr().expect("local address"));

        let worker = Worker::new(settings, handlers);
        let metrics = worker.metrics();
        let shutdown = CancellationToken::new();
        let stopped = shutdown.clone();
        tokio::spawn(async move { metrics.serve(listener, stopped.cancelled_owned()).await });
        let task = tokio::spawn(worker.run(shutdown.clone()));

        InProcessWorker {
            base_url,
            shutdown,
            task: Some(task),
        }
    }

    /// The `/metrics` page.
    pub async fn metrics(&self) -> String {
        get_text(&format!("{}/metrics", self.base_url)).await
    }

    /// Reads `/metrics` until `settled` holds for the page, at most `timeout`; returns the
    /// last page read either way, for the caller's assertions to judge.
    ///
    /// A job is counted when its delivery is acked, a moment after its result is confirmed,
    /// so a test that has all its results waits here rather than for a fixed time.
    pub async fn metrics_when(&self, settled: impl Fn(&str) -> bool, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let page = self.metrics().await;
            if settled(&page) || Instant::now() >= deadline {
                return page;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `/readyz` answers 200, at most `timeout`; returns whether it did.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        wait_ready(&self.base_url, timeout).await
    }

    /// Stops the worker as a stop signal would and waits for it.
    pub async fn stop(mut self) -> Result<(), WorkerError> {
        self.shutdown.cancel();
        let task = self.task.take().expect("stopped once");
        task.await.expect("worker task")
    }
}

impl Drop for InProcessWorker {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A `fleet worker` child process; its standard error goes to a log file.
pub struct WorkerProcess {
    child: Child,
    /// `http://127.0.0.1:<port>` of its metrics port.
    pub base_url: String,
    /// Where its standard output and error go.
    pub log_path: PathBuf,
}

impl WorkerProcess {
    /// Starts `fleet worker` with exactly `env` (plus PATH and HOME) as its environment.
    pub fn start(env: &BTreeMap<String, String>, label: &str) -> WorkerProcess {
        WorkerProcess::start_with_args(env, &[], label)
    }

    /// Starts `fleet <args> worker` with exactly `env` (plus PATH and HOME).
    pub fn start_with_args(
        env: &BTreeMap<String, String>,
        args: &[&str],
        label: &str,
    ) -> WorkerProcess {
        let port = free_port();
        let mut env = env.clone();
        env.insert("FLEET__METRICS__LISTEN".into(), format!("127.0.0.1:{port}"));
        let log_path = log_dir().join(format!("{}.log", crate::unique_name(label)));

        let mut all = args.to_vec();
        all.push("worker");
        let child = fleet_command(&all, &env)
            .stdout(Stdio::from(File::create(&log_path).expect("log file")))
            .stderr(Stdio::from(
                File::options()
                    .append(true)
                    .open(&log_path)
                    .expect("log file"),
            ))
            .spawn()
            .expect("start fleet worker");

        WorkerProcess {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log_path,
        }
    }

    /// The child's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGKILL.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL the worker");
        let _ = self.child.wait();
    }

    /// Sends SIGTERM (by pid).
    pub fn terminate(&self) {
        signal(self.pid(), "TERM");
    }

    /// Waits for the process to exit, at most `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait for the worker") {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Waits until `/readyz` answers 200, at most `timeout`.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        wait_ready(&self.base_url, timeout).await
    }

    /// The `/metrics` page.
    pub async fn metrics(&self) -> String {
        get_text(&format!("{}/metrics", self.base_url)).await
    }

    /// Everything the process printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A `fleet` command with `args` and exactly `env` (plus PATH and HOME).
pub fn fleet_command(args: &[&str], env: &BTreeMap<String, String>) -> Command {
    let mut command = Command::new(fleet_binary());
    command
        .args(args)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null());
    for key in ["PATH", "HOME"] {
        if let Ok(value) = std::env::var(key) {
            command.env(key, value);
        }
    }
    command
}

/// The `fleet` binary of this build (`target/<profile>/fleet`).
pub fn fleet_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps/<test>");
    let binary = profile_dir.join("fleet");
    assert!(
        binary.exists(),
        "{} is missing: build it with `cargo build -p fleet` (make test does)",
        binary.display()
    );
    binary
}

fn log_dir() -> PathBuf {
    let dir = fleet_binary()
        .parent()
        .expect("profile dir")
        .join("test-logs");
    std::fs::create_dir_all(&dir).expect("test log directory");
    dir
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {pid} failed");
}

async fn get_text(url: &str) -> String {
    reqwest::get(url)
        .await
        .unwrap_or_else(|error| panic!("GET {url}: {error}"))
        .text()
        .await
        .expect("body")
}

async fn wait_ready(base_url: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let url = format!("{base_url}/readyz");
    while Instant::now() < deadline {
        if let Ok(response) = reqwest::get(&url).await {
            if response.status().is_success() {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
