//! The client of one service account: HTTP, token cache and the request path that every
//! typed call goes through (authentication, one retry after a 401, rate-limit headers, error
//! mapping, `{"data": ...}` envelopes).

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use reqwest::header::{HeaderMap, AUTHORIZATION};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tracing::{debug, warn};
use url::Url;

use crate::config::{user_agent, ClientConfig, Credentials};
use crate::error::{parse_error_body, ApiError, Error};
use crate::rate_limit::{header_str, retry_after, RateLimit, RateLimitObserver};
use crate::token::TokenCache;
use crate::Operation;

/// The client of one service account. Cheap to clone; clones share connections and tokens.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    config: Arc<ClientConfig>,
    api_base: Arc<Url>,
    tokens: TokenCache,
    observer: Option<RateLimitObserver>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("api_base", &self.api_base.as_str())
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

/// Builds the HTTP client that [`Client::new`] uses: rustls, the User-Agent, the timeouts of
/// `config`. Share one between the clients of many accounts with [`Client::with_http`].
pub fn http_client(config: &ClientConfig) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .user_agent(user_agent())
        .connect_timeout(config.connect_timeout())
        .timeout(config.request_timeout())
        .build()
        .map_err(|e| Error::Setup(crate::error::chain(&e)))
}

/// The `{"data": ...}` envelope of single-resource answers.
#[derive(Deserialize)]
pub(crate) struct Envelope<T> {
    pub(crate) data: T,
}

/// The `{"data": ...}` envelope of request bodies.
#[derive(Serialize)]
pub(crate) struct DataBody<'a, T: Serialize> {
    pub(crate) data: &'a T,
}

/// One request of the API, before authentication.
pub(crate) struct ApiRequest {
    pub(crate) operation: Operation,
    pub(crate) url: Url,
    pub(crate) body: Option<Bytes>,
}

/// A successful answer.
pub(crate) struct ApiResponse {
    pub(crate) status: StatusCode,
    pub(crate) request_id: Option<String>,
    pub(crate) body: Bytes,
}

impl Client {
    /// A client for one service account with its own HTTP connection pool.
    pub fn new(config: ClientConfig, credentials: Credentials) -> Result<Self, Error> {
        let http = http_client(&config)?;
        Self::with_http(http, config, credentials)
    }

    /// A client that shares `http` (built with [`http_client`]) with other accounts.
    pub fn with_http(
        http: reqwest::Client,
        config: ClientConfig,
        credentials: Credentials,
    ) -> Result<Self, Error> {
        let api_base = Url::parse(&config.api_base_url)
            .map_err(|e| Error::Setup(format!("api_base_url: {e}")))?;
        if api_base.cannot_be_a_base() {
            return Err(Error::Setup("api_base_url cannot be a base URL".to_owned()));
        }
        Url::parse(&config.ims_base_url).map_err(|e| Error::Setup(format!("ims_base_url: {e}")))?;

        let tokens = TokenCache::new(http.clone(), &config, credentials);
        Ok(Self {
            http,
            config: Arc::new(config),
            api_base: Arc::new(api_base),
            tokens,
            observer: None,
        })
    }

    /// Installs a callback that receives the `x-ratelimit-*` headers of every response.
    pub fn with_rate_limit_observer(mut self, observer: RateLimitObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The token cache of this account (remaining lifetime, counters).
    pub fn tokens(&self) -> &TokenCache {
        &self.tokens
    }

    /// The configuration the client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `{api_base}/v4/<segments...>`, each segment percent-encoded.
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = Url::clone(&self.api_base);
        {
            // The base was checked to be a base URL in `with_http`.
            let mut path = url.path_segments_mut().expect("api base URL is a base");
            path.pop_if_empty().push("v4").extend(segments);
        }
        url
    }

    /// Sends a request and decodes `{"data": T}`.
    pub(crate) async fn call<T: DeserializeOwned>(&self, request: ApiRequest) -> Result<T, Error> {
        let operation = request.operation;
        let response = self.execute(request).await?;
        decode::<Envelope<T>>(operation, &response).map(|envelope| envelope.data)
    }

