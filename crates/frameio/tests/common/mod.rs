//! Helpers shared by the integration tests: small axum servers that stand in for IMS and
//! Frame.io when a test needs to control every answer, a client configuration with fast
//! timeouts, and a tracing capture.

#![allow(dead_code)]

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use frameio::{Client, ClientConfig, Credentials};
use serde_json::json;

pub const CLIENT_ID: &str = "test-client";
pub const CLIENT_SECRET: &str = "s3cr3t-client-secret-value";
pub const TOKEN_PREFIX: &str = "tok3n-value-";

/// A server bound to a loopback port, stopped when dropped.
pub struct Server {
    pub base_url: String,
    handle: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

pub async fn serve(router: Router) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Server {
        base_url: format!("http://{address}"),
        handle,
    }
}

/// A configuration with short timeouts and back-offs, so failure tests run in milliseconds.
pub fn fast_config(base_url: &str) -> ClientConfig {
    ClientConfig {
        request_timeout_ms: 2_000,
        connect_timeout_ms: 1_000,
        ims_backoff_base_ms: 10,
        ims_backoff_cap_ms: 50,
        upload_backoff_base_ms: 10,
        ..ClientConfig::with_base_url(base_url)
    }
}

pub fn credentials() -> Credentials {
    Credentials::new(CLIENT_ID, CLIENT_SECRET)
}

pub fn client(base_url: &str) -> Client {
    Client::new(fast_config(base_url), credentials()).unwrap()
}

/// The form fields of one token request.
pub type TokenForm = Vec<(String, String)>;

/// How the fake IMS answers.
#[derive(Clone)]
pub enum ImsMode {
    /// Issues `tok3n-value-<n>` tokens that live `expires_in` seconds, after `delay`.
    Issue { expires_in: u64, delay: Duration },
    /// Answers with this status and body.
    Fail {
        status: u16,
        body: serde_json::Value,
        retry_after: Option<u64>,
    },
}

/// A fake IMS token endpoint that counts calls and checks the form.
#[derive(Clone)]
pub struct FakeIms {
    pub calls: Arc<AtomicUsize>,
    pub mode: Arc<Mutex<ImsMode>>,
    pub forms: Arc<Mutex<Vec<TokenForm>>>,
    /// The `User-Agent` of every token request.
    pub user_agents: Arc<Mutex<Vec<String>>>,
}

impl FakeIms {
    pub fn new(mode: ImsMode) -> Self {
        Self {
            calls: Arc::new(AtomicUsize::new(0)),
            mode: Arc::new(Mutex::new(mode)),
            forms: Arc::new(Mutex::new(Vec::new())),
            user_agents: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub fn issuing(expires_in: u64) -> Self {
        Self::new(ImsMode::Issue {
            expires_in,
            delay: Duration::ZERO,
        })
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Adds `POST /ims/token/v3` to a router.
    pub fn route(&self, router: Router) -> Router {
        let ims = self.clone();
        router.route(
            "/ims/token/v3",
            post(
                move |headers: HeaderMap, Form(form): Form<Vec<(String, String)>>| {
                    let ims = ims.clone();
                    async move {
                        ims.user_agents.lock().unwrap().push(user_agent(&headers));
                        ims.answer(form).await
                    }
                },
            ),
        )
    }

    async fn answer(&self, form: Vec<(String, String)>) -> Response {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.forms.lock().unwrap().push(form);
        let mode = self.mode.lock().unwrap().clone();
        match mode {
            ImsMode::Issue { expires_in, delay } => {
                tokio::time::sleep(delay).await;
                let body = json!({
                    "access_token": format!("{TOKEN_PREFIX}{n}"),
                    "token_type": "bearer",
                    "expires_in": expires_in,
                });
                Json(body).into_response()
            }
            ImsMode::Fail {
                status,
                body,
                retry_after,
            } => {
                let mut headers = HeaderMap::new();
                if let Some(seconds) = retry_after {
                    headers.insert("retry-after", seconds.to_string().parse().unwrap());
                }
                let status = StatusCode::from_u16(status).unwrap();
                (status, headers, Json(body)).into_response()
            }
        }
    }
}

/// The `User-Agent` of a request, empty when there is none.
pub fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get("user-agent")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(str::to_owned)
}

/// A `MakeWriter` that appends every log line to a shared buffer.
#[derive(Clone, Default)]
pub struct Capture(pub Arc<Mutex<Vec<u8>>>);

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Installs, once per test binary, a global trace-level subscriber writing into a buffer.
///
/// A global subscriber (rather than a per-thread default) makes sure that no log callsite is
/// cached as disabled by a test running on another thread without a subscriber.
pub fn global_capture() -> Capture {
    static CAPTURE: std::sync::OnceLock<Capture> = std::sync::OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            let capture = Capture::default();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(capture.clone())
                .with_ansi(false)
                .finish();
            tracing::subscriber::set_global_default(subscriber).unwrap();
            capture
        })
        .clone()
}
