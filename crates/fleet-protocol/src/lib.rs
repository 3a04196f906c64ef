//! The messages of frameio-fleet: jobs that backends publish and the results that workers
//! publish back.
//!
//! This crate is the contract between the fleet and the backends that use it. It depends on
//! nothing else of the project. The JSON Schema of both messages is generated from these
//! types into `schemas/` (see [`schema`]); backends in other languages validate against it.
//!
//! - [`job`]: the job message and its strict parser, which classifies every way a message
//!   can be bad ([`ParseError`]).
//! - [`result`]: the result message published for every job that ends.
//! - [`kinds`]: the job kinds and their parameters.

pub mod job;
pub mod kinds;
pub mod result;
pub mod schema;

pub use job::{Job, JobId, ParseError, ParseLimits};
pub use kinds::JobSpec;
pub use result::{ErrorClass, JobError, JobResult, Outcome, ResourceRef, Timings};

/// The version of the message format this crate reads and writes.
///
/// A job whose `version` differs is refused with [`ParseError::UnsupportedVersion`], so that
/// a backend that moves to a newer format learns it at once instead of having fields ignored.
pub const PROTOCOL_VERSION: u32 = 1;
