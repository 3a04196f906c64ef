//! Per-operation rate limits: the published table, the limiter that enforces it per
//! (account user, operation), and the record of the busiest window seen.
//!
//! The table is `spec/frameio/endpoints-v4.tsv`, embedded at build time. Each row reads like
//! "10 calls per 1.00 minute(s) per account_user".

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::config::RateLimitMode;

/// The published per-operation limits, embedded at build time.
const ENDPOINTS_TSV: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../spec/frameio/endpoints-v4.tsv"
));

/// A limit: `calls` requests per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Requests allowed per window.
    pub calls: u32,
    /// The window length.
    pub window: Duration,
}

impl Limit {
    /// The window in milliseconds, as the `x-ratelimit-window` header reports it.
    pub fn window_ms(&self) -> u64 {
        u64::try_from(self.window.as_millis()).unwrap_or(u64::MAX)
    }
}

/// Parses "10 calls per 1.00 minute(s) per account_user" into a [`Limit`].
pub fn parse_limit(text: &str) -> Option<Limit> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let calls: u32 = words.first()?.parse().ok()?;
    let amount: f64 = words.get(3)?.parse().ok()?;
    let unit = words.get(4)?;
    let seconds = if unit.starts_with("minute") {
        60.0
    } else if unit.starts_with("second") {
        1.0
    } else if unit.starts_with("hour") {
        3600.0
    } else {
        return None;
    };
    Some(Limit {
        calls,
        window: Duration::from_secs_f64(amount * seconds),
    })
}

/// The published limit of every operation, keyed by operation id.
pub fn published_limits() -> HashMap<String, Limit> {
    let mut header: Option<Vec<&str>> = None;
    let mut limits = HashMap::new();
    for line in ENDPOINTS_TSV.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let Some(names) = &header else {
            header = Some(fields);
            continue;
        };
        let column = |name: &str| {
            names
                .iter()
                .position(|n| *n == name)
                .and_then(|i| fields.get(i).copied())
        };
        if let (Some(op), Some(Some(limit))) =
            (column("operation"), column("rate_limit").map(parse_limit))
        {
            limits.insert(op.to_owned(), limit);
        }
    }
    limits
}

/// The outcome of asking the limiter for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub admitted: bool,
    /// The (scaled) limit, for `x-ratelimit-limit`.
    pub limit: u32,
    /// Requests still allowed right now, for `x-ratelimit-remaining`.
    pub remaining: u32,
    /// The window in milliseconds, for `x-ratelimit-window`.
    pub window_ms: u64,
}

/// The state of one (user, operation) pair.
#[derive(Debug)]
struct Bucket {
    limit: Limit,
    /// Leaky bucket: theoretical arrival time of the next request.
    tat: Instant,
    /// Admission times within the last window, for the sliding-window mode and the stats.
    recent: VecDeque<Instant>,
    /// The most admissions seen in any window of the limit's length.
    max_in_window: u32,
    /// Every request (admitted or not) within the last window, for the stats.
    attempts: VecDeque<Instant>,
    /// The most requests seen in any window of the limit's length.
    max_attempts_in_window: u32,
    admitted: u64,
    throttled: u64,
}

/// What the limiter has observed for one (user, operation) pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketStats {
    /// The user id.
    pub user_id: String,
    /// The operation id.
    pub operation: String,
    /// The scaled limit.
    pub limit: u32,
    /// The window in milliseconds.
    pub window_ms: u64,
    /// The most admitted requests in any window of `window_ms`.
    pub max_admitted_in_window: u32,
    /// The most requests, admitted or refused, in any window of `window_ms`.
    pub max_requests_in_window: u32,
    /// Requests admitted.
    pub admitted: u64,
    /// Requests answered 429.
    pub throttled: u64,
}

/// Enforces the published limits per (user, operation).
#[derive(Debug)]
pub struct Limiter {
    published: HashMap<String, Limit>,
    scale: f64,
    mode: RateLimitMode,
    buckets: HashMap<(String, String), Bucket>,
}

