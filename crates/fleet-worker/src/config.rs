//! The worker's configuration: embedded defaults, then a TOML file, then environment
//! variables prefixed `FLEET__` (`FLEET__WORKER__CONCURRENCY=32`,
//! `FLEET__ACCOUNTS__ACME__CLIENT_SECRET=...`).
//!
//! [`Settings::load`] validates everything at start, with an error that names the bad key,
//! so a worker never starts half-configured. Service-account secrets come from the
//! environment or a file and are held in [`SecretString`], which never prints its value.
//!
//! The `[frameio]` section is the client's [`frameio::ClientConfig`]: its two base URLs
//! (`FLEET__FRAMEIO__API_BASE_URL`, `FLEET__FRAMEIO__IMS_BASE_URL`) point the same binary at
//! the real Frame.io and IMS or at the simulator.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use frameio::{ClientConfig, Credentials, DEFAULT_SCOPE};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

/// The defaults every source is layered over.
const DEFAULTS: &str = include_str!("defaults.toml");

/// Everything a worker needs to run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// How to reach RabbitMQ.
    pub broker: BrokerSettings,

    /// Names of exchanges and queues, and their arguments.
    pub topology: TopologySettings,

    /// How jobs are executed.
    pub worker: ExecutionSettings,

    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    pub metrics: MetricsSettings,

    /// Log format and filter.
    pub log: LogSettings,

    /// How Frame.io and Adobe IMS are reached: base URLs, timeouts, token and upload
    /// behaviour. Every key of [`frameio::ClientConfig`] may be set; absent ones keep the
    /// client's defaults, which reach the real services.
    #[serde(default)]
    pub frameio: ClientConfig,

    /// The service accounts this worker serves, by alias.
    #[serde(default)]
    pub accounts: BTreeMap<String, AccountSettings>,
}

/// How to reach RabbitMQ.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerSettings {
    /// The AMQP URL (`amqp://user:password@host:5672/vhost`). Held as a secret because it
    /// usually carries a password.
    pub url: SecretString,

    /// The AMQP heartbeat, in seconds: a silent broker is declared lost after about twice
    /// this long.
    pub heartbeat_secs: u16,

    /// The shortest wait before reconnecting after the broker went away, in milliseconds.
    pub reconnect_min_ms: u64,

    /// The longest wait between reconnection attempts, in milliseconds.
    pub reconnect_max_ms: u64,
}

/// Names of exchanges and queues, and the arguments that every queue is declared with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopologySettings {
    /// The prefix of every exchange and queue name (`frameio` gives `frameio.jobs`,
    /// `frameio.results`, `frameio.dead`, ...).
    pub prefix: String,

    /// How many times the broker delivers a job before it dead-letters it by itself. This
    /// guards against a job that crashes every worker that takes it.
    pub delivery_limit: u32,
}

/// How jobs are executed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutionSettings {
    /// How many jobs run at once in this worker, over all accounts.
    pub concurrency: usize,

    /// How many unacknowledged jobs the broker hands this worker per account queue, unless
    /// the account sets its own.
    pub prefetch: u16,

    /// How many attempts a job gets before a transient failure becomes final.
    pub max_attempts: u32,

    /// The retry delay after the first failed attempt, in milliseconds; it doubles with each
    /// further attempt.
    pub retry_base_ms: u64,

    /// The longest retry delay, in milliseconds.
    pub retry_max_ms: u64,

    /// How long in-flight jobs may run on after SIGTERM or SIGINT, in seconds; then what is
    /// left goes back to the queue. Keep it under Kubernetes' grace period (30 s).
    pub shutdown_grace_secs: u64,

    /// The longest one attempt may run, in seconds; past it the attempt fails transiently
    /// and is retried. Keep it well under RabbitMQ's consumer timeout (30 min by default),
    /// which would otherwise close the channel of a job that hangs.
    pub job_timeout_secs: u64,

    /// The largest job message accepted, in bytes; a larger one is dead-lettered.
    pub max_message_bytes: usize,

    /// Run the `test.*` kinds, which need no Frame.io call. Off in production.
    pub enable_test_kinds: bool,
}

/// Where metrics and health endpoints are served.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// The address of the HTTP listener for `/metrics`, `/healthz` and `/readyz`; port 0
    /// picks a free port.
    pub listen: SocketAddr,
}

/// Log format and filter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `text` for people, `json` for log pipelines.
    pub format: LogFormat,

    /// A tracing filter (`info`, `fleet_worker=debug,info`); `RUST_LOG` wins when set.
    pub filter: String,
}

