//! Configuration errors and secrets, as a `fleet worker` process shows them: a bad value or
//! a missing secret stops the process at start with a message that names the key, and no
//! secret ever reaches its output, its results, its dead letters or its metrics.

use std::collections::BTreeMap;
use std::process::Output;
use std::time::Duration;

use fleet_tests::bed::{ALPHA, BETA};
use fleet_tests::workers::fleet_command;
use fleet_tests::{ResultCollector, TestBed, WorkerProcess};
use fleet_worker::broker::job_properties;

use crate::helpers::{fail, ids, jobs, noop};

fn worker_env() -> BTreeMap<String, String> {
    [
        ("FLEET__BROKER__URL", "amqp://guest:guest@127.0.0.1:1/%2f"),
        ("FLEET__ACCOUNTS__ALPHA__CLIENT_ID", "client-alpha"),
        (
            "FLEET__ACCOUNTS__ALPHA__CLIENT_SECRET",
            "alpha-secret-value",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn run_worker(env: &BTreeMap<String, String>, args: &[&str]) -> Output {
    let mut all = args.to_vec();
    all.push("worker");
    fleet_command(&all, env).output().expect("run fleet worker")
}

fn assert_refused(output: &Output, needles: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !output.status.success(),
        "the worker must not start: {stderr}"
    );
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?} not in: {stderr}");
    }
    assert!(
        !stderr.contains("alpha-secret-value"),
        "a secret in: {stderr}"
    );
    stderr
}

/// Each bad setting stops the worker at start, naming the key at fault.
#[test]
fn bad_settings_name_their_key() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "FLEET__WORKER__CONCURRENCY",
            "0",
            &["worker.concurrency", "greater than 0"],
        ),
        ("FLEET__WORKER__PREFETCH", "lots", &["worker.prefetch"]),
        ("FLEET__WORKER__CONCURENCY", "8", &["concurency"]),
        ("FLEET__LOG__FORMAT", "xml", &["log.format"]),
        ("FLEET__ACCOUNTS__BAD!ALIAS__CLIENT_ID", "x", &["accounts."]),
        (
            "FLEET__METRICS__LISTEN",
            "not-an-address",
            &["metrics.listen"],
        ),
    ];

    for (key, value, needles) in cases {
        let mut env = worker_env();
        env.insert((*key).to_owned(), (*value).to_owned());
        if key.contains("BAD!ALIAS") {
            env.insert(
                "FLEET__ACCOUNTS__BAD!ALIAS__CLIENT_SECRET".into(),
                "x".into(),
            );
        }
        assert_refused(&run_worker(&env, &[]), needles);
    }
}

/// A missing secret names the key and both ways to provide it.
#[test]
fn a_missing_secret_says_how_to_provide_it() {
    let mut env = worker_env();
    env.remove("FLEET__ACCOUNTS__ALPHA__CLIENT_SECRET");

    assert_refused(
        &run_worker(&env, &[]),
        &[
            "accounts.alpha.client_secret",
            "FLEET__ACCOUNTS__ALPHA__CLIENT_SECRET",
            "client_secret_file",
        ],
    );
}

/// A secret file that cannot be read names its key and path; a readable one is used.
#[test]
fn a_secret_file_that_cannot_be_read_names_its_key() {
    let mut env = worker_env();
    env.remove("FLEET__ACCOUNTS__ALPHA__CLIENT_SECRET");
    env.insert(
        "FLEET__ACCOUNTS__ALPHA__CLIENT_SECRET_FILE".into(),
        "/nonexistent/alpha-secret".into(),
    );

    assert_refused(
        &run_worker(&env, &[]),
        &[
            "accounts.alpha.client_secret_file",
            "/nonexistent/alpha-secret",
        ],
    );
}

/// A settings file that is not valid TOML, or missing, stops the worker with its name.
#[test]
fn a_broken_or_missing_settings_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "[worker\nconcurrency = 3\n").unwrap();
    let missing = dir.path().join("missing.toml");

    let broken_text = broken.display().to_string();
    let missing_text = missing.display().to_string();
    assert_refused(
        &run_worker(&worker_env(), &["--config", &broken_text]),
        &["broken.toml"],
    );
    assert_refused(
        &run_worker(&worker_env(), &["--config", &missing_text]),
        &["missing.toml"],
    );
}

