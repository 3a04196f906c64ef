//! Errors of the client, each with the operation it concerns and a class that tells a caller
//! whether a retry can help.
//!
//! No variant holds a secret, an access token or a pre-signed URL, so `Display` and `Debug`
//! are safe to log and to publish in results.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use crate::{Operation, RateLimit};

/// Whether retrying can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The same request may succeed later: timeouts, connection errors, 5xx, 408, 429, IMS
    /// unavailability.
    Transient,
    /// The request will keep failing until something changes: other 4xx, requests the client
    /// refused to send, unreadable responses, rejected credentials.
    Permanent,
}

impl ErrorClass {
    /// A stable lower-case name for results and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Transient => "transient",
            ErrorClass::Permanent => "permanent",
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-success answer from the Frame.io API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The operation that failed.
    pub operation: Operation,
    /// The HTTP status.
    pub status: u16,
    /// The `title` of Frame.io's first error, when given.
    pub title: Option<String>,
    /// The `detail` of Frame.io's errors, joined with `; ` when there are several.
    pub detail: Option<String>,
    /// The JSON pointer of the first error's `source`, when given.
    pub pointer: Option<String>,
    /// The `x-request-id` response header, for support requests.
    pub request_id: Option<String>,
    /// The rate limit reported on the response.
    pub rate_limit: Option<RateLimit>,
    /// The `Retry-After` the response asked for.
    pub retry_after: Option<Duration>,
}

/// A failure to obtain an access token from Adobe IMS.
///
/// It is `Clone` because one failed fetch is handed to every request that waited for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImsError {
    /// IMS refused the credential (`invalid_client`, `invalid_scope`, a bad secret...).
    #[error("IMS rejected the credentials (HTTP {status}, {code}): {description}")]
    Rejected {
        /// HTTP status of the answer.
        status: u16,
        /// The OAuth `error` code.
        code: String,
        /// The `error_description`, with the secret scrubbed should IMS echo it.
        description: String,
    },
    /// IMS answered 429.
    #[error("IMS throttled the token request (HTTP 429)")]
    Throttled {
        /// The `Retry-After` IMS asked for.
        retry_after: Option<Duration>,
    },
    /// IMS answered 5xx, or could not be reached.
    #[error("IMS is unavailable: {message}")]
    Unavailable {
        /// HTTP status, when IMS answered at all.
        status: Option<u16>,
        /// What went wrong.
        message: String,
        /// The `Retry-After` IMS asked for.
        retry_after: Option<Duration>,
    },
    /// IMS answered 200 with a body that is not a token.
    #[error("IMS sent an unreadable token response: {message}")]
    InvalidResponse {
        /// What could not be read.
        message: String,
    },
}

impl ImsError {
    /// Whether a later attempt may succeed.
    pub fn class(&self) -> ErrorClass {
        match self {
            ImsError::Throttled { .. } | ImsError::Unavailable { .. } => ErrorClass::Transient,
            ImsError::Rejected { .. } | ImsError::InvalidResponse { .. } => ErrorClass::Permanent,
        }
    }

    /// The HTTP status IMS answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ImsError::Rejected { status, .. } => Some(*status),
            ImsError::Throttled { .. } => Some(429),
            ImsError::Unavailable { status, .. } => *status,
            ImsError::InvalidResponse { .. } => Some(200),
        }
    }

    /// How long IMS asked to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ImsError::Throttled { retry_after } | ImsError::Unavailable { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }
}

