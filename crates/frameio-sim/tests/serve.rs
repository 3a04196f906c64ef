//! Running the simulator in the foreground (`serve`), its command-line options, and
//! graceful shutdown of the background handle.

mod common;

use std::time::Duration;

use clap::Parser;
use frameio_sim::{RateLimitMode, SimArgs, SimConfig};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    sim: SimArgs,
}

#[test]
fn command_line_defaults_and_options() {
    let defaults = Cli::try_parse_from(["frameio-sim"]).unwrap().sim;
    assert_eq!(defaults.listen.to_string(), "127.0.0.1:8470");
    let config = defaults.config().unwrap();
    assert_eq!(config.rate_scale, 1.0);
    assert_eq!(config.token_lifetime_secs, 86_399);
    assert_eq!(config.rate_limit_mode, RateLimitMode::LeakyBucket);
    assert_eq!(
        config.seed.service_accounts[0].client_id,
        common::ALPHA.client_id
    );

    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/seed.json");
    let args = Cli::try_parse_from([
        "frameio-sim",
        "--listen",
        "0.0.0.0:9000",
        "--seed",
        seed,
        "--rate-scale",
        "2.5",
        "--token-lifetime-secs",
        "60",
        "--sliding-window",
    ])
    .unwrap()
    .sim;
    let config = args.config().unwrap();
    assert_eq!(args.listen.port(), 9000);
    assert_eq!(config.rate_scale, 2.5);
    assert_eq!(config.token_lifetime_secs, 60);
    assert_eq!(config.rate_limit_mode, RateLimitMode::SlidingWindow);
    assert_eq!(config.seed.service_accounts[0].client_id, "demo-client");

    let missing = Cli::try_parse_from(["frameio-sim", "--seed", "/nonexistent.json"]).unwrap();
    assert!(missing.sim.config().is_err());
}

#[tokio::test]
async fn serve_runs_until_the_shutdown_future_resolves() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(frameio_sim::serve(SimConfig::default(), listener, async {
        let _ = stopped.await;
    }));

    let me = format!("http://{addr}/v4/me");
    let answer = reqwest::get(&me).await.unwrap();
    assert_eq!(answer.status(), 401);

    stop.send(()).unwrap();
    let result = tokio::time::timeout(Duration::from_secs(10), server).await;
    assert!(matches!(result, Ok(Ok(Ok(())))), "{result:?}");
    assert!(reqwest::get(&me).await.is_err(), "nothing listens any more");
}

#[tokio::test]
async fn invalid_configuration_is_refused() {
    let bad = SimConfig {
        rate_scale: 0.0,
        ..SimConfig::default()
    };
    let result = frameio_sim::spawn(bad, common::loopback()).await;
    assert!(matches!(result, Err(frameio_sim::SimError::Config(_))));
}

#[tokio::test]
async fn shutdown_closes_idle_keep_alive_connections() {
    let sim = common::fast_sim().await;
    let base = sim.base_url();
    let http = reqwest::Client::new();
    // The pooled connection stays open after the answer.
    let answer = http.get(format!("{base}/v4/me")).send().await.unwrap();
    assert_eq!(answer.status(), 401);

    let stopped = tokio::time::timeout(Duration::from_secs(10), sim.shutdown()).await;
    assert!(stopped.is_ok(), "shutdown waited for an idle connection");
    assert!(http.get(format!("{base}/v4/me")).send().await.is_err());
}

#[tokio::test]
async fn the_binary_prints_its_address_and_exits_0_on_sigterm() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_frameio-sim"))
        .args(["--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut line = String::new();
    // Kept open to the end, so that the simulator never writes into a closed pipe.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    tokio::time::timeout(Duration::from_secs(30), stdout.read_line(&mut line))
        .await
        .expect("the address is printed")
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("Frame.io simulator listening on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_owned();

    let answer = reqwest::get(format!("{base}/v4/me")).await.unwrap();
    let pid = child.id().unwrap().to_string();
    let killed = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the simulator stops")
        .unwrap();

    assert_eq!(answer.status(), 401);
    assert!(killed.success());
    assert_eq!(status.code(), Some(0));
}
