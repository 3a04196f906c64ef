//! Configuration of the client: where Frame.io and IMS live, timeouts, token and upload
//! behaviour, and the credentials of one service account.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

/// The scopes a Frame.io server-to-server credential asks IMS for.
pub const DEFAULT_SCOPE: &str = "openid AdobeID frame.s2s.all";

/// Settings shared by every [`crate::Client`]; the defaults reach the real services.
///
/// Durations are given in milliseconds or seconds, as their names say, so that the same
/// structure reads from TOML, the environment or code without a duration parser.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientConfig {
    /// Base URL of the Frame.io API, without `/v4`; paths are appended to it.
    pub api_base_url: String,
    /// Base URL of Adobe IMS; the token is requested from `{ims_base_url}/ims/token/v3`.
    pub ims_base_url: String,
    /// Time allowed to open a TCP (and TLS) connection, in milliseconds.
    pub connect_timeout_ms: u64,
    /// Time allowed for one API request, from sending to the end of the body, in milliseconds.
    pub request_timeout_ms: u64,
    /// Time allowed for the PUT of one upload part, in milliseconds; parts can be large.
    pub upload_part_timeout_ms: u64,
    /// A token is renewed this many seconds before IMS says it expires.
    pub token_refresh_margin_secs: u64,
    /// Extra attempts of a token request after a transient IMS failure (5xx, 429, network).
    pub ims_max_retries: u32,
    /// First back-off after a transient IMS failure, in milliseconds; it doubles per attempt.
    pub ims_backoff_base_ms: u64,
    /// Upper bound of any IMS back-off, including a `Retry-After` sent by IMS, in milliseconds.
    pub ims_backoff_cap_ms: u64,
    /// How long a rejected credential (for example `invalid_client`) is remembered, in
    /// seconds: requests during that time fail at once without calling IMS again.
    pub ims_rejection_hold_secs: u64,
    /// Upload parts sent at the same time.
    pub upload_concurrency: usize,
    /// Extra attempts of one upload part after a transient failure.
    pub upload_part_retries: u32,
    /// First back-off between attempts of an upload part, in milliseconds; it doubles.
    pub upload_backoff_base_ms: u64,
    /// Size of each read from the file being uploaded, in bytes; bounds memory per part.
    pub upload_read_buffer_bytes: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            api_base_url: "https://api.frame.io".to_owned(),
            ims_base_url: "https://ims-na1.adobelogin.com".to_owned(),
            connect_timeout_ms: 10_000,
            request_timeout_ms: 60_000,
            upload_part_timeout_ms: 600_000,
            token_refresh_margin_secs: 300,
            ims_max_retries: 2,
            ims_backoff_base_ms: 1_000,
            ims_backoff_cap_ms: 60_000,
            ims_rejection_hold_secs: 300,
            upload_concurrency: 4,
            upload_part_retries: 3,
            upload_backoff_base_ms: 1_000,
            upload_read_buffer_bytes: 256 * 1024,
        }
    }
}

impl ClientConfig {
    /// A configuration that points both Frame.io and IMS at one base URL, as the simulator
    /// serves them on one port.
    pub fn with_base_url(base_url: &str) -> Self {
        Self {
            api_base_url: base_url.to_owned(),
            ims_base_url: base_url.to_owned(),
            ..Self::default()
        }
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    pub(crate) fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub(crate) fn upload_part_timeout(&self) -> Duration {
        Duration::from_millis(self.upload_part_timeout_ms)
    }

    pub(crate) fn token_refresh_margin(&self) -> Duration {
        Duration::from_secs(self.token_refresh_margin_secs)
    }
}

/// The IMS OAuth server-to-server credential of one service account.
///
/// The secret is held in a [`SecretString`]; `Debug` shows only the client id and scope.
#[derive(Clone, Deserialize)]
pub struct Credentials {
    /// The client id from the Adobe Developer Console project.
    pub client_id: String,
    /// The client secret; exposed only when the token request body is built.
    pub client_secret: SecretString,
    /// The scopes, space separated.
    #[serde(default = "default_scope")]
    pub scope: String,
}

fn default_scope() -> String {
    DEFAULT_SCOPE.to_owned()
}

impl Credentials {
    /// Credentials with the default Frame.io S2S scope.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
            scope: default_scope(),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("scope", &self.scope)
            .finish()
    }
}

/// The User-Agent sent with every request.
pub(crate) fn user_agent() -> String {
    format!("frameio-fleet/{}", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_secret() {
        let credentials = Credentials::new("client-1", "very-secret-value");

        let printed = format!("{credentials:?}");

        assert!(printed.contains("client-1"));
        assert!(!printed.contains("very-secret-value"));
    }

    #[test]
    fn config_reads_partial_json_with_defaults() {
        let json = r#"{"api_base_url": "http://127.0.0.1:9", "request_timeout_ms": 5}"#;

        let config: ClientConfig = serde_json::from_str(json).unwrap();

        assert_eq!(config.api_base_url, "http://127.0.0.1:9");
        assert_eq!(config.request_timeout(), Duration::from_millis(5));
        assert_eq!(config.ims_base_url, "https://ims-na1.adobelogin.com");
    }

    #[test]
    fn credentials_default_scope() {
        let json = r#"{"client_id": "a", "client_secret": "b"}"#;

        let credentials: Credentials = serde_json::from_str(json).unwrap();

        assert_eq!(credentials.scope, DEFAULT_SCOPE);
    }
}
