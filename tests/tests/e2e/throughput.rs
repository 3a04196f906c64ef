//! Volume: many jobs through one worker, each with exactly the results it should have.

use std::time::Duration;

use fleet_protocol::Outcome;
use fleet_tests::bed::ALPHA;
use fleet_tests::{InProcessWorker, ResultCollector, TestBed};

use crate::helpers::{ids, jobs, noop};

/// 10,000 jobs through one worker end up as 10,000 confirmed results and an empty queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_jobs_end_as_ten_thousand_results_and_an_empty_queue() {
    let bed = TestBed::new("volume");
    let mut results = ResultCollector::bind(&bed).await;
    let batch = jobs("v", ALPHA, 10_000, noop());
    let connection = bed.connect().await;
    bed.publisher(&connection)
        .await
        .publish_many(&batch, 512)
        .await
        .expect("publish");

    let worker = InProcessWorker::start(bed.settings()).await;
    let expected = ids(&batch);
    let collected = results
        .collect(
            &expected,
            Duration::from_secs(240),
            Duration::from_millis(500),
        )
        .await;

    let missing: Vec<_> = collected.missing(&expected).take(5).collect();
    assert!(missing.is_empty(), "jobs without a result: {missing:?}");
    assert_eq!(collected.total(), 10_000, "one result per job, no more");
    assert!(collected
        .by_id
        .values()
        .all(|results| results[0].outcome == Outcome::Succeeded && results[0].attempts == 1));

    // Once the worker is gone, anything it had not acked would be back in the queue.
    worker.stop().await.expect("clean stop");
    assert_eq!(bed.queue_len(&bed.names.account_queue(ALPHA)).await, 0);
}