/// A settings file is layered under the environment: the file sets a value, the
/// environment overrides it, and a bad value in the file names its key.
#[test]
fn a_settings_file_is_read_and_its_bad_values_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.toml");
    std::fs::write(&file, "[worker]\nmax_attempts = 0\n").unwrap();
    let path = file.display().to_string();

    assert_refused(
        &run_worker(&worker_env(), &["--config", &path]),
        &["worker.max_attempts"],
    );
    let mut env = worker_env();
    env.insert("FLEET__WORKER__MAX_ATTEMPTS".into(), "3".into());
    env.insert("FLEET__BROKER__URL".into(), "http://wrong-scheme".into());
    assert_refused(&run_worker(&env, &["--config", &path]), &["broker.url"]);
}

/// A broker URL that does not parse is refused without repeating the password in it.
#[test]
fn a_malformed_broker_url_is_refused_without_its_password() {
    let mut env = worker_env();
    env.insert(
        "FLEET__BROKER__URL".into(),
        "amqp://fleet:hunter2-pw@[::1:5672/%2f".into(),
    );

    let stderr = assert_refused(&run_worker(&env, &[]), &["broker.url"]);
    assert!(!stderr.contains("hunter2-pw"), "{stderr}");
}

/// A worker run with debug logs, a broker password of its own and two service-account
/// secrets, through successes, failures and poison: none of the secrets appears in its
/// output, its results, its dead letters or its metrics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_logs_results_dead_letters_or_metrics() {
    let mut bed = TestBed::new("secrets");
    let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
    let user = format!("fleet-{}", std::process::id());
    let url = bed.node().create_user(&user, &password, &bed.vhost);
    bed.set("FLEET__BROKER__URL", &url)
        .set("FLEET__LOG__FILTER", "trace")
        .set("FLEET__LOG__FORMAT", "json");
    let secrets = [password.clone(), bed.secret_of(ALPHA), bed.secret_of(BETA)];
    let mut results = ResultCollector::bind(&bed).await;
    let connection = bed.connect().await;
    let publisher = bed.publisher(&connection).await;
    let mut batch = jobs("s-ok", ALPHA, 5, noop());
    batch.extend(jobs("s-flaky", BETA, 2, fail(1, false)));
    batch.extend(jobs("s-doomed", ALPHA, 2, fail(0, true)));
    publisher.publish_many(&batch, 16).await.unwrap();
    publisher
        .publish_raw(ALPHA, b"garbage", job_properties("s-poison"))
        .await
        .unwrap();

    let mut worker = WorkerProcess::start(bed.env(), "secrets");
    let mut expected = ids(&batch);
    expected.insert("s-poison".into());
    let collected = results
        .collect(&expected, Duration::from_secs(60), Duration::ZERO)
        .await;
    let page = worker.metrics().await;
    worker.terminate();
    assert!(worker
        .wait_exit(Duration::from_secs(15))
        .await
        .is_some_and(|s| s.success()));

    assert_eq!(collected.missing(&expected).count(), 0, "{}", worker.log());
    let log = worker.log();
    assert!(
        log.contains("connected and consuming"),
        "the log is the real one: {log}"
    );
    let results_text = format!("{:?}", collected.by_id);
    let dead_text = format!("{:?}", bed.take_dead_letters().await);
    for secret in &secrets {
        for (what, text) in [
            ("log", &log),
            ("results", &results_text),
            ("metrics", &page),
        ] {
            assert!(!text.contains(secret.as_str()), "a secret in the {what}");
        }
        assert!(
            !dead_text.contains(secret.as_str()),
            "a secret in the dead letters"
        );
    }
}

/// Logs are human-readable by default and JSON lines with `--log-format json`; a worker
/// that cannot reach its broker says so at warn level and keeps trying.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_text_by_default_and_json_with_the_flag() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut env = worker_env();
    env.insert(
        "FLEET__BROKER__URL".into(),
        format!("amqp://guest:guest@{closed}/%2f"),
    );

    let text = run_briefly(&env, &[]).await;
    let json = run_briefly(&env, &["--log-format", "json"]).await;

    assert!(
        text.contains("INFO") && text.contains("worker starting"),
        "{text}"
    );
    assert!(serde_json::from_str::<serde_json::Value>(text.lines().next().unwrap()).is_err());
    let lines: Vec<serde_json::Value> = json
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["message"] == "worker starting"),
        "{json}"
    );
    assert!(lines
        .iter()
        .any(|l| l["level"] == "WARN" && l["message"] == "broker session lost; reconnecting"));
}

/// Runs `fleet [args] worker` for a second, stops it with SIGTERM and returns its output.
async fn run_briefly(env: &BTreeMap<String, String>, args: &[&str]) -> String {
    let mut worker = WorkerProcess::start_with_args(env, args, "logs");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    worker.terminate();
    let status = worker.wait_exit(Duration::from_secs(10)).await;
    assert!(status.is_some_and(|s| s.success()), "{}", worker.log());
    worker.log()
}
