//! The IMS server-to-server token cache of one service account.
//!
//! A token is reused until `expires_in` minus a margin. When it must be fetched, exactly one
//! caller talks to IMS while the others wait on the same lock and then share the result, token
//! or error. Failures are remembered for a while (a rejected credential for minutes, a
//! throttled or unavailable IMS for its back-off), so that however many requests ask, IMS
//! sees a bounded number of calls.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tracing::{debug, error, info, warn};

use crate::config::{ClientConfig, Credentials};
use crate::error::{chain, ImsError};
use crate::rate_limit::retry_after;

/// IMS issues 24-hour tokens; this is assumed when `expires_in` is missing.
const DEFAULT_EXPIRES_IN: Duration = Duration::from_secs(86_400);

/// An access token and when it expires. `Debug` never shows the token.
#[derive(Clone)]
pub struct AccessToken {
    secret: SecretString,
    generation: u64,
    obtained_at: Instant,
    expires_at: Instant,
    refresh_at: Instant,
}

impl AccessToken {
    /// The bearer token, for the one call that puts it in an `Authorization` header.
    pub fn expose(&self) -> &str {
        self.secret.expose_secret()
    }

    /// Time until IMS considers the token expired (zero once it has).
    pub fn remaining(&self) -> Duration {
        self.expires_at.saturating_duration_since(Instant::now())
    }

    /// Sequence number of this token within its cache; a 401 names the token it refutes.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    fn is_fresh(&self, now: Instant) -> bool {
        now < self.refresh_at
    }

    fn is_usable(&self, now: Instant) -> bool {
        now < self.expires_at
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"[REDACTED]")
            .field("generation", &self.generation)
            .field("remaining", &self.remaining())
            .finish()
    }
}

/// Counters of the cache, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenStats {
    /// HTTP requests sent to IMS (retries included).
    pub ims_requests: u64,
    /// Tokens obtained.
    pub tokens_issued: u64,
    /// Fetches that ended without a token (after their retries).
    pub fetch_failures: u64,
    /// Tokens dropped because Frame.io answered 401.
    pub invalidations: u64,
}

#[derive(Default)]
struct Slot {
    token: Option<AccessToken>,
    failure: Option<(ImsError, Instant)>,
}

struct Settings {
    margin: Duration,
    max_retries: u32,
    backoff_base: Duration,
    backoff_cap: Duration,
    rejection_hold: Duration,
}

struct Inner {
    http: reqwest::Client,
    token_url: String,
    credentials: Credentials,
    settings: Settings,
    slot: Mutex<Slot>,
    fetch_lock: tokio::sync::Mutex<()>,
    generation: AtomicU64,
    ims_requests: AtomicU64,
    tokens_issued: AtomicU64,
    fetch_failures: AtomicU64,
    invalidations: AtomicU64,
}

/// The token cache of one service account; cheap to clone, clones share the cache.
#[derive(Clone)]
pub struct TokenCache {
    inner: Arc<Inner>,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("client_id", &self.inner.credentials.client_id)
            .field("token_url", &self.inner.token_url)
            .field("stats", &self.stats())
            .finish()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: SecretString,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct ImsErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

impl TokenCache {
    /// A cache that asks `{config.ims_base_url}/ims/token/v3` for tokens.
    pub fn new(http: reqwest::Client, config: &ClientConfig, credentials: Credentials) -> Self {
        let token_url = format!("{}/ims/token/v3", config.ims_base_url.trim_end_matches('/'));
        let settings = Settings {
            margin: config.token_refresh_margin(),
            max_retries: config.ims_max_retries,
            backoff_base: Duration::from_millis(config.ims_backoff_base_ms),
            backoff_cap: Duration::from_millis(config.ims_backoff_cap_ms),
            rejection_hold: Duration::from_secs(config.ims_rejection_hold_secs),
        };
        let inner = Inner {
            http,
            token_url,
            credentials,
            settings,
            slot: Mutex::new(Slot::default()),
            fetch_lock: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            ims_requests: AtomicU64::new(0),
            tokens_issued: AtomicU64::new(0),
            fetch_failures: AtomicU64::new(0),
            invalidations: AtomicU64::new(0),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The client id of the service account.
    pub fn client_id(&self) -> &str {
        &self.inner.credentials.client_id
    }

    /// A valid token: the cached one, or one fetched now (by this caller or another).
    pub async fn token(&self) -> Result<AccessToken, ImsError> {
        if let Some(answer) = self.cached(Instant::now()) {
            return answer;
        }

        let _guard = match self.inner.fetch_lock.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                // A refresh is under way; a token in its margin is still good meanwhile.
                if let Some(token) = self.usable(Instant::now()) {
                    return Ok(token);
                }
                self.inner.fetch_lock.lock().await
            }
        };

        // Another caller may have fetched (or failed) while this one waited for the lock.
        if let Some(answer) = self.cached(Instant::now()) {
            return answer;
        }
        self.fetch_and_store().await
    }

