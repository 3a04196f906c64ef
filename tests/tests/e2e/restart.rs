//! Connection recovery: the broker restarted, connections closed by the server, a consumer
//! cancelled by the server. The worker resumes by itself and no job is lost.

use std::collections::HashSet;
use std::time::Duration;

use fleet_tests::bed::ALPHA;
use fleet_tests::{InProcessWorker, Node, ResultCollector, TestBed};
use fleet_worker::metrics::sum_samples;
use lapin::options::QueueDeleteOptions;

use crate::helpers::{ids, jobs, noop, sleep};

/// The node this module may stop and start; no other test uses it.
fn restart_node() -> Node {
    Node::private("fleet-restart", 5683)
}

/// The real rabbitmq-server stopped and started in the middle of a batch: the worker
/// reconnects, declares its topology again, consumes again, and every job has a result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_resumes_after_a_broker_restart_and_loses_nothing() {
    let node = restart_node();
    let bed = TestBed::on(&node, "restart");
    let mut results = ResultCollector::bind(&bed).await;
    let batch = jobs("r", ALPHA, 3_000, sleep(2));
    bed.publish(&batch).await;

    let worker = InProcessWorker::start(bed.settings()).await;
    let early = results.read(500, Duration::from_secs(60)).await;
    let early = early.expect("results before the restart");
    node.stop();
    tokio::time::sleep(Duration::from_secs(1)).await;
    node.start();

    let expected = ids(&batch);
    let collected = results
        .complete(
            early,
            &expected,
            Duration::from_secs(180),
            Duration::from_millis(500),
        )
        .await;
    let page = worker.metrics().await;

    let missing: Vec<_> = collected.missing(&expected).take(5).collect();
    assert!(
        missing.is_empty(),
        "lost jobs after the restart: {missing:?}"
    );
    println!(
        "broker restart: 3000 jobs, {} duplicate results",
        collected.duplicates()
    );
    assert!(sum_samples(&page, "fleet_broker_reconnects_total", &[]) >= 1.0);
    assert_eq!(sum_samples(&page, "fleet_broker_connected", &[]), 1.0);
    assert!(worker.wait_ready(Duration::from_secs(5)).await);
    worker.stop().await.unwrap();
}

/// Connections closed by the server (as `rabbitmqctl close_all_connections` or a reset do)
/// are re-opened, and jobs published afterwards run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_reconnects_after_the_server_closes_its_connection() {
    let bed = TestBed::new("closed");
    let mut results = ResultCollector::bind(&bed).await;
    let worker = InProcessWorker::start(bed.settings()).await;
    assert!(worker.wait_ready(Duration::from_secs(30)).await);

    bed.node().ctl(&[
        "close_all_connections",
        "--vhost",
        &bed.vhost,
        "test closes connections",
    ]);
    let batch = jobs("after-close", ALPHA, 100, noop());
    bed.publish(&batch).await;
    let collected = results
        .collect(&ids(&batch), Duration::from_secs(60), Duration::ZERO)
        .await;
    let page = worker.metrics().await;

    assert_eq!(collected.missing(&ids(&batch)).count(), 0);
    assert!(sum_samples(&page, "fleet_broker_reconnects_total", &[]) >= 1.0);
    worker.stop().await.unwrap();
}

/// A consumer cancelled by the server (here: its queue deleted) is re-established: the
/// worker declares the queue again and consumes from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_cancelled_by_the_server_is_re_established() {
    let bed = TestBed::new("cancelled");
    let mut results = ResultCollector::bind(&bed).await;
    let worker = InProcessWorker::start(bed.settings()).await;
    assert!(worker.wait_ready(Duration::from_secs(30)).await);

    let connection = bed.connect().await;
    let channel = connection.create_channel().await.unwrap();
    let queue = bed.names.account_queue(ALPHA);
    channel
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    // Until the worker has declared the queue again, jobs for the account would go to the
    // alternate exchange; a backend sees the same window when an operator deletes a queue.
    assert!(bed.wait_consumers(&queue, 1, Duration::from_secs(30)).await);
    let batch = jobs("after-cancel", ALPHA, 50, noop());
    bed.publisher(&connection)
        .await
        .publish_many(&batch, 64)
        .await
        .unwrap();
    let collected = results
        .collect(&ids(&batch), Duration::from_secs(60), Duration::ZERO)
        .await;

    assert_eq!(collected.missing(&ids(&batch)).count(), 0);
    worker.stop().await.unwrap();
}

/// A broker that stops answering (its VM frozen with SIGSTOP, as a network partition would
/// look) is declared lost after missed heartbeats; once it answers again the worker is
/// connected and consuming, and jobs published meanwhile run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_heartbeats_are_detected_and_the_worker_resumes() {
    let node = Node::private("fleet-heartbeat", 5684);
    let mut bed = TestBed::on(&node, "heartbeat");
    bed.set("FLEET__BROKER__HEARTBEAT_SECS", "1");
    let mut results = ResultCollector::bind(&bed).await;
    let worker = InProcessWorker::start(bed.settings()).await;
    assert!(worker.wait_ready(Duration::from_secs(30)).await);
    let before = jobs("hb-before", ALPHA, 200, sleep(5));
    bed.publish(&before).await;

    let pid = node.pid().expect("the node runs");
    signal(pid, "STOP");
    let lost = wait_connected(&worker, 0.0, Duration::from_secs(20)).await;
    signal(pid, "CONT");
    assert!(lost, "the frozen broker was never declared lost");
    assert!(
        worker.wait_ready(Duration::from_secs(60)).await,
        "connected again"
    );
    let after = jobs("hb-after", ALPHA, 200, noop());
    bed.publish(&after).await;
    let expected: HashSet<String> = ids(&before).union(&ids(&after)).cloned().collect();
    let collected = results
        .collect(&expected, Duration::from_secs(120), Duration::ZERO)
        .await;
    let page = worker.metrics().await;

    assert_eq!(collected.missing(&expected).count(), 0);
    assert!(sum_samples(&page, "fleet_broker_reconnects_total", &[]) >= 1.0);
    worker.stop().await.unwrap();
}

async fn wait_connected(worker: &InProcessWorker, state: f64, timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        let page = worker.metrics().await;
        if sum_samples(&page, "fleet_broker_connected", &[]) == state {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn signal(pid: u32, name: &str) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {pid}");
}
