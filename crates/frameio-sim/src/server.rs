//! The HTTP layer: the accept loop with per-connection tasks (so that a fault can close a
//! connection without answering), the router, and the pipeline every Frame.io request runs
//! through: routing by the OpenAPI description, faults, authentication, the rate limiter,
//! body validation, the operation handler, and the `x-ratelimit-*` headers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use axum::{Json, Router};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::auth::{Principal, ServiceAccount, TokenStore, IMS_OPERATION};
use crate::config::SimConfig;
use crate::error::{ApiError, SimError};
use crate::faults::{FaultAction, FaultConfig, FaultUpdate, TokenScope};
use crate::limits::{Decision, Limiter};
use crate::spec::Spec;
use crate::stats::{RateStats, Recorder, Stats};
use crate::store::Store;
use crate::{api, uploads};

/// Operation name under which requests to unknown paths are counted.
pub(crate) const UNKNOWN_OPERATION: &str = "unknown";

/// How long connections may take to finish their requests after shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Everything the handlers share. Each part has its own lock, held for short critical
/// sections and never across an await point.
pub(crate) struct Shared {
    pub(crate) config: SimConfig,
    pub(crate) spec: &'static Spec,
    pub(crate) users: Vec<ServiceAccount>,
    pub(crate) store: Mutex<Store>,
    pub(crate) tokens: Mutex<TokenStore>,
    pub(crate) limiter: Mutex<Limiter>,
    pub(crate) faults: Mutex<FaultConfig>,
    pub(crate) recorder: Mutex<Recorder>,
    pub(crate) http: reqwest::Client,
    pub(crate) local_addr: SocketAddr,
}

/// Locks a mutex, ignoring poisoning: every critical section leaves the data consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Builds the state from a configuration.
    pub(crate) fn new(config: SimConfig, local_addr: SocketAddr) -> Result<Arc<Shared>, SimError> {
        if !(config.rate_scale.is_finite() && config.rate_scale > 0.0) {
            return Err(SimError::Config(format!(
                "rate_scale must be positive, not {}",
                config.rate_scale
            )));
        }
        if config.upload_part_size == 0 {
            return Err(SimError::Config(
                "upload_part_size must be positive".to_owned(),
            ));
        }
        config.seed.check()?;
        let users: Vec<ServiceAccount> = config
            .seed
            .service_accounts
            .iter()
            .map(ServiceAccount::from_seed)
            .collect();
        let lifetime = Duration::from_secs(config.token_lifetime_secs);
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| SimError::HttpClient(e.to_string()))?;
        Ok(Arc::new(Shared {
            spec: Spec::global(),
            store: Mutex::new(Store::from_seed(&config.seed, &users)),
            tokens: Mutex::new(TokenStore::new(users.clone(), lifetime)),
            limiter: Mutex::new(Limiter::new(config.rate_scale, config.rate_limit_mode)),
            faults: Mutex::new(config.faults.clone()),
            recorder: Mutex::new(Recorder::default()),
            users,
            http,
            local_addr,
            config,
        }))
    }

    /// A snapshot of the counters with the limiter's observations.
    pub(crate) fn stats(&self) -> Stats {
        let mut stats = lock(&self.recorder).stats.clone();
        let observed = lock(&self.limiter).stats();
        stats.rate_limits = observed
            .into_iter()
            .map(|b| RateStats {
                client_id: self
                    .users
                    .iter()
                    .find(|u| u.user_id == b.user_id)
                    .map(|u| u.client_id.clone())
                    .unwrap_or_default(),
                user_id: b.user_id,
                operation: b.operation,
                limit: b.limit,
                window_ms: b.window_ms,
                max_admitted_in_window: b.max_admitted_in_window,
                max_requests_in_window: b.max_requests_in_window,
                admitted: b.admitted,
                throttled: b.throttled,
            })
            .collect();
        stats
    }

    /// Forgets counters and observed maxima.
    pub(crate) fn reset_stats(&self) {
        lock(&self.recorder).stats = Stats::default();
        lock(&self.limiter).reset_stats();
    }

    /// Restores the seeded world and forgets every bucket and issued token.
    pub(crate) fn reset_state(&self) {
        *lock(&self.store) = Store::from_seed(&self.config.seed, &self.users);
        *lock(&self.limiter) = Limiter::new(self.config.rate_scale, self.config.rate_limit_mode);
        let lifetime = Duration::from_secs(self.config.token_lifetime_secs);
        *lock(&self.tokens) = TokenStore::new(self.users.clone(), lifetime);
    }

    /// Applies a fault update, including its token actions.
    pub(crate) fn update_faults(&self, update: &FaultUpdate) -> FaultConfig {
        if let Some(scope) = &update.expire_tokens {
            self.expire_tokens(scope);
        }
        if let Some(scope) = &update.revoke_tokens {
            self.revoke_tokens(scope);
        }
        let mut faults = lock(&self.faults);
        update.apply(&mut faults);
        faults.clone()
    }

    /// Makes tokens expire now; returns how many.
    pub(crate) fn expire_tokens(&self, scope: &TokenScope) -> usize {
        lock(&self.tokens).expire(scope.client_id.as_deref(), Instant::now())
    }

    /// Revokes tokens; returns how many.
    pub(crate) fn revoke_tokens(&self, scope: &TokenScope) -> usize {
        lock(&self.tokens).revoke(scope.client_id.as_deref())
    }

    fn record(&self, operation: &str, status: StatusCode) {
        lock(&self.recorder).request(operation, status.as_u16());
    }
}