impl Limiter {
    /// A limiter over the published table, every rate multiplied by `scale`.
    pub fn new(scale: f64, mode: RateLimitMode) -> Self {
        Limiter {
            published: published_limits(),
            scale,
            mode,
            buckets: HashMap::new(),
        }
    }

    /// The scaled limit of an operation; operations absent from the table get 100/min.
    pub fn limit_of(&self, operation: &str) -> Limit {
        let published = self.published.get(operation).copied().unwrap_or(Limit {
            calls: 100,
            window: Duration::from_secs(60),
        });
        let scaled = (f64::from(published.calls) * self.scale).round();
        Limit {
            calls: if scaled < 1.0 {
                1
            } else {
                scaled.min(f64::from(u32::MAX)) as u32
            },
            window: published.window,
        }
    }

    /// The headers to report without consuming anything, e.g. on a 401.
    pub fn peek(&self, user_id: Option<&str>, operation: &str, now: Instant) -> Decision {
        let limit = self.limit_of(operation);
        let remaining = user_id
            .and_then(|u| self.buckets.get(&(u.to_owned(), operation.to_owned())))
            .map_or(limit.calls, |b| self.remaining(b, now));
        Decision {
            admitted: true,
            limit: limit.calls,
            remaining,
            window_ms: limit.window_ms(),
        }
    }

    /// Asks to admit one request of `user_id` for `operation` at `now`.
    pub fn check(&mut self, user_id: &str, operation: &str, now: Instant) -> Decision {
        let limit = self.limit_of(operation);
        let mode = self.mode;
        let bucket = self
            .buckets
            .entry((user_id.to_owned(), operation.to_owned()))
            .or_insert_with(|| Bucket {
                limit,
                tat: now,
                recent: VecDeque::new(),
                max_in_window: 0,
                attempts: VecDeque::new(),
                max_attempts_in_window: 0,
                admitted: 0,
                throttled: 0,
            });
        forget_before(&mut bucket.recent, now, limit.window);
        forget_before(&mut bucket.attempts, now, limit.window);
        bucket.attempts.push_back(now);
        let attempts = u32::try_from(bucket.attempts.len()).unwrap_or(u32::MAX);
        bucket.max_attempts_in_window = bucket.max_attempts_in_window.max(attempts);

        let admitted = match mode {
            RateLimitMode::LeakyBucket => leaky_admit(bucket, now),
            RateLimitMode::SlidingWindow => bucket.recent.len() < limit.calls as usize,
        };
        if admitted {
            bucket.admitted += 1;
            bucket.recent.push_back(now);
            let in_window = u32::try_from(bucket.recent.len()).unwrap_or(u32::MAX);
            bucket.max_in_window = bucket.max_in_window.max(in_window);
        } else {
            bucket.throttled += 1;
        }

        let remaining = if admitted {
            self.remaining_of(user_id, operation, now)
        } else {
            0
        };
        Decision {
            admitted,
            limit: limit.calls,
            remaining,
            window_ms: limit.window_ms(),
        }
    }

    fn remaining_of(&self, user_id: &str, operation: &str, now: Instant) -> u32 {
        self.buckets
            .get(&(user_id.to_owned(), operation.to_owned()))
            .map_or(0, |b| self.remaining(b, now))
    }

    fn remaining(&self, bucket: &Bucket, now: Instant) -> u32 {
        let calls = bucket.limit.calls;
        match self.mode {
            RateLimitMode::LeakyBucket => {
                // The bucket holds `calls` requests; what is still queued in it is the time
                // until the theoretical arrival time, in emission intervals.
                let interval = (bucket.limit.window / calls).as_nanos().max(1);
                let backlog = bucket.tat.saturating_duration_since(now).as_nanos();
                let queued = backlog.div_ceil(interval);
                u32::try_from(u128::from(calls).saturating_sub(queued)).unwrap_or(0)
            }
            RateLimitMode::SlidingWindow => {
                let cutoff = now.checked_sub(bucket.limit.window);
                let live = bucket
                    .recent
                    .iter()
                    .filter(|t| cutoff.is_none_or(|c| **t > c))
                    .count();
                calls.saturating_sub(u32::try_from(live).unwrap_or(u32::MAX))
            }
        }
    }

