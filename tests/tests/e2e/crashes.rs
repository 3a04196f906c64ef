//! A worker killed with SIGKILL mid-batch loses nothing: a second worker finishes the jobs.

use std::time::Duration;

use fleet_tests::bed::ALPHA;
use fleet_tests::{ResultCollector, TestBed, WorkerProcess};

use crate::helpers::{ids, jobs, sleep};

/// 5,000 jobs; the first worker is killed with SIGKILL after about a fifth of the results,
/// a second worker finishes. Every job id has a result; jobs whose result was confirmed but
/// not acked when the first died run twice, and those duplicates stay within one prefetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_batch_loses_no_job() {
    let mut bed = TestBed::new("sigkill");
    bed.set("FLEET__WORKER__PREFETCH", "64")
        .set("FLEET__WORKER__CONCURRENCY", "32");
    let mut results = ResultCollector::bind(&bed).await;
    let batch = jobs("k", ALPHA, 5_000, sleep(2));
    bed.publish(&batch).await;

    let mut first = WorkerProcess::start(bed.env(), "sigkill-first");
    let early = results.read(1_000, Duration::from_secs(60)).await;
    let early = early.unwrap_or_else(|| panic!("first worker stalled: {}", first.log()));
    first.kill();

    let second = WorkerProcess::start(bed.env(), "sigkill-second");
    let expected = ids(&batch);
    let collected = results
        .complete(
            early,
            &expected,
            Duration::from_secs(240),
            Duration::from_secs(1),
        )
        .await;

    let missing: Vec<_> = collected.missing(&expected).take(5).collect();
    assert!(
        missing.is_empty(),
        "lost jobs {missing:?}; second worker: {}",
        second.log()
    );
    let duplicates = collected.duplicates();
    println!("SIGKILL mid-batch: 5000 jobs, {duplicates} duplicate results");
    assert!(
        duplicates <= 64,
        "{duplicates} duplicates, more than one prefetch"
    );
    drop(second);
    assert_eq!(bed.queue_len(&bed.names.account_queue(ALPHA)).await, 0);
}