/// The log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// One Frame.io service account (an Adobe IMS OAuth server-to-server credential).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSettings {
    /// The credential's client id, from the Adobe Developer Console.
    pub client_id: String,

    /// The client secret, usually from `FLEET__ACCOUNTS__<ALIAS>__CLIENT_SECRET`.
    #[serde(default)]
    pub client_secret: Option<SecretString>,

    /// A file holding the client secret (a mounted Kubernetes secret), used when
    /// `client_secret` is not set.
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,

    /// The technical account email the credential should act as, checked by
    /// `fleet accounts check`.
    #[serde(default)]
    pub email: Option<String>,

    /// This account's prefetch, overriding `worker.prefetch`.
    #[serde(default)]
    pub prefetch: Option<u16>,

    /// The IMS scopes to ask for, space separated; `openid AdobeID frame.s2s.all` (what a
    /// Frame.io server-to-server credential is granted) when not set.
    #[serde(default)]
    pub scope: Option<String>,
}

/// A configuration that cannot be used, naming the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A source could not be read or a value has the wrong type.
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),

    /// A value is present but not acceptable.
    #[error("configuration key `{key}`: {reason}")]
    Invalid {
        /// The dotted key (`worker.concurrency`).
        key: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl Settings {
    /// Loads the defaults, then `file` when given, then `FLEET__` environment variables of
    /// this process, and validates the result.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        Settings::load_from(file, None)
    }

    /// Like [`Settings::load`], with the environment given explicitly (for tests); `None`
    /// reads the process environment.
    pub fn load_from(
        file: Option<&Path>,
        env: Option<HashMap<String, String>>,
    ) -> Result<Settings, ConfigError> {
        Settings::load_layered(None, file, env)
    }

    /// Like [`Settings::load_from`], with `overlay` (TOML text) between the embedded
    /// defaults and the file: the demo's own defaults use it.
    pub fn load_layered(
        overlay: Option<&str>,
        file: Option<&Path>,
        env: Option<HashMap<String, String>>,
    ) -> Result<Settings, ConfigError> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        if let Some(overlay) = overlay {
            builder = builder.add_source(config::File::from_str(overlay, config::FileFormat::Toml));
        }
        if let Some(file) = file {
            builder = builder.add_source(config::File::from(file).required(true));
        }
        let environment = config::Environment::with_prefix("FLEET")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .source(env);

        let mut settings: Settings = builder.add_source(environment).build()?.try_deserialize()?;
        settings.resolve_secrets()?;
        settings.validate()?;
        Ok(settings)
    }

    /// The account's client secret. Present for every account once loaded.
    pub fn client_secret(&self, alias: &str) -> Option<&SecretString> {
        self.accounts.get(alias)?.client_secret.as_ref()
    }

    /// The IMS credentials of an account, ready for a [`frameio::Client`]; `None` for an
    /// unknown alias.
    pub fn credentials(&self, alias: &str) -> Option<Credentials> {
        let account = self.accounts.get(alias)?;
        let secret = account.client_secret.as_ref()?;
        Some(Credentials {
            client_id: account.client_id.clone(),
            client_secret: secret.clone(),
            scope: account
                .scope
                .clone()
                .unwrap_or_else(|| DEFAULT_SCOPE.to_owned()),
        })
    }

    /// The prefetch of an account's consumer.
    pub fn prefetch(&self, alias: &str) -> u16 {
        self.accounts
            .get(alias)
            .and_then(|a| a.prefetch)
            .unwrap_or(self.worker.prefetch)
    }

    /// The retry delay for the attempt that follows `attempt` failed ones, before jitter.
    pub fn retry_delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(40);
        let millis = self.worker.retry_base_ms.saturating_mul(1 << doublings);
        Duration::from_millis(millis.min(self.worker.retry_max_ms))
    }

    /// Every distinct retry delay that [`Settings::retry_delay`] can give: one delay queue
    /// each.
    pub fn retry_delays(&self) -> Vec<Duration> {
        let mut delays: Vec<Duration> = (1..self.worker.max_attempts.max(2))
            .map(|a| self.retry_delay(a))
            .collect();
        delays.dedup();
        delays
    }

    /// How long in-flight jobs may finish after a stop signal.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.worker.shutdown_grace_secs)
    }

    /// How long one attempt may run.
    pub fn job_timeout(&self) -> Duration {
        Duration::from_secs(self.worker.job_timeout_secs)
    }

    fn resolve_secrets(&mut self) -> Result<(), ConfigError> {
        for (alias, account) in &mut self.accounts {
            if account.client_secret.is_some() {
                continue;
            }

            let key = format!("accounts.{alias}.client_secret");
            let Some(path) = &account.client_secret_file else {
                return Err(invalid(
                    &key,
                    format!(
                        "missing; set FLEET__ACCOUNTS__{}__CLIENT_SECRET or \
                         accounts.{alias}.client_secret_file",
                        alias.to_uppercase()
                    ),
                ));
            };
            let text = std::fs::read_to_string(path).map_err(|e| {
                invalid(
                    &format!("{key}_file"),
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            account.client_secret = Some(SecretString::from(text.trim().to_string()));
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("worker.concurrency", self.worker.concurrency as u64),
            ("worker.prefetch", u64::from(self.worker.prefetch)),
            ("worker.max_attempts", u64::from(self.worker.max_attempts)),
            ("worker.retry_base_ms", self.worker.retry_base_ms),
            ("worker.job_timeout_secs", self.worker.job_timeout_secs),
            (
                "worker.max_message_bytes",
                self.worker.max_message_bytes as u64,
            ),
            (
                "topology.delivery_limit",
                u64::from(self.topology.delivery_limit),
            ),
            ("broker.reconnect_min_ms", self.broker.reconnect_min_ms),
            (
                "frameio.connect_timeout_ms",
                self.frameio.connect_timeout_ms,
            ),
            (
                "frameio.request_timeout_ms",
                self.frameio.request_timeout_ms,
            ),
            (
                "frameio.upload_part_timeout_ms",
                self.frameio.upload_part_timeout_ms,
            ),
            (
                "frameio.upload_concurrency",
                self.frameio.upload_concurrency as u64,
            ),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(invalid(key, "must be greater than 0".into()));
        }

        if self.worker.retry_max_ms < self.worker.retry_base_ms {
            return Err(invalid(
                "worker.retry_max_ms",
                "must be at least retry_base_ms".into(),
            ));
        }
        if !self.broker.url.expose_secret().starts_with("amqp") {
            return Err(invalid(
                "broker.url",
                "must be an amqp:// or amqps:// URL".into(),
            ));
        }
        if self.topology.prefix.is_empty() || self.topology.prefix.contains(char::is_whitespace) {
            return Err(invalid(
                "topology.prefix",
                "must be a non-empty word".into(),
            ));
        }
        self.validate_frameio()?;
        self.validate_accounts()
    }

    fn validate_frameio(&self) -> Result<(), ConfigError> {
        let urls = [
            ("frameio.api_base_url", &self.frameio.api_base_url),
            ("frameio.ims_base_url", &self.frameio.ims_base_url),
        ];
        for (key, url) in urls {
            check_base_url(url).map_err(|reason| invalid(key, reason))?;
        }

        if self.frameio.ims_rejection_hold_secs == 0 {
            return Err(invalid(
                "frameio.ims_rejection_hold_secs",
                "must be greater than 0, or a bad secret is sent to IMS on every request".into(),
            ));
        }
        Ok(())
    }

    fn validate_accounts(&self) -> Result<(), ConfigError> {
        for (alias, account) in &self.accounts {
            if !fleet_protocol::job::is_valid_alias(alias) {
                return Err(invalid(
                    &format!("accounts.{alias}"),
                    "an alias is 1 to 64 characters of a-z, 0-9, '-' and '_'".into(),
                ));
            }
            if account.client_id.trim().is_empty() {
                return Err(invalid(
                    &format!("accounts.{alias}.client_id"),
                    "is empty".into(),
                ));
            }
            let secret_empty = account
                .client_secret
                .as_ref()
                .is_some_and(|s| s.expose_secret().is_empty());
            if secret_empty {
                return Err(invalid(
                    &format!("accounts.{alias}.client_secret"),
                    "is empty".into(),
                ));
            }
            if account.prefetch == Some(0) {
                return Err(invalid(
                    &format!("accounts.{alias}.prefetch"),
                    "must be greater than 0".into(),
                ));
            }
            if account.scope.as_ref().is_some_and(|s| s.trim().is_empty()) {
                return Err(invalid(
                    &format!("accounts.{alias}.scope"),
                    "is empty; leave it out for the default scopes".into(),
                ));
            }
        }
        Ok(())
    }
}

/// Checks that `text` is an absolute `http` or `https` URL that paths can be appended to.
/// Plain `http` is accepted because the simulator serves it on loopback. The messages do not
/// repeat the URL: a malformed one might carry a password.
fn check_base_url(text: &str) -> Result<(), String> {
    let url = Url::parse(text).map_err(|e| format!("is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http:// or https:// URL".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or a fragment".into());
    }
    Ok(())
}

fn invalid(key: &str, reason: String) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Option<HashMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::load_from(None, env(pairs))
    }

    #[test]
    fn defaults_alone_make_a_valid_configuration() {
        let settings = load(&[]).unwrap();

        assert_eq!(settings.topology.prefix, "frameio");
        assert!(settings.accounts.is_empty());
    }

    #[test]
    fn environment_variables_override_defaults_and_carry_secrets() {
        let settings = load(&[
            ("FLEET__WORKER__CONCURRENCY", "7"),
            ("FLEET__ACCOUNTS__ACME__CLIENT_ID", "id-1"),
            ("FLEET__ACCOUNTS__ACME__CLIENT_SECRET", "s3cr3t-value"),
        ])
        .unwrap();

        assert_eq!(settings.worker.concurrency, 7);
        assert_eq!(
            settings.client_secret("acme").unwrap().expose_secret(),
            "s3cr3t-value"
        );
        assert!(!format!("{settings:?}").contains("s3cr3t-value"));
    }

    #[test]
    fn a_missing_secret_names_the_key_and_how_to_set_it() {
        let err = load(&[("FLEET__ACCOUNTS__ACME__CLIENT_ID", "id-1")]).unwrap_err();

        let text = err.to_string();
        assert!(text.contains("accounts.acme.client_secret"), "{text}");
        assert!(
            text.contains("FLEET__ACCOUNTS__ACME__CLIENT_SECRET"),
            "{text}"
        );
    }

    #[test]
    fn a_secret_can_come_from_a_file() {
        let dir = std::env::temp_dir().join(format!("fleet-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secret");
        std::fs::write(&path, "from-file\n").unwrap();
        let path_text = path.display().to_string();

        let settings = load(&[
            ("FLEET__ACCOUNTS__ACME__CLIENT_ID", "id-1"),
            ("FLEET__ACCOUNTS__ACME__CLIENT_SECRET_FILE", &path_text),
        ])
        .unwrap();

        assert_eq!(
            settings.client_secret("acme").unwrap().expose_secret(),
            "from-file"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            (("FLEET__WORKER__CONCURRENCY", "0"), "worker.concurrency"),
            (
                ("FLEET__WORKER__JOB_TIMEOUT_SECS", "0"),
                "worker.job_timeout_secs",
            ),
            (("FLEET__WORKER__CONCURRENCY", "many"), "worker.concurrency"),
            (("FLEET__BROKER__URL", "http://x"), "broker.url"),
            (("FLEET__WORKER__RETRY_MAX_MS", "1"), "worker.retry_max_ms"),
            (("FLEET__LOG__FORMAT", "xml"), "log.format"),
        ];

        for ((key, value), named) in cases {
            let text = load(&[(key, value)]).unwrap_err().to_string();
            assert!(text.contains(named), "{key}={value}: {text}");
        }
    }

    #[test]
    fn retry_delays_double_up_to_the_maximum() {
        let settings = load(&[
            ("FLEET__WORKER__RETRY_BASE_MS", "100"),
            ("FLEET__WORKER__RETRY_MAX_MS", "350"),
            ("FLEET__WORKER__MAX_ATTEMPTS", "6"),
        ])
        .unwrap();

        let millis: Vec<u128> = settings
            .retry_delays()
            .iter()
            .map(|d| d.as_millis())
            .collect();
        assert_eq!(millis, vec![100, 200, 350]);
    }

    #[test]
    fn the_frameio_defaults_are_the_clients_own() {
        let settings = load(&[]).unwrap();

        assert_eq!(settings.frameio, ClientConfig::default());
    }

    #[test]
    fn frameio_base_urls_and_timeouts_come_from_the_environment() {
        let settings = load(&[
            ("FLEET__FRAMEIO__API_BASE_URL", "http://127.0.0.1:8470"),
            ("FLEET__FRAMEIO__IMS_BASE_URL", "http://127.0.0.1:8471/"),
            ("FLEET__FRAMEIO__REQUEST_TIMEOUT_MS", "2500"),
        ])
        .unwrap();

        assert_eq!(settings.frameio.api_base_url, "http://127.0.0.1:8470");
        assert_eq!(settings.frameio.ims_base_url, "http://127.0.0.1:8471/");
        assert_eq!(settings.frameio.request_timeout_ms, 2500);
        let defaults = ClientConfig::default();
        assert_eq!(
            settings.frameio.upload_concurrency,
            defaults.upload_concurrency
        );
    }

    #[test]
    fn a_frameio_section_can_come_from_a_file() {
        let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        std::io::Write::write_all(
            &mut file,
            b"[frameio]\napi_base_url = \"https://frameio.example\"\nims_max_retries = 0\n",
        )
        .unwrap();

        let settings = Settings::load_from(Some(file.path()), env(&[])).unwrap();

        assert_eq!(settings.frameio.api_base_url, "https://frameio.example");
        assert_eq!(settings.frameio.ims_max_retries, 0);
        assert_eq!(
            settings.frameio.ims_base_url,
            ClientConfig::default().ims_base_url
        );
    }

    #[test]
    fn bad_frameio_values_name_their_key() {
        let cases = [
            ("FLEET__FRAMEIO__API_BASE_URL", "ftp://frameio.example"),
            ("FLEET__FRAMEIO__API_BASE_URL", "not a url"),
            (
                "FLEET__FRAMEIO__API_BASE_URL",
                "http://frameio.example/?x=1",
            ),
            ("FLEET__FRAMEIO__API_BASE_URL", "mailto:ops@example.com"),
            ("FLEET__FRAMEIO__IMS_BASE_URL", "127.0.0.1:8470"),
            ("FLEET__FRAMEIO__IMS_BASE_URL", ""),
            ("FLEET__FRAMEIO__REQUEST_TIMEOUT_MS", "0"),
            ("FLEET__FRAMEIO__CONNECT_TIMEOUT_MS", "0"),
            ("FLEET__FRAMEIO__UPLOAD_CONCURRENCY", "0"),
            ("FLEET__FRAMEIO__IMS_REJECTION_HOLD_SECS", "0"),
        ];

        for (key, value) in cases {
            let named = key
                .trim_start_matches("FLEET__")
                .replace("__", ".")
                .to_lowercase();
            let text = load(&[(key, value)]).unwrap_err().to_string();
            assert!(text.contains(&named), "{key}={value}: {text}");
        }
    }

    #[test]
    fn an_unknown_frameio_key_is_refused() {
        let text = load(&[("FLEET__FRAMEIO__API_URL", "http://127.0.0.1:1")])
            .unwrap_err()
            .to_string();

        assert!(text.contains("api_url"), "{text}");
    }

    #[test]
    fn a_password_in_a_base_url_is_refused_without_being_repeated() {
        let url = "https://ops:hunter2-pass@frameio.example";

        let text = load(&[("FLEET__FRAMEIO__API_BASE_URL", url)])
            .unwrap_err()
            .to_string();

        assert!(text.contains("frameio.api_base_url"), "{text}");
        assert!(!text.contains("hunter2-pass"), "{text}");
    }

    #[test]
    fn credentials_carry_the_default_or_the_configured_scope() {
        let settings = load(&[
            ("FLEET__ACCOUNTS__ACME__CLIENT_ID", "id-1"),
            ("FLEET__ACCOUNTS__ACME__CLIENT_SECRET", "secret-1"),
            ("FLEET__ACCOUNTS__BETA__CLIENT_ID", "id-2"),
            ("FLEET__ACCOUNTS__BETA__CLIENT_SECRET", "secret-2"),
            ("FLEET__ACCOUNTS__BETA__SCOPE", "openid frame.s2s.all"),
        ])
        .unwrap();

        let acme = settings.credentials("acme").unwrap();
        let beta = settings.credentials("beta").unwrap();

        assert_eq!(acme.client_id, "id-1");
        assert_eq!(acme.client_secret.expose_secret(), "secret-1");
        assert_eq!(acme.scope, DEFAULT_SCOPE);
        assert_eq!(beta.scope, "openid frame.s2s.all");
        assert!(settings.credentials("nobody").is_none());
        assert!(!format!("{acme:?}").contains("secret-1"));
    }

    #[test]
    fn an_empty_scope_names_its_key() {
        let text = load(&[
            ("FLEET__ACCOUNTS__ACME__CLIENT_ID", "id-1"),
            ("FLEET__ACCOUNTS__ACME__CLIENT_SECRET", "secret-1"),
            ("FLEET__ACCOUNTS__ACME__SCOPE", " "),
        ])
        .unwrap_err()
        .to_string();

        assert!(text.contains("accounts.acme.scope"), "{text}");
    }
}