/// Closes the connection a request arrived on, without an answer.
#[derive(Clone)]
pub(crate) struct ConnectionKill(CancellationToken);

/// The kill switch of the request's connection (absent only outside the accept loop).
pub(crate) fn connection_kill(request: &Request) -> Option<ConnectionKill> {
    request.extensions().get::<ConnectionKill>().cloned()
}

/// Accepts connections until `shutdown` is cancelled, then lets open connections finish
/// their requests for a short grace period.
pub(crate) async fn run(shared: Arc<Shared>, listener: TcpListener, shutdown: CancellationToken) {
    let router = router(shared.clone());
    let tracker = TaskTracker::new();
    tracing::info!(addr = %shared.local_addr, "Frame.io simulator listening");
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                // Small JSON answers would otherwise wait for Nagle's algorithm.
                let _ = stream.set_nodelay(true);
                tracing::trace!(%peer, "connection accepted");
                tracker.spawn(connection(stream, router.clone(), shutdown.clone()));
            }
            Err(error) => {
                // Running out of file descriptors is transient; back off instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    drop(listener);
    tracker.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period");
    }
    tracing::info!("Frame.io simulator stopped");
}

/// Serves one connection until it ends, a fault kills it, or shutdown drains it.
async fn connection(stream: tokio::net::TcpStream, router: Router, shutdown: CancellationToken) {
    let kill = CancellationToken::new();
    let kill_for_requests = kill.clone();
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request
            .extensions_mut()
            .insert(ConnectionKill(kill_for_requests.clone()));
        router.clone().oneshot(request.map(Body::new))
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(%error, "connection ended with an error");
            }
        }
        // Dropping the connection future closes the socket before any answer is written.
        () = kill.cancelled() => tracing::debug!("connection dropped by a fault"),
        () = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                _ = conn.as_mut() => {}
                () = kill.cancelled() => {}
            }
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v4", any(frameio))
        .route("/v4/{*rest}", any(frameio))
        .route("/ims/token/v3", post(ims_token))
        .route("/_sim/stats", get(control_stats))
        .route("/_sim/reset", post(control_reset))
        .route(
            "/_sim/faults",
            get(control_faults).post(control_update_faults),
        )
        .route("/_sim/tokens/expire", post(control_expire))
        .route("/_sim/tokens/revoke", post(control_revoke))
        .route("/_sim/state", get(control_state))
        .route("/_sim/upload/{file_id}/{part}", put(uploads::put_part))
        .fallback(not_found)
        .with_state(shared)
}