/// Every error of the client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Frame.io answered with a non-success status.
    #[error("{}", display_api(.0))]
    Api(Box<ApiError>),
    /// The request did not complete within its timeout.
    #[error("{operation}: request timed out")]
    Timeout {
        /// The operation that timed out.
        operation: Operation,
    },
    /// No connection could be opened.
    #[error("{operation}: could not connect: {message}")]
    Connect {
        /// The operation that failed.
        operation: Operation,
        /// The cause, without the URL.
        message: String,
    },
    /// The connection failed after it was opened (reset, truncated body...).
    #[error("{operation}: transport error: {message}")]
    Transport {
        /// The operation that failed.
        operation: Operation,
        /// The cause, without the URL.
        message: String,
    },
    /// The response could not be decoded into the expected type.
    #[error("{operation}: could not decode the response (HTTP {status}): {message}")]
    Decode {
        /// The operation whose answer was unreadable.
        operation: Operation,
        /// The HTTP status of the answer.
        status: u16,
        /// What could not be read.
        message: String,
        /// The `x-request-id` response header.
        request_id: Option<String>,
    },
    /// The client refused to send a request it knows to be invalid.
    #[error("{operation}: invalid request: {reason}")]
    InvalidRequest {
        /// The operation that was not sent.
        operation: Operation,
        /// Why.
        reason: String,
    },
    /// A local file could not be read (uploads).
    #[error("{operation}: {context}: {source}")]
    Io {
        /// The operation in progress.
        operation: Operation,
        /// What the client was doing.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No access token could be obtained for the operation.
    #[error("{operation}: {source}")]
    Ims {
        /// The operation that needed the token.
        operation: Operation,
        /// Why IMS gave no token.
        #[source]
        source: ImsError,
    },
    /// The client could not be built (bad base URL, TLS setup).
    #[error("client setup: {0}")]
    Setup(String),
}

fn display_api(error: &ApiError) -> String {
    let mut text = format!(
        "{}: Frame.io answered HTTP {}",
        error.operation, error.status
    );
    if let Some(detail) = &error.detail {
        text.push_str(": ");
        text.push_str(detail);
    }
    if let Some(request_id) = &error.request_id {
        text.push_str(" (request id ");
        text.push_str(request_id);
        text.push(')');
    }
    text
}

impl Error {
    /// Whether retrying can help.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Api(api) => status_class(api.status),
            Error::Timeout { .. } | Error::Connect { .. } | Error::Transport { .. } => {
                ErrorClass::Transient
            }
            Error::Ims { source, .. } => source.class(),
            Error::Decode { .. }
            | Error::InvalidRequest { .. }
            | Error::Io { .. }
            | Error::Setup(_) => ErrorClass::Permanent,
        }
    }

    /// Shorthand for `class() == ErrorClass::Transient`.
    pub fn is_transient(&self) -> bool {
        self.class() == ErrorClass::Transient
    }

    /// A stable short name of what went wrong, for results and metrics labels: `http_404`,
    /// `timeout`, `connect`, `transport`, `decode`, `invalid_request`, `io`, `ims_rejected`,
    /// `ims_throttled`, `ims_unavailable`, `ims_invalid_response`, `setup`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Api(api) => http_kind(api.status),
            Error::Timeout { .. } => "timeout",
            Error::Connect { .. } => "connect",
            Error::Transport { .. } => "transport",
            Error::Decode { .. } => "decode",
            Error::InvalidRequest { .. } => "invalid_request",
            Error::Io { .. } => "io",
            Error::Ims { source, .. } => match source {
                ImsError::Rejected { .. } => "ims_rejected",
                ImsError::Throttled { .. } => "ims_throttled",
                ImsError::Unavailable { .. } => "ims_unavailable",
                ImsError::InvalidResponse { .. } => "ims_invalid_response",
            },
            Error::Setup(_) => "setup",
        }
    }

    /// The operation concerned, when there is one.
    pub fn operation(&self) -> Option<Operation> {
        match self {
            Error::Api(api) => Some(api.operation),
            Error::Timeout { operation }
            | Error::Connect { operation, .. }
            | Error::Transport { operation, .. }
            | Error::Decode { operation, .. }
            | Error::InvalidRequest { operation, .. }
            | Error::Io { operation, .. }
            | Error::Ims { operation, .. } => Some(*operation),
            Error::Setup(_) => None,
        }
    }

    /// The HTTP status of Frame.io's (or IMS's) answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(api) => Some(api.status),
            Error::Decode { status, .. } => Some(*status),
            Error::Ims { source, .. } => source.status(),
            _ => None,
        }
    }

    /// Frame.io's error detail (or IMS's `error_description`).
    pub fn detail(&self) -> Option<&str> {
        match self {
            Error::Api(api) => api.detail.as_deref(),
            Error::Ims {
                source: ImsError::Rejected { description, .. },
                ..
            } => Some(description),
            _ => None,
        }
    }

    /// The `x-request-id` of the failed response.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(api) => api.request_id.as_deref(),
            Error::Decode { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The `Retry-After` the server asked for.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(api) => api.retry_after,
            Error::Ims { source, .. } => source.retry_after(),
            _ => None,
        }
    }

    /// The rate limit reported on the failed response.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        match self {
            Error::Api(api) => api.rate_limit,
            _ => None,
        }
    }

    /// The API error, when Frame.io answered with one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(api) => Some(api),
            _ => None,
        }
    }

    /// Turns a reqwest error into a transport error, never keeping its URL (pre-signed
    /// upload URLs carry signatures).
    pub(crate) fn from_reqwest(operation: Operation, error: reqwest::Error) -> Error {
        let error = error.without_url();
        let message = chain(&error);
        if error.is_timeout() {
            Error::Timeout { operation }
        } else if error.is_connect() {
            Error::Connect { operation, message }
        } else if error.is_builder() {
            Error::InvalidRequest {
                operation,
                reason: message,
            }
        } else {
            Error::Transport { operation, message }
        }
    }
}