    /// Drops the token with this generation after Frame.io refused it; a token fetched since
    /// by another request is kept.
    pub fn invalidate(&self, generation: u64) {
        let mut slot = self.lock_slot();
        if slot
            .token
            .as_ref()
            .is_some_and(|t| t.generation == generation)
        {
            slot.token = None;
            self.inner.invalidations.fetch_add(1, Ordering::Relaxed);
            info!(client_id = %self.client_id(), generation, "access token refused, dropped");
        }
    }

    /// Time left on the cached token, `None` when there is none.
    pub fn remaining(&self) -> Option<Duration> {
        let slot = self.lock_slot();
        slot.token.as_ref().map(AccessToken::remaining)
    }

    /// The counters of this cache.
    pub fn stats(&self) -> TokenStats {
        let inner = &self.inner;
        TokenStats {
            ims_requests: inner.ims_requests.load(Ordering::Relaxed),
            tokens_issued: inner.tokens_issued.load(Ordering::Relaxed),
            fetch_failures: inner.fetch_failures.load(Ordering::Relaxed),
            invalidations: inner.invalidations.load(Ordering::Relaxed),
        }
    }

    fn lock_slot(&self) -> std::sync::MutexGuard<'_, Slot> {
        // The slot holds plain data that is never left half-written, so a poisoned lock is
        // still consistent.
        self.inner
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The answer the cache can give without IMS: a fresh token, or a remembered failure.
    fn cached(&self, now: Instant) -> Option<Result<AccessToken, ImsError>> {
        let slot = self.lock_slot();
        if let Some(token) = slot.token.as_ref().filter(|t| t.is_fresh(now)) {
            return Some(Ok(token.clone()));
        }
        match &slot.failure {
            Some((failure, until)) if now < *until => {
                let usable = slot.token.as_ref().filter(|t| t.is_usable(now));
                Some(usable.cloned().ok_or_else(|| failure.clone()))
            }
            _ => None,
        }
    }

    fn usable(&self, now: Instant) -> Option<AccessToken> {
        let slot = self.lock_slot();
        slot.token.as_ref().filter(|t| t.is_usable(now)).cloned()
    }

    async fn fetch_and_store(&self) -> Result<AccessToken, ImsError> {
        let result = self.fetch_with_retries().await;

        let now = Instant::now();
        let mut slot = self.lock_slot();
        match result {
            Ok(token) => {
                slot.token = Some(token.clone());
                slot.failure = None;
                Ok(token)
            }
            Err(failure) => {
                self.inner.fetch_failures.fetch_add(1, Ordering::Relaxed);
                let hold = self.failure_hold(&failure);
                slot.failure = Some((failure.clone(), now + hold));

                // A token in its refresh margin still works: prefer it to failing the request.
                match slot.token.as_ref().filter(|t| t.is_usable(now)) {
                    Some(token) => {
                        warn!(client_id = %self.client_id(), error = %failure,
                            "token refresh failed, using the current token until it expires");
                        Ok(token.clone())
                    }
                    None => Err(failure),
                }
            }
        }
    }

    /// How long a failure is handed out without asking IMS again.
    fn failure_hold(&self, failure: &ImsError) -> Duration {
        let settings = &self.inner.settings;
        match failure {
            ImsError::Rejected { .. } | ImsError::InvalidResponse { .. } => settings.rejection_hold,
            _ => failure
                .retry_after()
                .unwrap_or(settings.backoff_base)
                .min(settings.backoff_cap),
        }
    }