/// Applies the configured faults to a request: added latency, then an error answer or a
/// dropped connection. Returns the answer to send instead of serving, if any.
pub(crate) async fn inject_faults(
    shared: &Shared,
    operation: &str,
    kill: Option<ConnectionKill>,
) -> Option<Response> {
    let (latency, action) = {
        let mut faults = lock(&shared.faults);
        let latency = if faults.applies_to(operation) {
            faults.latency()
        } else {
            Duration::ZERO
        };
        (latency, faults.decide(operation))
    };
    if !latency.is_zero() {
        lock(&shared.recorder).stats.faults.delayed += 1;
        tokio::time::sleep(latency).await;
    }
    match action {
        FaultAction::None => None,
        FaultAction::Error(code) => {
            lock(&shared.recorder).stats.faults.errors += 1;
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            tracing::debug!(operation, status = code, "fault: error answer");
            Some(fault_answer(operation, status))
        }
        FaultAction::Drop => {
            lock(&shared.recorder).stats.faults.dropped += 1;
            tracing::debug!(operation, "fault: dropping the connection");
            if let Some(kill) = kill {
                kill.0.cancel();
                // The connection task drops this handler with the connection.
                return Some(std::future::pending::<Response>().await);
            }
            Some(fault_answer(operation, StatusCode::SERVICE_UNAVAILABLE))
        }
    }
}

fn fault_answer(operation: &str, status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let body = if operation == IMS_OPERATION {
        json!({"error": "server_error", "error_description": reason})
    } else {
        json!({"errors": [{"title": reason, "detail": "The service is temporarily unavailable"}]})
    };
    (status, Json(body)).into_response()
}

/// The Frame.io API: every request under `/v4`.
async fn frameio(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let routed = shared
        .spec
        .route(&method, &path)
        .map(|(op, params)| (op.id.clone(), params));
    let (operation, params) = match routed {
        Ok(found) => found,
        Err(path_exists) => {
            let error = if path_exists {
                ApiError::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "Method Not Allowed",
                    format!("{method} is not supported on {path}"),
                )
            } else {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "Not Found",
                    format!("no route for {path}"),
                )
            };
            let decision = lock(&shared.limiter).peek(None, UNKNOWN_OPERATION, Instant::now());
            return finish(&shared, UNKNOWN_OPERATION, decision, Err(error));
        }
    };

    if let Some(answer) = inject_faults(&shared, &operation, connection_kill(&request)).await {
        let decision = lock(&shared.limiter).peek(None, &operation, Instant::now());
        shared.record(&operation, answer.status());
        return with_limit_headers(answer, &decision);
    }

    let Some(principal) = authenticate(&shared, request.headers()) else {
        let decision = lock(&shared.limiter).peek(None, &operation, Instant::now());
        return finish(&shared, &operation, decision, Err(ApiError::unauthorized()));
    };

    let decision = lock(&shared.limiter).check(&principal.user_id, &operation, Instant::now());
    if !decision.admitted {
        tracing::debug!(operation, user_id = %principal.user_id, "rate limited");
        let error = ApiError::too_many_requests(&operation);
        return finish(&shared, &operation, decision, Err(error));
    }

    let result = serve_operation(&shared, &operation, params, principal, request).await;
    finish(&shared, &operation, decision, result)
}

/// Reads and validates the body, then runs the operation's handler.
async fn serve_operation(
    shared: &Arc<Shared>,
    operation: &str,
    params: HashMap<String, String>,
    principal: Principal,
    request: Request,
) -> Result<api::Reply, ApiError> {
    let (parts, body) = request.into_parts();
    let query = parse_query(parts.uri.query());
    let base_url = base_url(shared, &parts.headers);
    let bytes = axum::body::to_bytes(body, shared.config.max_body_bytes)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Payload Too Large",
                format!("the body exceeds {} bytes", shared.config.max_body_bytes),
            )
        })?;
    let body = request_body(shared, operation, &bytes)?;
    let user = shared
        .users
        .iter()
        .find(|u| u.user_id == principal.user_id)
        .cloned()
        .ok_or_else(ApiError::unauthorized)?;
    let ctx = api::Ctx {
        user,
        path: parts.uri.path().to_owned(),
        params,
        query,
        body,
        base_url,
    };
    api::handle(shared, operation, ctx)
}

