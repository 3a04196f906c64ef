//! Memory of the attempts this worker is running or has settled but not yet acked.
//!
//! When the broker connection drops, every unacked delivery goes back to its queue and comes
//! again, possibly to this same worker while the first copy still runs or after its result
//! was computed but not confirmed. The ledger makes such a redelivery wait for the running
//! attempt, or reuse its settlement, instead of running the job a second time: the result
//! that the broker did not confirm is published again, and the job is not repeated.
//!
//! Attempts are keyed by `message_id` and attempt number. Entries leave the ledger when the
//! delivery is acked; entries whose redelivery went to another worker are dropped after
//! [`Ledger::RETENTION`], so the ledger stays bounded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::execute::Settlement;

/// The identity of one attempt of one job.
pub type AttemptKey = (String, u32);

/// What [`Ledger::begin`] found.
pub enum Begin {
    /// Nothing known: run the job, then call [`Ledger::settle`].
    Fresh,
    /// This attempt was settled already: publish this settlement again.
    Settled(Arc<Settlement>),
    /// This attempt is running now: wait for it with [`Ledger::wait`].
    Running(watch::Receiver<Option<Arc<Settlement>>>),
}

struct Entry {
    since: Instant,
    // Shared, not copied: every attempt is settled here, and its messages can be large.
    state: watch::Sender<Option<Arc<Settlement>>>,
}

/// The attempts in flight or awaiting an ack. Cheap to clone; clones share state.
#[derive(Clone, Default)]
pub struct Ledger {
    entries: Arc<Mutex<HashMap<AttemptKey, Entry>>>,
    /// When old entries were last swept out. Sweeping walks every entry, so it runs once per
    /// [`Ledger::SWEEP_INTERVAL`] rather than on every attempt.
    last_sweep: Arc<Mutex<Option<Instant>>>,
}

impl Ledger {
    /// How long a settled attempt is remembered when no redelivery comes for it.
    pub const RETENTION: Duration = Duration::from_secs(3600);

    /// How often entries past their retention are looked for.
    pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

    /// An empty ledger.
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// Registers the start of an attempt, or tells what is known about it.
    pub fn begin(&self, key: &AttemptKey) -> Begin {
        let now = Instant::now();
        let mut entries = self.entries.lock().expect("ledger lock");
        if self.sweep_due(now) {
            self.forget_old(&mut entries);
        }

        if let Some(entry) = entries.get(key) {
            let state = entry.state.borrow().clone();
            return match state {
                Some(settlement) => Begin::Settled(settlement),
                None => Begin::Running(entry.state.subscribe()),
            };
        }

        let (state, _) = watch::channel(None);
        entries.insert(key.clone(), Entry { since: now, state });
        Begin::Fresh
    }

    /// Records the settlement of a running attempt and wakes its waiting redeliveries.
    pub fn settle(&self, key: &AttemptKey, settlement: &Arc<Settlement>) {
        let entries = self.entries.lock().expect("ledger lock");
        if let Some(entry) = entries.get(key) {
            entry.state.send_replace(Some(Arc::clone(settlement)));
        }
    }

    /// Waits until a running attempt is settled.
    pub async fn wait(
        mut running: watch::Receiver<Option<Arc<Settlement>>>,
    ) -> Option<Arc<Settlement>> {
        let settled = running.wait_for(Option::is_some).await.ok()?;
        settled.clone()
    }

    /// Forgets an attempt once its delivery is acked.
    pub fn finish(&self, key: &AttemptKey) {
        self.entries.lock().expect("ledger lock").remove(key);
    }

    /// The number of attempts remembered.
    pub fn len(&self) -> usize {
        self.entries.lock().expect("ledger lock").len()
    }

    /// Whether no attempt is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a sweep is due at `now`; if so, records it as done.
    fn sweep_due(&self, now: Instant) -> bool {
        let mut last = self.last_sweep.lock().expect("ledger sweep lock");
        let due = last.is_none_or(|last| now.duration_since(last) >= Self::SWEEP_INTERVAL);
        if due {
            *last = Some(now);
        }
        due
    }

    fn forget_old(&self, entries: &mut HashMap<AttemptKey, Entry>) {
        let settled_and_old = |entry: &Entry| {
            entry.since.elapsed() > Self::RETENTION && entry.state.borrow().is_some()
        };
        entries.retain(|_, entry| !settled_and_old(entry));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::Verdict;

    fn settlement() -> Settlement {
        Settlement {
            account: "a".into(),
            kind: "test.noop",
            job_id: Some("j".into()),
            verdict: Verdict::Succeeded,
            messages: Vec::new(),
        }
    }

    #[tokio::test]
    async fn a_redelivery_waits_for_the_running_attempt_and_reuses_its_settlement() {
        let ledger = Ledger::new();
        let key = ("j".to_owned(), 1);
        assert!(matches!(ledger.begin(&key), Begin::Fresh));

        let Begin::Running(receiver) = ledger.begin(&key) else {
            panic!("second begin must see the running attempt");
        };
        let waiter = tokio::spawn(Ledger::wait(receiver));
        ledger.settle(&key, &Arc::new(settlement()));
        let reused = waiter.await.unwrap().expect("settled");
        assert_eq!(reused.verdict, Verdict::Succeeded);

        assert!(matches!(ledger.begin(&key), Begin::Settled(_)));
        ledger.finish(&key);
        assert!(ledger.is_empty());
        assert!(matches!(ledger.begin(&("j".to_owned(), 2)), Begin::Fresh));
    }
}
