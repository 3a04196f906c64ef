//! The topology: declared idempotently with every argument explicit, effective (delivery
//! limit, default results queue, `reply_to`), and refused clearly when it conflicts.

use std::time::Duration;

use fleet_protocol::{ErrorClass, JobResult, Outcome};
use fleet_tests::bed::ALPHA;
use fleet_tests::workers::fleet_command;
use fleet_tests::{InProcessWorker, TestBed};
use fleet_worker::broker::{job_properties, ResultReader};
use fleet_worker::topology;
use futures::StreamExt;
use lapin::options::{BasicConsumeOptions, BasicGetOptions, BasicNackOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use serde_json::Value;

use crate::helpers::{jobs, noop};

/// The queues of a vhost as `rabbitmqctl list_queues` reports them.
fn list_queues(bed: &TestBed) -> Vec<Value> {
    let text = bed.node().ctl(&[
        "list_queues",
        "-p",
        &bed.vhost,
        "name",
        "type",
        "arguments",
        "--formatter",
        "json",
    ]);
    let mut queues: Vec<Value> = serde_json::from_str(&text).expect("rabbitmqctl JSON");
    for queue in &mut queues {
        queue["arguments"] = arguments_object(&queue["arguments"]);
    }
    queues
}

/// RabbitMQ 3.x prints arguments as `[[name, type, value], ...]`, 4.x as an object; both
/// become an object.
fn arguments_object(arguments: &Value) -> Value {
    match arguments {
        Value::Array(rows) => rows
            .iter()
            .filter_map(|row| Some((row[0].as_str()?.to_owned(), row[2].clone())))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        other => other.clone(),
    }
}

fn queue<'a>(queues: &'a [Value], name: &str) -> &'a Value {
    queues
        .iter()
        .find(|q| q["name"] == name)
        .unwrap_or_else(|| panic!("no queue {name} in {queues:?}"))
}

/// Declaring twice, through the library and through `fleet topology apply`, succeeds, and
/// every queue carries the arguments the fleet relies on, set explicitly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_topology_is_idempotent_and_explicit() {
    let bed = TestBed::new("topology");
    bed.declare_topology().await;
    bed.declare_topology().await;
    for _ in 0..2 {
        let output = fleet_command(&["topology", "apply"], bed.env())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let queues = list_queues(&bed);
    let account = queue(&queues, &bed.names.account_queue(ALPHA));
    assert_eq!(account["type"], "quorum");
    let args = &account["arguments"];
    assert_eq!(args["x-queue-type"], "quorum");
    assert_eq!(args["x-delivery-limit"], 20);
    assert_eq!(args["x-dead-letter-exchange"], bed.names.dead());
    assert_eq!(args["x-dead-letter-strategy"], "at-least-once");
    assert_eq!(args["x-overflow"], "reject-publish");
    for delay in bed.settings().retry_delays() {
        let delay_queue = queue(&queues, &bed.names.delay_queue(delay));
        let args = &delay_queue["arguments"];
        assert_eq!(args["x-message-ttl"], delay.as_millis() as u64);
        assert_eq!(args["x-dead-letter-exchange"], bed.names.jobs_exchange());
        assert_eq!(args["x-dead-letter-strategy"], "at-least-once");
    }
    for name in [
        bed.names.dead(),
        bed.names.unrouted(),
        bed.names.results_default(),
    ] {
        assert_eq!(queue(&queues, &name)["type"], "quorum", "{name}");
    }
}

/// Declaring over an existing queue with other arguments fails with the broker's
/// PRECONDITION_FAILED instead of silently keeping the old ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_declaration_is_refused() {
    let mut bed = TestBed::new("conflict");
    bed.declare_topology().await;
    bed.set("FLEET__TOPOLOGY__DELIVERY_LIMIT", "3");

    let output = fleet_command(&["topology", "apply"], bed.env())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("PRECONDITION_FAILED"), "{stderr}");
    assert!(stderr.contains("x-delivery-limit"), "{stderr}");
}

/// A job delivered more often than the delivery limit (a job that crashes every worker
/// that takes it) is dead-lettered by the broker itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broker_dead_letters_a_job_past_its_delivery_limit() {
    let mut bed = TestBed::new("limit");
    bed.set("FLEET__TOPOLOGY__DELIVERY_LIMIT", "2");
    bed.declare_topology().await;
    let connection = bed.connect().await;
    bed.publisher(&connection)
        .await
        .publish(&jobs("crasher", ALPHA, 1, noop())[0])
        .await
        .unwrap();

    let channel = connection.create_channel().await.unwrap();
    let queue = bed.names.account_queue(ALPHA);
    let mut consumer = channel
        .basic_consume(
            queue.as_str().into(),
            "crashing worker".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut deliveries = 0;
    while bed.queue_len(&bed.names.dead()).await == 0 && deliveries < 10 {
        let next = tokio::time::timeout(Duration::from_secs(2), consumer.next()).await;
        let Ok(Some(Ok(delivery))) = next else {
            continue;
        };
        deliveries += 1;
        let requeue = BasicNackOptions {
            requeue: true,
            ..BasicNackOptions::default()
        };
        delivery.acker.nack(requeue).await.unwrap();
    }

    let dead = bed.take_dead_letters().await;
    assert_eq!(dead.len(), 1, "after {deliveries} deliveries");
    assert_eq!(dead[0].message_id.as_deref(), Some("crasher-0"));
    assert_eq!(
        deliveries, 3,
        "the limit allows 2 redeliveries after the first"
    );
}

