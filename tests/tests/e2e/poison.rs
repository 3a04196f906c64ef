//! Poison messages: each kind is dead-lettered at once with its reason and a failure result,
//! while good jobs around it succeed and the worker keeps going.

use std::collections::HashSet;
use std::time::Duration;

use fleet_protocol::{ErrorClass, Outcome};
use fleet_tests::bed::ALPHA;
use fleet_tests::{InProcessWorker, ResultCollector, TestBed};
use fleet_worker::broker::job_properties;
use lapin::BasicProperties;

use crate::helpers::{ids, jobs, noop};

/// One poison message: its id, where it is routed, its body and the class it must get.
struct Poison {
    id: &'static str,
    routing_key: &'static str,
    body: Vec<u8>,
    class: ErrorClass,
}

fn job_body(id: &str, account: &str, rest: &str) -> Vec<u8> {
    format!(r#"{{"version":1,"id":"{id}","account":"{account}",{rest}}}"#).into_bytes()
}

fn poisons() -> Vec<Poison> {
    let poison = |id, routing_key, body, class| Poison {
        id,
        routing_key,
        body,
        class,
    };
    vec![
        poison(
            "p-not-json",
            ALPHA,
            b"{not json at all".to_vec(),
            ErrorClass::NotJson,
        ),
        poison(
            "p-binary",
            ALPHA,
            vec![0xff, 0xfe, 0x00, 0x01],
            ErrorClass::NotJson,
        ),
        poison(
            "p-too-large",
            ALPHA,
            job_body(
                "p-too-large",
                ALPHA,
                &format!(r#""kind":"test.noop","pad":"{}""#, "x".repeat(300 * 1024)),
            ),
            ErrorClass::TooLarge,
        ),
        poison(
            "p-unknown-kind",
            ALPHA,
            job_body("p-unknown-kind", ALPHA, r#""kind":"file.melt","params":{}"#),
            ErrorClass::UnknownKind,
        ),
        poison(
            "p-wrong-type",
            ALPHA,
            job_body(
                "p-wrong-type",
                ALPHA,
                r#""kind":"test.sleep","params":{"millis":"soon"}"#,
            ),
            ErrorClass::InvalidParams,
        ),
        poison(
            "p-extra-param",
            ALPHA,
            job_body(
                "p-extra-param",
                ALPHA,
                r#""kind":"test.noop","params":{"x":1}"#,
            ),
            ErrorClass::InvalidParams,
        ),
        poison(
            "p-version",
            ALPHA,
            br#"{"version":7,"id":"p-version","account":"alpha","kind":"test.noop"}"#.to_vec(),
            ErrorClass::UnsupportedVersion,
        ),
        poison(
            "p-no-account",
            ALPHA,
            br#"{"version":1,"id":"p-no-account","kind":"test.noop","params":{}}"#.to_vec(),
            ErrorClass::InvalidJob,
        ),
        poison(
            "p-other-queue",
            ALPHA,
            job_body("p-other-queue", "beta", r#""kind":"test.noop","params":{}"#),
            ErrorClass::InvalidJob,
        ),
        poison(
            "p-unknown-account",
            "nobody",
            job_body(
                "p-unknown-account",
                "nobody",
                r#""kind":"test.noop","params":{}"#,
            ),
            ErrorClass::UnknownAccount,
        ),
        poison(
            "p-late",
            ALPHA,
            job_body(
                "p-late",
                ALPHA,
                r#""kind":"test.noop","params":{},"deadline":"2020-01-01T00:00:00Z""#,
            ),
            ErrorClass::DeadlineExceeded,
        ),
    ]
}

/// Every kind of poison message gets its own class, in its failure result and in the
/// dead-letter headers; good jobs published before and after them all succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_of_poison_is_dead_lettered_while_good_jobs_succeed() {
    let bed = TestBed::new("poison");
    let mut results = ResultCollector::bind(&bed).await;
    let connection = bed.connect().await;
    let publisher = bed.publisher(&connection).await;
    let before = jobs("good-before", ALPHA, 50, noop());
    let after = jobs("good-after", ALPHA, 50, noop());
    let poisons = poisons();

    publisher.publish_many(&before, 64).await.unwrap();
    for poison in &poisons {
        publisher
            .publish_raw(poison.routing_key, &poison.body, job_properties(poison.id))
            .await
            .unwrap();
    }
    let no_id = BasicProperties::default();
    publisher
        .publish_raw(ALPHA, b"\"just a string\"", no_id)
        .await
        .unwrap();
    publisher.publish_many(&after, 64).await.unwrap();

    let worker = InProcessWorker::start(bed.settings()).await;
    let mut expected: HashSet<String> = ids(&before).union(&ids(&after)).cloned().collect();
    expected.extend(poisons.iter().map(|p| p.id.to_owned()));
    let collected = results
        .collect(
            &expected,
            Duration::from_secs(60),
            Duration::from_millis(500),
        )
        .await;
    assert!(
        worker.wait_ready(Duration::from_secs(1)).await,
        "worker still consuming"
    );
    worker.stop().await.unwrap();

    for job in before.iter().chain(&after) {
        assert_eq!(collected.first(job.id.as_str()).outcome, Outcome::Succeeded);
    }
    for poison in &poisons {
        let result = collected.first(poison.id);
        let error = result.error.as_ref().expect("error");
        assert_eq!(
            (result.outcome, error.class),
            (Outcome::Failed, poison.class),
            "{}",
            poison.id
        );
        assert_eq!(result.attempts, 1);
    }
    let anonymous = &collected.without_id;
    assert_eq!(
        anonymous.len(),
        1,
        "the message without any id still has a result"
    );
    assert_eq!(
        anonymous[0].error.as_ref().unwrap().class,
        ErrorClass::InvalidJob
    );

    let dead = bed.take_dead_letters().await;
    assert_eq!(dead.len(), poisons.len() + 1);
    for poison in &poisons {
        let letter = dead
            .iter()
            .find(|d| d.message_id.as_deref() == Some(poison.id))
            .unwrap_or_else(|| panic!("{} is not in the dead-letter queue", poison.id));
        assert_eq!(letter.reason.as_deref(), Some(poison.class.as_str()));
        assert_eq!(letter.body, poison.body, "the original body is kept");
        assert!(!letter.error.as_deref().unwrap_or_default().is_empty());
    }
    assert_eq!(bed.queue_len(&bed.names.account_queue(ALPHA)).await, 0);
    assert_eq!(bed.queue_len(&bed.names.unrouted()).await, 0);
}