    async fn fetch_with_retries(&self) -> Result<AccessToken, ImsError> {
        let settings = &self.inner.settings;
        let mut attempt = 0;
        loop {
            let failure = match self.fetch_once().await {
                Ok(token) => return Ok(token),
                Err(failure) => failure,
            };

            let retryable = matches!(
                failure,
                ImsError::Throttled { .. } | ImsError::Unavailable { .. }
            );
            if !retryable || attempt >= settings.max_retries {
                self.log_failure(&failure);
                return Err(failure);
            }

            let delay = self.backoff(attempt, failure.retry_after());
            warn!(client_id = %self.client_id(), attempt, delay_ms = delay.as_millis() as u64,
                error = %failure, "IMS token request failed, retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let settings = &self.inner.settings;
        let exponential = settings.backoff_base.saturating_mul(1 << attempt.min(16));
        retry_after.unwrap_or(exponential).min(settings.backoff_cap)
    }

    fn log_failure(&self, failure: &ImsError) {
        match failure {
            ImsError::Rejected { .. } | ImsError::InvalidResponse { .. } => {
                error!(client_id = %self.client_id(), error = %failure,
                    "IMS refused the service account credentials");
            }
            _ => warn!(client_id = %self.client_id(), error = %failure,
                "IMS token request failed"),
        }
    }

    async fn fetch_once(&self) -> Result<AccessToken, ImsError> {
        let credentials = &self.inner.credentials;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", credentials.client_id.as_str()),
            ("client_secret", credentials.client_secret.expose_secret()),
            ("scope", credentials.scope.as_str()),
        ];

        debug!(client_id = %credentials.client_id, "requesting an IMS access token");
        self.inner.ims_requests.fetch_add(1, Ordering::Relaxed);
        let response = self
            .inner
            .http
            .post(&self.inner.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| unavailable(None, chain(&e.without_url()), None))?;

        let status = response.status().as_u16();
        let wait = retry_after(response.headers());
        let body = response
            .bytes()
            .await
            .map_err(|e| unavailable(Some(status), chain(&e.without_url()), wait))?;

        if status == 200 {
            return self.accept(&body);
        }
        Err(self.classify(status, &body, wait))
    }

    fn accept(&self, body: &[u8]) -> Result<AccessToken, ImsError> {
        let parsed: TokenResponse = serde_json::from_slice(body).map_err(|e| {
            // serde's message names the position, never the token text.
            ImsError::InvalidResponse {
                message: e.to_string(),
            }
        })?;

        if parsed
            .token_type
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
        {
            warn!(client_id = %self.client_id(), token_type = ?parsed.token_type,
                "IMS issued a token that is not a bearer token");
        }

        let lifetime = parsed
            .expires_in
            .filter(|seconds| *seconds > 0)
            .map_or(DEFAULT_EXPIRES_IN, Duration::from_secs);
        // A margin longer than half the lifetime would refresh on every request.
        let margin = self.inner.settings.margin.min(lifetime / 2);
        let now = Instant::now();
        let token = AccessToken {
            secret: parsed.access_token,
            generation: self.inner.generation.fetch_add(1, Ordering::Relaxed) + 1,
            obtained_at: now,
            expires_at: now + lifetime,
            refresh_at: now + lifetime - margin,
        };

        self.inner.tokens_issued.fetch_add(1, Ordering::Relaxed);
        info!(client_id = %self.client_id(), generation = token.generation,
            expires_in_secs = lifetime.as_secs(), "IMS access token obtained");
        debug_assert!(token.obtained_at <= token.refresh_at);
        Ok(token)
    }

    fn classify(&self, status: u16, body: &[u8], wait: Option<Duration>) -> ImsError {
        if status == 429 {
            return ImsError::Throttled { retry_after: wait };
        }

        let parsed = serde_json::from_slice::<ImsErrorBody>(body).ok();
        // A 408 means IMS gave up waiting for the request: as transient as a 5xx.
        if status >= 500 || status == 408 {
            let message = parsed
                .and_then(|b| b.error_description.or(b.error))
                .unwrap_or_else(|| format!("HTTP {status}"));
            return unavailable(Some(status), self.scrub(message), wait);
        }

        let (code, description) = match parsed {
            Some(body) => (
                body.error.unwrap_or_else(|| "unknown".to_owned()),
                body.error_description.unwrap_or_default(),
            ),
            None => ("unknown".to_owned(), String::new()),
        };
        ImsError::Rejected {
            status,
            code: self.scrub(code),
            description: self.scrub(description),
        }
    }

    /// Removes the client secret from text that IMS sent back, should it echo the request.
    fn scrub(&self, text: String) -> String {
        let secret = self.inner.credentials.client_secret.expose_secret();
        if secret.is_empty() || !text.contains(secret) {
            return text;
        }
        text.replace(secret, "[REDACTED]")
    }
}

fn unavailable(status: Option<u16>, message: String, retry_after: Option<Duration>) -> ImsError {
    ImsError::Unavailable {
        status,
        message,
        retry_after,
    }
}
