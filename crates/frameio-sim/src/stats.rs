//! Counters that tests and benchmarks read back: requests per operation and status, 429s,
//! IMS token requests, injected faults, and the busiest window per (user, operation).
//!
//! [`Stats`] is both what [`crate::SimHandle::stats`] returns and the JSON body of
//! `GET /_sim/stats`, so an out-of-process caller can deserialize it the same way.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A snapshot of everything the simulator counted since start or the last reset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Requests per operation id, then per HTTP status (as a string, e.g. "200").
    pub requests: BTreeMap<String, BTreeMap<String, u64>>,
    /// Requests answered 429 Too Many Requests.
    pub throttled: u64,
    /// IMS token endpoint counters.
    pub ims: ImsStats,
    /// Injected faults.
    pub faults: FaultStats,
    /// Per (user, operation): the limit and the busiest window observed.
    pub rate_limits: Vec<RateStats>,
    /// Local-upload parts stored completely.
    pub upload_parts_received: u64,
    /// Bytes received through upload part requests.
    pub upload_bytes_received: u64,
}

/// IMS token endpoint counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImsStats {
    /// Every request to the token endpoint.
    pub token_requests: u64,
    /// Tokens issued.
    pub tokens_issued: u64,
    /// Requests per client id as sent (a missing client id counts under "").
    pub requests_by_client: BTreeMap<String, u64>,
    /// Tokens issued per client id.
    pub issued_by_client: BTreeMap<String, u64>,
}

/// Faults that were injected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultStats {
    /// Requests answered with an injected error status.
    pub errors: u64,
    /// Connections closed without an answer.
    pub dropped: u64,
    /// Requests delayed by injected latency.
    pub delayed: u64,
}

/// What the limiter observed for one (user, operation) pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateStats {
    /// The Frame.io user id the service account acts as.
    pub user_id: String,
    /// The IMS client id of that user.
    pub client_id: String,
    /// The operation id.
    pub operation: String,
    /// The limit in force (already scaled).
    pub limit: u32,
    /// The limit's window in milliseconds.
    pub window_ms: u64,
    /// The most admitted requests in any window of `window_ms`.
    pub max_admitted_in_window: u32,
    /// The most requests, admitted or refused, in any window of `window_ms`: the rate the
    /// callers actually sent.
    pub max_requests_in_window: u32,
    /// Requests admitted.
    pub admitted: u64,
    /// Requests refused with 429.
    pub throttled: u64,
}

impl Stats {
    /// Requests of one operation with one status.
    pub fn count(&self, operation: &str, status: u16) -> u64 {
        self.requests
            .get(operation)
            .and_then(|by_status| by_status.get(&status.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// All requests of one operation.
    pub fn total(&self, operation: &str) -> u64 {
        self.requests
            .get(operation)
            .map_or(0, |by_status| by_status.values().sum())
    }

    /// The limiter's record for one client and operation.
    pub fn rate(&self, client_id: &str, operation: &str) -> Option<&RateStats> {
        self.rate_limits
            .iter()
            .find(|r| r.client_id == client_id && r.operation == operation)
    }
}

/// The mutable counters behind [`Stats`]; the limiter's part is merged in on snapshot.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    pub(crate) stats: Stats,
}

impl Recorder {
    /// Counts one answered request.
    pub(crate) fn request(&mut self, operation: &str, status: u16) {
        *self
            .stats
            .requests
            .entry(operation.to_owned())
            .or_default()
            .entry(status.to_string())
            .or_default() += 1;
        if status == 429 {
            self.stats.throttled += 1;
        }
    }

    /// Counts one upload part that arrived completely.
    pub(crate) fn upload_part(&mut self, bytes: u64) {
        self.stats.upload_parts_received += 1;
        self.stats.upload_bytes_received += bytes;
    }

    /// Counts one IMS token request and whether it issued a token.
    pub(crate) fn ims(&mut self, client_id: &str, issued: bool) {
        let ims = &mut self.stats.ims;
        ims.token_requests += 1;
        *ims.requests_by_client
            .entry(client_id.to_owned())
            .or_default() += 1;
        if issued {
            ims.tokens_issued += 1;
            *ims.issued_by_client
                .entry(client_id.to_owned())
                .or_default() += 1;
        }
    }
}