    /// Sends a request whose answer carries no body we need (204s).
    pub(crate) async fn call_empty(&self, request: ApiRequest) -> Result<(), Error> {
        self.execute(request).await.map(|_| ())
    }

    /// Sends a request with a bearer token; after a 401 it drops the token, fetches a new one
    /// once and retries the request once.
    pub(crate) async fn execute(&self, request: ApiRequest) -> Result<ApiResponse, Error> {
        let operation = request.operation;
        let token = self.token(operation).await?;

        let first = self.send_once(&request, token.expose()).await;
        let Err(Error::Api(api)) = &first else {
            return first;
        };
        if api.status != StatusCode::UNAUTHORIZED.as_u16() {
            return first;
        }

        warn!(operation = %operation, request_id = ?api.request_id,
            "Frame.io refused the access token, fetching a new one");
        self.tokens.invalidate(token.generation());
        let token = self.token(operation).await?;
        self.send_once(&request, token.expose()).await
    }

    async fn token(&self, operation: Operation) -> Result<crate::AccessToken, Error> {
        self.tokens
            .token()
            .await
            .map_err(|source| Error::Ims { operation, source })
    }

    async fn send_once(&self, request: &ApiRequest, token: &str) -> Result<ApiResponse, Error> {
        let operation = request.operation;
        let mut builder = self
            .http
            .request(operation.method().as_reqwest(), request.url.clone())
            .header(AUTHORIZATION, format!("Bearer {token}"));
        if let Some(body) = &request.body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }

        let started = Instant::now();
        let response = builder
            .send()
            .await
            .map_err(|e| Error::from_reqwest(operation, e))?;
        let status = response.status();
        let headers = response.headers().clone();
        self.observe(operation, &headers);
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::from_reqwest(operation, e))?;

        let request_id = header_str(&headers, "x-request-id").map(str::to_owned);
        debug!(operation = %operation, status = status.as_u16(), request_id = ?request_id,
            elapsed_ms = started.elapsed().as_millis() as u64, "Frame.io request");
        if status.is_success() {
            return Ok(ApiResponse {
                status,
                request_id,
                body,
            });
        }
        Err(api_error(operation, status, &headers, request_id, &body))
    }

    /// Hands the rate-limit headers of a response to the observer.
    pub(crate) fn observe(&self, operation: Operation, headers: &HeaderMap) {
        let (Some(observer), Some(limit)) = (&self.observer, RateLimit::from_headers(headers))
        else {
            return;
        };
        observer(operation, limit);
    }
}

/// Builds the request of an operation; `body` is wrapped in `{"data": ...}`.
pub(crate) fn request<B: Serialize>(
    operation: Operation,
    url: Url,
    body: Option<&B>,
) -> Result<ApiRequest, Error> {
    let body = match body {
        Some(data) => Some(Bytes::from(
            serde_json::to_vec(&DataBody { data }).map_err(|e| Error::InvalidRequest {
                operation,
                reason: format!("body: {e}"),
            })?,
        )),
        None => None,
    };
    Ok(ApiRequest {
        operation,
        url,
        body,
    })
}

/// A request without a body.
pub(crate) fn bare(operation: Operation, url: Url) -> ApiRequest {
    ApiRequest {
        operation,
        url,
        body: None,
    }
}

pub(crate) fn decode<T: DeserializeOwned>(
    operation: Operation,
    response: &ApiResponse,
) -> Result<T, Error> {
    serde_json::from_slice(&response.body).map_err(|e| Error::Decode {
        operation,
        status: response.status.as_u16(),
        message: e.to_string(),
        request_id: response.request_id.clone(),
    })
}

fn api_error(
    operation: Operation,
    status: StatusCode,
    headers: &HeaderMap,
    request_id: Option<String>,
    body: &[u8],
) -> Error {
    let (title, detail, pointer) = parse_error_body(body);
    Error::Api(Box::new(ApiError {
        operation,
        status: status.as_u16(),
        title,
        detail,
        pointer,
        request_id,
        rate_limit: RateLimit::from_headers(headers),
        retry_after: retry_after(headers),
    }))
}
