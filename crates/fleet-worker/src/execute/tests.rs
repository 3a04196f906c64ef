//! The runtime's rules, one delivery at a time and without a broker: what settles a good
//! job, a retry, exhausted attempts, each poison class, a panicking or hanging handler.

use std::collections::HashMap;
use std::time::Duration;

use fleet_protocol::kinds::FailParams;
use fleet_protocol::{ErrorClass, Job, JobId, JobResult, JobSpec, Outcome};
use futures::future::BoxFuture;

use super::*;
use crate::broker::job_properties;
use crate::handler::{HandlerOutput, JobContext, JobHandler};

fn settings(extra: &[(&str, &str)]) -> Settings {
    let mut env: HashMap<String, String> = [
        ("FLEET__ACCOUNTS__ALPHA__CLIENT_ID", "id"),
        ("FLEET__ACCOUNTS__ALPHA__CLIENT_SECRET", "secret"),
        ("FLEET__WORKER__MAX_ATTEMPTS", "3"),
        ("FLEET__WORKER__RETRY_BASE_MS", "100"),
        ("FLEET__WORKER__RETRY_MAX_MS", "400"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Settings::load_from(None, Some(env)).unwrap()
}

fn executor(settings: &Settings, handlers: Handlers) -> Executor {
    Executor::new(settings, handlers, Metrics::new())
}

fn test_kinds() -> Handlers {
    let mut handlers = Handlers::new();
    handlers.register_test_kinds();
    handlers
}

fn incoming(body: Vec<u8>, id: &str, attempt: Option<u32>) -> Incoming {
    let mut properties = job_properties(id);
    if let Some(attempt) = attempt {
        let mut headers = FieldTable::default();
        headers.insert(ATTEMPT_HEADER.into(), string(&attempt.to_string()));
        properties = properties.with_headers(headers);
    }
    Incoming {
        body,
        properties,
        account: "alpha".into(),
        queue: "frameio.jobs.alpha".into(),
    }
}

fn job(id: &str, spec: JobSpec) -> Vec<u8> {
    Job::new(JobId::new(id).unwrap(), "alpha", spec).to_body()
}

fn fail(transient_failures: u32, permanent: bool) -> JobSpec {
    JobSpec::Fail(FailParams {
        transient_failures,
        permanent,
    })
}

fn result_of(settlement: &Settlement) -> JobResult {
    let message = settlement
        .messages
        .iter()
        .find(|m| m.role == Role::Result)
        .expect("a result message");
    JobResult::from_body(&message.body).unwrap()
}

fn header(message: &Outgoing, name: &str) -> Option<String> {
    header_text(message.properties.headers().as_ref()?, name)
}

#[tokio::test]
async fn a_good_job_is_settled_by_its_result_routed_by_account_outcome_and_kind() {
    let settings = settings(&[]);
    let body = job("j-1", JobSpec::Noop(Default::default()));

    let settlement = executor(&settings, test_kinds())
        .execute(&incoming(body, "j-1", None))
        .await;

    assert_eq!(settlement.verdict, Verdict::Succeeded);
    assert_eq!(settlement.messages.len(), 1);
    let message = &settlement.messages[0];
    assert_eq!(message.exchange, "frameio.results");
    assert_eq!(message.routing_key, "alpha.succeeded.test.noop");
    assert_eq!(
        message
            .properties
            .correlation_id()
            .as_ref()
            .unwrap()
            .as_str(),
        "j-1"
    );
    assert_eq!(result_of(&settlement).outcome, Outcome::Succeeded);
}

#[tokio::test]
async fn reply_to_adds_a_copy_of_the_result_for_the_caller() {
    let settings = settings(&[]);
    let mut delivery = incoming(job("j-2", JobSpec::Noop(Default::default())), "j-2", None);
    delivery.properties = delivery.properties.with_reply_to("caller-queue".into());

    let settlement = executor(&settings, test_kinds()).execute(&delivery).await;

    let roles: Vec<Role> = settlement.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::Result, Role::Reply]);
    assert_eq!(settlement.messages[1].routing_key, "caller-queue");
    assert!(!settlement.messages[1].mandatory);
}

