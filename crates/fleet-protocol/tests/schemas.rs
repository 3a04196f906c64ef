//! The committed JSON Schema files match the Rust types, and real messages validate
//! against them.

use std::path::PathBuf;

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

/// Fails when a type changed without its schema file being regenerated.
#[test]
fn committed_schemas_match_the_types() {
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();

    for (name, generated) in fleet_protocol::schema::all() {
        let path = schema_dir().join(name);
        if update {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is out of date; run `make schemas` and commit the result",
            path.display()
        );
    }
}

fn validator(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(schema_dir().join(name)).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

/// A job the parser accepts is valid by the schema, and the schema refuses what the
/// parser refuses, so backends that validate against the schema see the same rules.
#[test]
fn the_job_schema_agrees_with_the_parser() {
    use fleet_protocol::{Job, ParseLimits};
    let schema = validator("job.v1.json");
    let limits = ParseLimits {
        max_body_bytes: 1 << 20,
    };
    let good = serde_json::json!({
        "version": 1, "id": "a-1", "account": "acme", "kind": "test.fail",
        "params": {"transient_failures": 2}, "deadline": "2030-01-01T00:00:00Z"
    });
    let bad = [
        serde_json::json!({"version": 1, "id": "a", "account": "acme", "kind": "nope"}),
        serde_json::json!({"version": 1, "id": "a", "account": "acme", "kind": "test.noop",
            "params": {}, "surprise": true}),
        serde_json::json!({"version": 1, "id": "a", "account": "acme", "kind": "test.sleep",
            "params": {"millis": "soon"}}),
    ];

    assert!(schema.is_valid(&good));
    assert!(Job::parse(good.to_string().as_bytes(), limits).is_ok());
    for value in bad {
        assert!(!schema.is_valid(&value), "schema accepted {value}");
        assert!(
            Job::parse(value.to_string().as_bytes(), limits).is_err(),
            "{value}"
        );
    }
}

/// A result as the worker writes it validates against the committed result schema.
#[test]
fn results_validate_against_the_result_schema() {
    use fleet_protocol::{ErrorClass, JobError, JobResult, Outcome, Timings};
    let now = chrono::Utc::now();
    let result = JobResult {
        version: 1,
        job_id: Some("a-1".into()),
        account: Some("acme".into()),
        kind: Some("test.fail".into()),
        outcome: Outcome::Failed,
        attempts: 3,
        timings: Timings {
            created_at: None,
            started_at: now,
            finished_at: now,
        },
        resources: vec![],
        error: Some(JobError {
            class: ErrorClass::Transient,
            message: "boom".into(),
            http_status: Some(503),
            detail: None,
            request_id: None,
        }),
    };
    let value = serde_json::to_value(&result).unwrap();

    assert!(validator("result.v1.json").is_valid(&value));
    assert!(!validator("result.v1.json").is_valid(&serde_json::json!({"version": 1})));
}