/// Parses the JSON body and checks it against the operation's request schema.
fn request_body(
    shared: &Shared,
    operation: &str,
    bytes: &Bytes,
) -> Result<Option<Value>, ApiError> {
    if !shared.spec.has_request_body(operation) {
        // Operations without a declared body ignore whatever was sent, as Frame.io does.
        return Ok(None);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        let required = shared
            .spec
            .operation(operation)
            .is_some_and(|op| op.request_required);
        if required {
            return Err(ApiError::invalid_field("", "a request body is required"));
        }
        return Ok(None);
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::invalid_field("", format!("the body is not valid JSON: {e}")))?;
    let violations = shared
        .spec
        .validate_request(operation, &value)
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    if let Some(first) = violations.into_iter().next() {
        return Err(ApiError::invalid_field(&first.pointer, first.message));
    }
    if let Some(pointer) = shared.spec.unexpected_fields(operation, &value).first() {
        let field = pointer.rsplit('/').next().unwrap_or_default();
        return Err(ApiError::invalid_field(
            pointer,
            format!("Unexpected field: {field}"),
        ));
    }
    Ok(Some(value))
}

/// Turns a handler's result into the answer: JSON body, rate-limit headers, request id.
fn finish(
    shared: &Shared,
    operation: &str,
    decision: Decision,
    result: Result<api::Reply, ApiError>,
) -> Response {
    let response = match result {
        Ok(reply) => match reply.body {
            Some(body) => (reply.status, Json(body)).into_response(),
            None => reply.status.into_response(),
        },
        Err(error) => {
            if error.status.is_server_error() {
                tracing::warn!(operation, status = error.status.as_u16(), detail = %error.detail);
            }
            (error.status, Json(error.body())).into_response()
        }
    };
    shared.record(operation, response.status());
    tracing::debug!(
        operation,
        status = response.status().as_u16(),
        "request served"
    );
    with_limit_headers(response, &decision)
}

fn with_limit_headers(mut response: Response, decision: &Decision) -> Response {
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit", HeaderValue::from(decision.limit));
    headers.insert(
        "x-ratelimit-remaining",
        HeaderValue::from(decision.remaining),
    );
    headers.insert("x-ratelimit-window", HeaderValue::from(decision.window_ms));
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        headers.insert("x-request-id", id);
    }
    response
}

/// The principal of the request's bearer token, if it is valid.
fn authenticate(shared: &Shared, headers: &HeaderMap) -> Option<Principal> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    lock(&shared.tokens).authenticate(token.trim(), Instant::now())
}

