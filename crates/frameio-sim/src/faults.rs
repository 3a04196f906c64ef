//! Fault injection: error answers, added latency and dropped connections, chosen per request
//! from a configuration that tests change at runtime.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which faults to inject into Frame.io requests (and IMS requests when `ims` is set).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Share of requests (0.0 to 1.0) answered with `error_status` instead of being served.
    pub error_rate: f64,
    /// Status of injected errors; 0 means 503.
    pub error_status: u16,
    /// The next this-many requests are answered with `error_status`, whatever the rate.
    pub fail_next: u32,
    /// Latency added before every request is served, in milliseconds.
    pub latency_ms: u64,
    /// Share of requests (0.0 to 1.0) whose connection is closed without an answer.
    pub drop_rate: f64,
    /// The next this-many requests have their connection closed without an answer.
    pub drop_next: u32,
    /// When not empty, faults hit only these operation ids (`ims.token` names IMS).
    pub operations: Vec<String>,
    /// Whether IMS token requests are subject to faults as well.
    pub ims: bool,
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// Serve it normally.
    None,
    /// Answer with this status.
    Error(u16),
    /// Close the connection without answering.
    Drop,
}

impl FaultConfig {
    /// Whether this operation is subject to the configured faults.
    pub fn applies_to(&self, operation: &str) -> bool {
        let is_ims = operation == crate::auth::IMS_OPERATION;
        if is_ims && !self.ims {
            return false;
        }
        self.operations.is_empty() || self.operations.iter().any(|op| op == operation)
    }

    /// The latency to add before serving.
    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms)
    }

    /// Decides the fault for one request, consuming a `drop_next` or `fail_next` credit.
    pub fn decide(&mut self, operation: &str) -> FaultAction {
        if !self.applies_to(operation) {
            return FaultAction::None;
        }

        if self.drop_next > 0 {
            self.drop_next -= 1;
            return FaultAction::Drop;
        }
        if self.fail_next > 0 {
            self.fail_next -= 1;
            return FaultAction::Error(self.status());
        }
        if self.drop_rate > 0.0 && rand::random::<f64>() < self.drop_rate {
            return FaultAction::Drop;
        }
        if self.error_rate > 0.0 && rand::random::<f64>() < self.error_rate {
            return FaultAction::Error(self.status());
        }
        FaultAction::None
    }

    fn status(&self) -> u16 {
        if (500..=599).contains(&self.error_status) || (400..=499).contains(&self.error_status) {
            self.error_status
        } else {
            503
        }
    }
}

/// A change to the faults and tokens, as posted to `POST /_sim/faults`. Absent fields keep
/// their current value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultUpdate {
    /// New error rate.
    pub error_rate: Option<f64>,
    /// New error status.
    pub error_status: Option<u16>,
    /// New count of requests to fail.
    pub fail_next: Option<u32>,
    /// New added latency in milliseconds.
    pub latency_ms: Option<u64>,
    /// New drop rate.
    pub drop_rate: Option<f64>,
    /// New count of connections to drop.
    pub drop_next: Option<u32>,
    /// New operation filter.
    pub operations: Option<Vec<String>>,
    /// Whether IMS is subject to faults.
    pub ims: Option<bool>,
    /// Makes issued tokens expire now: all of them, or one client's.
    pub expire_tokens: Option<TokenScope>,
    /// Revokes issued tokens: all of them, or one client's.
    pub revoke_tokens: Option<TokenScope>,
    /// Clears every fault before applying the other fields.
    pub clear: bool,
}

/// Which tokens an expiry or revocation applies to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenScope {
    /// Only this client's tokens; all tokens when absent.
    pub client_id: Option<String>,
}

impl FaultUpdate {
    /// Applies the fault fields to `config`; token actions are left to the caller.
    pub fn apply(&self, config: &mut FaultConfig) {
        if self.clear {
            *config = FaultConfig::default();
        }
        if let Some(v) = self.error_rate {
            config.error_rate = v;
        }
        if let Some(v) = self.error_status {
            config.error_status = v;
        }
        if let Some(v) = self.fail_next {
            config.fail_next = v;
        }
        if let Some(v) = self.latency_ms {
            config.latency_ms = v;
        }
        if let Some(v) = self.drop_rate {
            config.drop_rate = v;
        }
        if let Some(v) = self.drop_next {
            config.drop_next = v;
        }
        if let Some(v) = &self.operations {
            config.operations = v.clone();
        }
        if let Some(v) = self.ims {
            config.ims = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_consumed_in_order() {
        let mut faults = FaultConfig {
            drop_next: 1,
            fail_next: 1,
            ..FaultConfig::default()
        };
        assert_eq!(faults.decide("files.show"), FaultAction::Drop);
        assert_eq!(faults.decide("files.show"), FaultAction::Error(503));
        assert_eq!(faults.decide("files.show"), FaultAction::None);
    }

    #[test]
    fn operation_filter_and_ims_flag() {
        let mut faults = FaultConfig {
            error_rate: 1.0,
            operations: vec!["files.show".to_owned()],
            ..FaultConfig::default()
        };
        assert_eq!(faults.decide("files.list"), FaultAction::None);
        assert_eq!(faults.decide("files.show"), FaultAction::Error(503));

        let mut ims = FaultConfig {
            error_rate: 1.0,
            ..FaultConfig::default()
        };
        assert_eq!(ims.decide(crate::auth::IMS_OPERATION), FaultAction::None);
        ims.ims = true;
        assert_eq!(
            ims.decide(crate::auth::IMS_OPERATION),
            FaultAction::Error(503)
        );
    }
}
