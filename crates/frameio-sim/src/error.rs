//! Errors: [`SimError`] for starting and running the simulator, and [`ApiError`], an error
//! answer of the simulated Frame.io API in its `{"errors": [...]}` shape.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::config::SeedError;

/// Why the simulator could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bound socket has no local address.
    #[error("cannot read the listening address: {0}")]
    LocalAddr(std::io::Error),
    /// The seed file is missing or invalid.
    #[error(transparent)]
    Seed(#[from] SeedError),
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The HTTP client for remote uploads could not be built.
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(String),
}

/// An error answer of the Frame.io API: status, title, detail and where it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Short title, e.g. "Not Found".
    pub title: &'static str,
    /// What went wrong.
    pub detail: String,
    /// JSON pointer into the request body, when a field is at fault.
    pub pointer: Option<String>,
    /// Query parameter at fault, if any.
    pub parameter: Option<String>,
}

impl ApiError {
    /// An error with a status, title and detail.
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            title,
            detail: detail.into(),
            pointer: None,
            parameter: None,
        }
    }

    /// 404 for an unknown resource.
    pub fn not_found(kind: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Not Found",
            format!("{kind} {id} not found"),
        )
    }

    /// 403 for a resource the user may not use.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", detail)
    }

    /// 422 for a request that is well-formed but cannot be processed.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid value", detail)
    }

    /// 422 for a body field, named by its JSON pointer.
    pub fn invalid_field(pointer: &str, detail: impl Into<String>) -> Self {
        ApiError {
            pointer: Some(pointer.to_owned()),
            ..Self::invalid(detail)
        }
    }

    /// 422 for a query parameter.
    pub fn invalid_parameter(name: &str, detail: impl Into<String>) -> Self {
        ApiError {
            parameter: Some(name.to_owned()),
            ..Self::invalid(detail)
        }
    }

    /// 401 for a missing, unknown, expired or revoked token.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Invalid or missing authorization token",
        )
    }

    /// 429 when the operation's limit is exhausted.
    pub fn too_many_requests(operation: &str) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests",
            format!("Rate limit exceeded for {operation}"),
        )
    }

    /// The `{"errors": [...]}` body.
    pub fn body(&self) -> Value {
        Self::body_of(std::slice::from_ref(self))
    }

    /// One body listing several errors (all with the same status).
    pub fn body_of(errors: &[ApiError]) -> Value {
        let items: Vec<Value> = errors
            .iter()
            .map(|e| {
                let mut item = json!({"title": e.title, "detail": e.detail});
                if let Some(pointer) = &e.pointer {
                    item["source"] = json!({"pointer": pointer});
                } else if let Some(parameter) = &e.parameter {
                    item["source"] = json!({"parameter": parameter});
                }
                item
            })
            .collect();
        json!({ "errors": items })
    }
}
