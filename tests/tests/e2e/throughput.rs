//! Volume: many jobs through one worker, each with exactly the results it should have.

use fleet_protocol::Outcome;
use fleet_tests::bed::ALPHA;
use fleet_tests::TestBed;
use fleet_worker::metrics::sum_samples;

use crate::helpers::{jobs, noop, run_batch};

/// 10,000 jobs through one worker end up as 10,000 confirmed results and an empty queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_jobs_end_as_ten_thousand_results_and_an_empty_queue() {
    let bed = TestBed::new("volume");
    let batch = jobs("v", ALPHA, 10_000, noop());

    let (collected, page) = run_batch(&bed, &batch).await;

    assert_eq!(collected.total(), 10_000, "one result per job, no more");
    assert!(collected
        .by_id
        .values()
        .all(|results| results[0].outcome == Outcome::Succeeded && results[0].attempts == 1));
    assert_eq!(sum_samples(&page, "fleet_jobs_total", &[]), 10_000.0);
    // The worker is stopped: anything it had not acked would be back in the queue.
    assert_eq!(bed.queue_len(&bed.names.account_queue(ALPHA)).await, 0);
}
