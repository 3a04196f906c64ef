//! JSON Schema of the messages, generated from the Rust types.
//!
//! The generated files are committed under `schemas/`; a test compares them with what the
//! types produce now, so the contract that backends rely on cannot drift unnoticed. Run
//! `make schemas` (or the test with `UPDATE_SCHEMAS=1`) to rewrite them after a deliberate
//! change.

use crate::{Job, JobResult};

/// The schema files: file name and pretty-printed content.
pub fn all() -> Vec<(&'static str, String)> {
    vec![
        ("job.v1.json", render::<Job>()),
        ("result.v1.json", render::<JobResult>()),
    ]
}

fn render<T: schemars::JsonSchema>() -> String {
    let schema = schemars::schema_for!(T);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serialises");
    text.push('\n');
    text
}