#[tokio::test]
async fn a_transient_failure_becomes_a_delayed_copy_with_the_next_attempt_number() {
    let settings = settings(&[]);
    let body = job("j-3", fail(5, false));

    let settlement = executor(&settings, test_kinds())
        .execute(&incoming(body, "j-3", Some(2)))
        .await;

    assert_eq!(
        settlement.verdict,
        Verdict::Retry {
            delay: Duration::from_millis(200),
            class: ErrorClass::Transient
        }
    );
    let copy = &settlement.messages[0];
    assert_eq!(
        (copy.role, copy.exchange.as_str()),
        (Role::Retry, "frameio.retry")
    );
    assert_eq!(copy.routing_key, "alpha");
    assert_eq!(header(copy, ATTEMPT_HEADER).as_deref(), Some("3"));
    assert_eq!(header(copy, DELAY_HEADER).as_deref(), Some("200"));
    let ttl: u64 = copy
        .properties
        .expiration()
        .as_ref()
        .unwrap()
        .as_str()
        .parse()
        .unwrap();
    assert!((100..=200).contains(&ttl), "jittered TTL {ttl}");
}

#[tokio::test]
async fn the_last_attempt_of_a_transient_failure_is_dead_lettered_with_a_result() {
    let settings = settings(&[]);
    let body = job("j-4", fail(5, false));

    let settlement = executor(&settings, test_kinds())
        .execute(&incoming(body.clone(), "j-4", Some(3)))
        .await;

    assert_eq!(
        settlement.verdict,
        Verdict::DeadLettered(ErrorClass::Transient)
    );
    let dead = &settlement.messages[0];
    assert_eq!(
        (dead.role, dead.exchange.as_str()),
        (Role::DeadLetter, "frameio.dead")
    );
    assert_eq!(dead.body, body);
    assert_eq!(header(dead, headers::REASON).as_deref(), Some("transient"));
    assert_eq!(header(dead, headers::ATTEMPTS).as_deref(), Some("3"));
    let result = result_of(&settlement);
    assert_eq!((result.outcome, result.attempts), (Outcome::Failed, 3));
    assert!(result
        .error
        .unwrap()
        .message
        .starts_with("gave up after 3 attempts"));
}

