//! Typed calls of the Frame.io V4 API, one file per area. Each call names its operation.

mod assets;
mod collaboration;
mod tenancy;
pub mod upload;

use url::Url;

use crate::{Error, Operation};

/// The most ids one bulk call takes.
pub const MAX_BULK_IDS: usize = 100;

/// Appends `include=a,b` when `include` is not empty.
pub(crate) fn with_include(mut url: Url, include: &[&str]) -> Url {
    if !include.is_empty() {
        url.query_pairs_mut()
            .append_pair("include", &include.join(","));
    }
    url
}

/// Checks that a bulk call names 1 to 100 ids.
pub(crate) fn check_ids(operation: Operation, ids: &[String]) -> Result<(), Error> {
    if ids.is_empty() || ids.len() > MAX_BULK_IDS {
        return Err(Error::InvalidRequest {
            operation,
            reason: format!("expected 1 to {MAX_BULK_IDS} ids, got {}", ids.len()),
        });
    }
    Ok(())
}