    /// What has been observed so far, for every pair that saw a request.
    pub fn stats(&self) -> Vec<BucketStats> {
        let mut all: Vec<BucketStats> = self
            .buckets
            .iter()
            .map(|((user, op), b)| BucketStats {
                user_id: user.clone(),
                operation: op.clone(),
                limit: b.limit.calls,
                window_ms: b.limit.window_ms(),
                max_admitted_in_window: b.max_in_window,
                max_requests_in_window: b.max_attempts_in_window,
                admitted: b.admitted,
                throttled: b.throttled,
            })
            .collect();
        all.sort_by(|a, b| (&a.user_id, &a.operation).cmp(&(&b.user_id, &b.operation)));
        all
    }

    /// Forgets the observed maxima and counters but keeps the buckets' fill levels and
    /// recent admissions, so a reset of the statistics does not hand out a fresh burst.
    pub fn reset_stats(&mut self) {
        for bucket in self.buckets.values_mut() {
            bucket.max_in_window = 0;
            bucket.max_attempts_in_window = 0;
            bucket.admitted = 0;
            bucket.throttled = 0;
            bucket.attempts.clear();
        }
    }
}

/// GCRA form of the leaky bucket: each request adds one emission interval to the
/// theoretical arrival time, and a request is refused when the bucket would overflow.
fn leaky_admit(bucket: &mut Bucket, now: Instant) -> bool {
    let calls = bucket.limit.calls;
    let interval = bucket.limit.window / calls;
    let tolerance = interval * (calls - 1);
    let start = bucket.tat.max(now);
    if start.duration_since(now) > tolerance {
        return false;
    }
    bucket.tat = start + interval;
    true
}

fn forget_before(recent: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    let Some(cutoff) = now.checked_sub(window) else {
        return;
    };
    while recent.front().is_some_and(|t| *t <= cutoff) {
        recent.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_published_forms() {
        let per_minute = parse_limit("10 calls per 1.00 minute(s) per account_user").unwrap();
        assert_eq!(per_minute.calls, 10);
        assert_eq!(per_minute.window, Duration::from_secs(60));
        let per_second = parse_limit("5 calls per 1 second(s) per account_user").unwrap();
        assert_eq!(per_second.window_ms(), 1000);
    }

    #[test]
    fn table_covers_core_operations() {
        let limits = published_limits();
        assert_eq!(limits["folders.create"].calls, 3);
        assert_eq!(limits["files.show"].calls, 10);
        assert_eq!(limits["users.show"].window, Duration::from_secs(60));
        assert!(limits.len() >= 90, "{} operations", limits.len());
    }

    #[test]
    fn leaky_bucket_admits_burst_then_refuses() {
        let mut limiter = Limiter::new(1.0, RateLimitMode::LeakyBucket);
        let now = Instant::now();
        for i in 0..3 {
            let d = limiter.check("u", "folders.create", now);
            assert!(d.admitted, "request {i}");
            assert_eq!(d.remaining, 2 - i);
        }
        assert!(!limiter.check("u", "folders.create", now).admitted);
        assert!(limiter.check("other", "folders.create", now).admitted);

        let later = now + Duration::from_millis(340);
        assert!(limiter.check("u", "folders.create", later).admitted);
    }

    #[test]
    fn sliding_window_never_exceeds_limit() {
        let mut limiter = Limiter::new(1.0, RateLimitMode::SlidingWindow);
        let start = Instant::now();
        for ms in 0..3000u64 {
            limiter.check("u", "folders.create", start + Duration::from_millis(ms));
        }
        let stats = limiter.stats();
        assert_eq!(stats[0].max_admitted_in_window, 3);
        assert!(stats[0].throttled > 0);
    }

    #[test]
    fn scale_multiplies_calls() {
        let limiter = Limiter::new(10.0, RateLimitMode::LeakyBucket);
        assert_eq!(limiter.limit_of("folders.create").calls, 30);
    }
}