/// With no queue of a backend bound to the results exchange, results land in the default
/// results queue; a job's `reply_to` queue gets its copy too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_kept_when_no_backend_binds_and_reply_to_is_honoured() {
    let bed = TestBed::new("default-results");
    bed.declare_topology().await;
    let connection = bed.connect().await;
    let channel = connection.create_channel().await.unwrap();
    let reply_queue = channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let publisher = bed.publisher(&connection).await;
    let job = &jobs("kept", ALPHA, 1, noop())[0];
    publisher.publish(job).await.unwrap();
    let properties = job_properties("replied-0").with_reply_to(reply_queue.name().clone());
    let body = jobs("replied", ALPHA, 1, noop())[0].to_body();
    publisher
        .publish_raw(ALPHA, &body, properties)
        .await
        .unwrap();

    let worker = InProcessWorker::start(bed.settings()).await;
    let mut reply = ResultReader::consume(&channel, reply_queue.name().as_str())
        .await
        .unwrap();
    let replied = reply.next(Duration::from_secs(30)).await.expect("a reply");
    let default_channel = connection.create_channel().await.unwrap();
    let mut kept = ResultReader::consume(&default_channel, &bed.names.results_default())
        .await
        .unwrap();
    let mut default_results: Vec<JobResult> = Vec::new();
    while let Ok(result) = kept.next(Duration::from_secs(2)).await {
        default_results.push(result);
    }
    worker.stop().await.unwrap();

    assert_eq!(replied.job_id.as_deref(), Some("replied-0"));
    assert_eq!(replied.outcome, Outcome::Succeeded);
    let mut kept_ids: Vec<_> = default_results
        .iter()
        .filter_map(|r| r.job_id.clone())
        .collect();
    kept_ids.sort();
    assert_eq!(kept_ids, ["kept-0", "replied-0"]);
    assert_eq!(
        topology::result_routing_key(ALPHA, "succeeded", "test.noop"),
        "alpha.succeeded.test.noop"
    );
}

/// A job that was delivered as often as the limit allows without being settled (here:
/// taken and returned by a consumer that crashes) is refused by the worker on its last
/// delivery, so it ends with a failure result and a dead letter that says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_allowed_delivery_ends_with_a_failure_result() {
    let mut bed = TestBed::new("last-delivery");
    bed.set("FLEET__TOPOLOGY__DELIVERY_LIMIT", "2");
    let mut results = fleet_tests::ResultCollector::bind(&bed).await;
    let job = &jobs("fragile", ALPHA, 1, noop())[0];
    bed.publish(std::slice::from_ref(job)).await;
    return_deliveries(&bed, 2).await;

    let worker = InProcessWorker::start(bed.settings()).await;
    let result = results
        .next(Duration::from_secs(30))
        .await
        .expect("a result");
    worker.stop().await.unwrap();

    let error = result.error.expect("a failure");
    assert_eq!(
        (result.outcome, error.class),
        (Outcome::Failed, ErrorClass::DeliveryLimit)
    );
    assert!(
        error.message.starts_with("delivered 3 times"),
        "{}",
        error.message
    );
    let dead = bed.take_dead_letters().await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].reason.as_deref(), Some("delivery_limit"));
}

/// Takes the account queue's first message `times` times and returns it each time, as a
/// worker that crashes on it would. `basic.get` takes one message at a time, so no further
/// delivery is in flight when it stops.
async fn return_deliveries(bed: &TestBed, times: usize) {
    let connection = bed.connect().await;
    let channel = connection.create_channel().await.unwrap();
    let queue = bed.names.account_queue(ALPHA);

    let mut returned = 0;
    while returned < times {
        let taken = channel
            .basic_get(queue.as_str().into(), BasicGetOptions::default())
            .await
            .unwrap();
        let Some(message) = taken else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let requeue = BasicNackOptions {
            requeue: true,
            ..BasicNackOptions::default()
        };
        message.delivery.acker.nack(requeue).await.unwrap();
        returned += 1;
    }
    let _ = connection.close(200, "crashed".into()).await;
}