#[tokio::test]
async fn poison_is_dead_lettered_with_its_class_before_any_handler_runs() {
    let settings = settings(&[("FLEET__WORKER__MAX_MESSAGE_BYTES", "64")]);
    let executor = executor(&settings, test_kinds());
    let cases = [
        (b"not json".to_vec(), ErrorClass::NotJson),
        (vec![b' '; 65], ErrorClass::TooLarge),
        (br#"{"version":1}"#.to_vec(), ErrorClass::InvalidJob),
        (
            br#"{"version":1,"id":"x","account":"alpha","kind":"no.such"}"#.to_vec(),
            ErrorClass::UnknownKind,
        ),
    ];

    for (body, class) in cases {
        let settlement = executor.execute(&incoming(body, "p", None)).await;

        assert_eq!(settlement.verdict, Verdict::DeadLettered(class));
        let result = result_of(&settlement);
        assert_eq!((result.attempts, result.error.unwrap().class), (1, class));
        assert_eq!(
            result.job_id.as_deref(),
            Some("p"),
            "the message id names the job"
        );
    }
}

#[tokio::test]
async fn a_kind_that_is_not_enabled_and_an_unrouted_job_are_refused() {
    let settings = settings(&[]);
    let body = job("j-5", JobSpec::Noop(Default::default()));
    let mut unrouted = incoming(body.clone(), "j-5", None);
    unrouted.account = UNROUTED.into();

    let disabled = executor(&settings, Handlers::new())
        .execute(&incoming(body, "j-5", None))
        .await;
    let unknown = executor(&settings, test_kinds()).execute(&unrouted).await;

    assert_eq!(
        disabled.verdict,
        Verdict::DeadLettered(ErrorClass::KindDisabled)
    );
    assert_eq!(
        unknown.verdict,
        Verdict::DeadLettered(ErrorClass::UnknownAccount)
    );
}

/// A handler that panics, or one that never returns.
struct Broken {
    hang: bool,
}

impl JobHandler for Broken {
    fn run<'a>(&'a self, _context: &'a JobContext) -> BoxFuture<'a, HandlerOutput> {
        Box::pin(async move {
            if self.hang {
                std::future::pending::<()>().await;
            }
            panic!("handler bug with an internal detail");
        })
    }
}

#[tokio::test]
async fn a_panicking_handler_fails_its_job_permanently_and_the_executor_goes_on() {
    let settings = settings(&[]);
    let mut handlers = test_kinds();
    handlers.register("test.fail", Broken { hang: false });
    let executor = executor(&settings, handlers);

    let broken = executor
        .execute(&incoming(job("j-6", fail(0, false)), "j-6", None))
        .await;
    let next = executor
        .execute(&incoming(
            job("j-7", JobSpec::Noop(Default::default())),
            "j-7",
            None,
        ))
        .await;

    assert_eq!(broken.verdict, Verdict::DeadLettered(ErrorClass::Permanent));
    let error = result_of(&broken).error.unwrap();
    assert!(error.message.contains("panicked"), "{}", error.message);
    assert!(
        !error.message.contains("internal detail"),
        "the panic text stays in the log"
    );
    assert_eq!(next.verdict, Verdict::Succeeded);
    assert_eq!(executor.metrics.in_flight.get(), 0);
}

#[tokio::test]
async fn a_handler_that_hangs_is_cut_off_by_the_job_timeout_and_retried() {
    let settings = settings(&[("FLEET__WORKER__JOB_TIMEOUT_SECS", "1")]);
    let mut handlers = test_kinds();
    handlers.register("test.fail", Broken { hang: true });

    let settlement = executor(&settings, handlers)
        .execute(&incoming(job("j-8", fail(0, false)), "j-8", None))
        .await;

    assert_eq!(
        settlement.verdict,
        Verdict::Retry {
            delay: Duration::from_millis(100),
            class: ErrorClass::Timeout
        }
    );
}

#[tokio::test]
async fn the_last_delivery_the_broker_allows_is_refused_with_a_result() {
    let settings = settings(&[("FLEET__TOPOLOGY__DELIVERY_LIMIT", "4")]);
    let executor = executor(&settings, test_kinds());
    let delivered = |count: i64| {
        let mut delivery = incoming(job("j-9", JobSpec::Noop(Default::default())), "j-9", None);
        let mut headers = FieldTable::default();
        headers.insert(DELIVERY_COUNT_HEADER.into(), AMQPValue::LongLongInt(count));
        delivery.properties = delivery.properties.with_headers(headers);
        delivery
    };

    let still_allowed = executor.execute(&delivered(3)).await;
    let last = executor.execute(&delivered(4)).await;

    assert_eq!(still_allowed.verdict, Verdict::Succeeded);
    assert_eq!(
        last.verdict,
        Verdict::DeadLettered(ErrorClass::DeliveryLimit)
    );
    let error = result_of(&last).error.unwrap();
    assert!(
        error.message.starts_with("delivered 5 times"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn a_retry_copy_does_not_inherit_the_delivery_count_of_the_original() {
    let settings = settings(&[]);
    let mut delivery = incoming(job("j-10", fail(5, false)), "j-10", None);
    let mut headers = FieldTable::default();
    headers.insert(DELIVERY_COUNT_HEADER.into(), AMQPValue::LongLongInt(3));
    headers.insert("x-backend-trace".into(), string("kept"));
    delivery.properties = delivery.properties.with_headers(headers);

    let settlement = executor(&settings, test_kinds()).execute(&delivery).await;

    let copy = &settlement.messages[0];
    assert_eq!(copy.role, Role::Retry);
    assert_eq!(header(copy, DELIVERY_COUNT_HEADER), None);
    assert_eq!(header(copy, "x-backend-trace").as_deref(), Some("kept"));
}