/// Query parameters by name (the last value wins).
pub(crate) fn parse_query(query: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// The base URL clients used to reach the simulator, so that upload URLs work through
/// whatever address they connected to.
fn base_url(shared: &Shared, headers: &HeaderMap) -> String {
    headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map_or_else(
            || format!("http://{}", shared.local_addr),
            |host| format!("http://{host}"),
        )
}

/// IMS `POST /ims/token/v3`: the client-credentials grant, from the form body and the query.
async fn ims_token(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    if let Some(answer) = inject_faults(&shared, IMS_OPERATION, connection_kill(&request)).await {
        shared.record(IMS_OPERATION, answer.status());
        return answer;
    }
    let mut form = parse_query(request.uri().query());
    let body = axum::body::to_bytes(request.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    form.extend(url::form_urlencoded::parse(&body).into_owned());
    let client_id = form.get("client_id").cloned().unwrap_or_default();

    let result = lock(&shared.tokens).grant(&form, Instant::now());
    lock(&shared.recorder).ims(&client_id, result.is_ok());
    let response = match result {
        Ok(token) => {
            tracing::debug!(client_id, "IMS token issued");
            (StatusCode::OK, Json(token)).into_response()
        }
        Err(error) => {
            tracing::debug!(client_id, error = error.error, "IMS grant refused");
            let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
            (status, Json(error.body())).into_response()
        }
    };
    shared.record(IMS_OPERATION, response.status());
    response
}

async fn not_found(request: Request) -> Response {
    let error = ApiError::new(
        StatusCode::NOT_FOUND,
        "Not Found",
        format!("no route for {}", request.uri().path()),
    );
    (error.status, Json(error.body())).into_response()
}

/// `GET /_sim/stats`.
async fn control_stats(State(shared): State<Arc<Shared>>) -> Json<Stats> {
    Json(shared.stats())
}

/// `POST /_sim/reset`: counters; with `?state=true` also the seeded world and tokens.
async fn control_reset(State(shared): State<Arc<Shared>>, request: Request) -> StatusCode {
    let query = parse_query(request.uri().query());
    shared.reset_stats();
    if query.get("state").is_some_and(|v| v == "true") {
        shared.reset_state();
    }
    StatusCode::NO_CONTENT
}

/// `GET /_sim/faults`.
async fn control_faults(State(shared): State<Arc<Shared>>) -> Json<FaultConfig> {
    Json(lock(&shared.faults).clone())
}

/// `POST /_sim/faults` with a [`FaultUpdate`]; answers the faults now in force.
async fn control_update_faults(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Json<FaultConfig>, Response> {
    let update: FaultUpdate = if body.is_empty() {
        FaultUpdate::default()
    } else {
        serde_json::from_slice(&body).map_err(bad_control_body)?
    };
    Ok(Json(shared.update_faults(&update)))
}

/// `POST /_sim/tokens/expire` with an optional `{"client_id": ...}`.
async fn control_expire(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match token_scope(&body) {
        Ok(scope) => Json(json!({"expired": shared.expire_tokens(&scope)})).into_response(),
        Err(error) => bad_control_body(error),
    }
}

/// `POST /_sim/tokens/revoke` with an optional `{"client_id": ...}`.
async fn control_revoke(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match token_scope(&body) {
        Ok(scope) => Json(json!({"revoked": shared.revoke_tokens(&scope)})).into_response(),
        Err(error) => bad_control_body(error),
    }
}

fn token_scope(body: &Bytes) -> Result<TokenScope, serde_json::Error> {
    if body.is_empty() {
        return Ok(TokenScope::default());
    }
    serde_json::from_slice(body)
}

fn bad_control_body(error: serde_json::Error) -> Response {
    let body = json!({"errors": [{"title": "Bad Request", "detail": error.to_string()}]});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// `GET /_sim/state`: the service accounts (without secrets), accounts, workspaces and
/// projects, and how many assets and other entities exist.
async fn control_state(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let store = lock(&shared.store);
    let users: Vec<Value> = shared
        .users
        .iter()
        .map(|u| {
            json!({"client_id": u.client_id, "user_id": u.user_id, "name": u.name,
                   "email": u.email, "accounts": u.accounts})
        })
        .collect();
    let mut projects: Vec<&crate::store::Project> = store.projects.values().collect();
    projects.sort_by_key(|p| p.stamp.seq);
    let projects: Vec<Value> = projects
        .into_iter()
        .map(|p| {
            json!({"id": p.id, "name": p.name, "account_id": p.account_id,
                   "workspace_id": p.workspace_id, "root_folder_id": p.root_folder_id})
        })
        .collect();
    let mut workspaces: Vec<&crate::store::Workspace> = store.workspaces.values().collect();
    workspaces.sort_by_key(|w| w.stamp.seq);
    let workspaces: Vec<Value> = workspaces
        .into_iter()
        .map(|w| json!({"id": w.id, "name": w.name, "account_id": w.account_id}))
        .collect();
    let mut accounts: Vec<&crate::store::Account> = store.accounts.values().collect();
    accounts.sort_by_key(|a| a.stamp.seq);
    let accounts: Vec<Value> = accounts
        .into_iter()
        .map(|a| json!({"id": a.id, "display_name": a.display_name}))
        .collect();
    Json(json!({
        "service_accounts": users,
        "accounts": accounts,
        "workspaces": workspaces,
        "projects": projects,
        "counts": {
            "assets": store.assets.len(),
            "comments": store.comments.len(),
            "field_definitions": store.fields.len(),
            "shares": store.shares.len(),
            "webhooks": store.webhooks.len(),
        },
    }))
}