/// The class of an HTTP status: 408, 429 and 5xx are transient, the rest permanent.
pub fn status_class(status: u16) -> ErrorClass {
    match status {
        408 | 429 | 500..=599 => ErrorClass::Transient,
        _ => ErrorClass::Permanent,
    }
}

/// Statuses common enough to have their own label; others fall into `http_4xx`/`http_5xx`.
const HTTP_KINDS: &[(u16, &str)] = &[
    (400, "http_400"),
    (401, "http_401"),
    (403, "http_403"),
    (404, "http_404"),
    (408, "http_408"),
    (409, "http_409"),
    (410, "http_410"),
    (413, "http_413"),
    (422, "http_422"),
    (429, "http_429"),
    (500, "http_500"),
    (502, "http_502"),
    (503, "http_503"),
    (504, "http_504"),
];

fn http_kind(status: u16) -> &'static str {
    if let Some((_, kind)) = HTTP_KINDS.iter().find(|(code, _)| *code == status) {
        return kind;
    }
    match status {
        400..=499 => "http_4xx",
        500..=599 => "http_5xx",
        _ => "http_other",
    }
}

/// The message of an error and of its sources, joined with `: `.
pub(crate) fn chain(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Frame.io's error body: `{"errors":[{"title","detail","source":{"pointer"}}]}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorItem>,
}

#[derive(Debug, Deserialize)]
struct ErrorItem {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    source: Option<ErrorSource>,
}

#[derive(Debug, Deserialize)]
struct ErrorSource {
    #[serde(default)]
    pointer: Option<String>,
}

/// The title, joined details and first pointer of an error body, if it has that shape.
pub(crate) fn parse_error_body(body: &[u8]) -> (Option<String>, Option<String>, Option<String>) {
    let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) else {
        return (None, None, None);
    };

    let title = parsed.errors.iter().find_map(|item| item.title.clone());
    let details: Vec<&str> = parsed
        .errors
        .iter()
        .filter_map(|item| item.detail.as_deref())
        .collect();
    let detail = (!details.is_empty()).then(|| details.join("; "));
    let pointer = parsed
        .errors
        .iter()
        .find_map(|item| item.source.as_ref()?.pointer.clone());
    (title, detail, pointer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert_eq!(status_class(status), ErrorClass::Transient, "{status}");
        }
        for status in [400, 401, 403, 404, 409, 422] {
            assert_eq!(status_class(status), ErrorClass::Permanent, "{status}");
        }
    }

    #[test]
    fn error_body_details_are_joined() {
        let body = br#"{"errors":[{"title":"Invalid value","detail":"Unexpected field: foo",
            "source":{"pointer":"/data/foo"}},{"detail":"name is required"}]}"#;

        let (title, detail, pointer) = parse_error_body(body);

        assert_eq!(title.as_deref(), Some("Invalid value"));
        assert_eq!(
            detail.as_deref(),
            Some("Unexpected field: foo; name is required")
        );
        assert_eq!(pointer.as_deref(), Some("/data/foo"));
    }

    #[test]
    fn display_names_operation_status_detail_and_request_id() {
        let error = Error::Api(Box::new(ApiError {
            operation: Operation::FilesShow,
            status: 404,
            title: None,
            detail: Some("Not found".into()),
            pointer: None,
            request_id: Some("req-1".into()),
            rate_limit: None,
            retry_after: None,
        }));

        assert_eq!(
            error.to_string(),
            "files.show: Frame.io answered HTTP 404: Not found (request id req-1)"
        );
        assert_eq!(error.kind(), "http_404");
        assert_eq!(error.class().as_str(), "permanent");
    }
}
