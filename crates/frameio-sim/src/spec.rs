//! The vendored Frame.io V4 OpenAPI description: operation lookup by method and path, and
//! validation of request and response bodies against the schemas it declares.
//!
//! The simulator validates every request body with it, and the client's tests can reuse
//! [`Spec`] to check that what they send and receive matches the published description.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Registry, Validator};
use serde_json::Value;

/// The OpenAPI description embedded at build time.
const OPENAPI_JSON: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../spec/frameio/openapi-v4.json"
));

/// The base URI under which the description is registered for `$ref` resolution.
const SPEC_URI: &str = "urn:frameio:openapi-v4";

/// Errors raised while loading the description or validating against it.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The embedded description is not valid JSON or lacks `paths`.
    #[error("the OpenAPI description cannot be read: {0}")]
    Load(String),
    /// No operation with this id exists in the description.
    #[error("unknown operation {0}")]
    UnknownOperation(String),
    /// The operation declares no JSON schema for this request or response.
    #[error("operation {operation} declares no schema for {what}")]
    NoSchema {
        /// The operation id.
        operation: String,
        /// What was looked up, e.g. "request body" or "response 200".
        what: String,
    },
    /// A schema of the description could not be compiled.
    #[error("schema for {0} cannot be compiled: {1}")]
    Compile(String, String),
}

/// One violation found while validating a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer to the offending value inside the document ("" for the root).
    pub pointer: String,
    /// What is wrong, in words.
    pub message: String,
}

/// One operation of the description.
#[derive(Debug, Clone)]
pub struct Operation {
    /// The operation id, e.g. `files.show`.
    pub id: String,
    /// The HTTP method in upper case.
    pub method: String,
    /// The path template, e.g. `/v4/accounts/{account_id}/files/{file_id}`.
    pub path: String,
    /// The path split into segments; `None` marks a `{parameter}` segment.
    segments: Vec<Option<String>>,
    /// Names of the path parameters in order.
    params: Vec<String>,
    /// Pointer into the description for the request body schema, if any.
    request_pointer: Option<String>,
    /// Whether the request body is required.
    pub request_required: bool,
    /// Response status codes declared with a JSON body, with their schema pointers.
    responses: Vec<(String, String)>,
    /// Every declared response status code, with or without a body.
    pub statuses: Vec<u16>,
}

impl Operation {
    /// Matches a concrete path against this operation's template and returns the path
    /// parameters by name when it fits.
    pub fn match_path(&self, path: &str) -> Option<HashMap<String, String>> {
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        if parts.len() != self.segments.len() {
            return None;
        }

        let mut params = HashMap::new();
        let mut names = self.params.iter();
        for (part, segment) in parts.iter().zip(&self.segments) {
            match segment {
                Some(literal) if literal == part => {}
                Some(_) => return None,
                None if part.is_empty() => return None,
                None => {
                    let name = names.next()?;
                    params.insert(name.clone(), (*part).to_owned());
                }
            }
        }
        Some(params)
    }

    /// Number of literal segments, used to prefer `/files/move` over `/files/{file_id}`.
    fn literal_count(&self) -> usize {
        self.segments.iter().filter(|s| s.is_some()).count()
    }
}

/// The loaded description with a cache of compiled validators.
pub struct Spec {
    operations: Vec<Operation>,
    registry: Registry<'static>,
    /// The description itself, for reading declared properties.
    document: Value,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("operations", &self.operations.len())
            .finish_non_exhaustive()
    }
}

impl Spec {
    /// Returns the process-wide description, loading it on first use.
    ///
    /// # Panics
    ///
    /// Panics when the embedded description cannot be read, which a test of this crate
    /// would have caught before release.
    pub fn global() -> &'static Spec {
        static SPEC: OnceLock<Spec> = OnceLock::new();
        SPEC.get_or_init(|| Spec::load().expect("the embedded OpenAPI description loads"))
    }

    /// Loads the embedded description.
    pub fn load() -> Result<Spec, SpecError> {
        let document: Value =
            serde_json::from_str(OPENAPI_JSON).map_err(|e| SpecError::Load(e.to_string()))?;
        let operations = collect_operations(&document)?;
        let registry = Registry::new()
            .draft(jsonschema::Draft::Draft202012)
            .add(SPEC_URI, document.clone())
            .and_then(|builder| builder.prepare())
            .map_err(|e| SpecError::Load(e.to_string()))?;

        Ok(Spec {
            operations,
            registry,
            document,
            validators: Mutex::new(HashMap::new()),
        })
    }

    /// All operations of the description.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// Looks an operation up by id.
    pub fn operation(&self, operation_id: &str) -> Option<&Operation> {
        self.operations.iter().find(|op| op.id == operation_id)
    }

    /// Finds the operation serving `method` on `path`, with its path parameters.
    ///
    /// The result is `Err(true)` when the path exists under another method, so the caller
    /// can answer 405 rather than 404.
    pub fn route(
        &self,
        method: &str,
        path: &str,
    ) -> Result<(&Operation, HashMap<String, String>), bool> {
        let mut best: Option<(&Operation, HashMap<String, String>)> = None;
        let mut path_exists = false;
        for op in &self.operations {
            let Some(params) = op.match_path(path) else {
                continue;
            };
            path_exists = true;
            if op.method != method {
                continue;
            }
            let better = best
                .as_ref()
                .is_none_or(|(current, _)| op.literal_count() > current.literal_count());
            if better {
                best = Some((op, params));
            }
        }
        best.ok_or(path_exists)
    }

    /// Validates a request body against the operation's request schema.
    pub fn validate_request(
        &self,
        operation_id: &str,
        body: &Value,
    ) -> Result<Vec<Violation>, SpecError> {
        let op = self.known(operation_id)?;
        let pointer = op
            .request_pointer
            .clone()
            .ok_or_else(|| SpecError::NoSchema {
                operation: operation_id.to_owned(),
                what: "request body".to_owned(),
            })?;
        self.validate_at(&pointer, body)
    }

    /// Validates a response body against the schema declared for `status`.
    pub fn validate_response(
        &self,
        operation_id: &str,
        status: u16,
        body: &Value,
    ) -> Result<Vec<Violation>, SpecError> {
        let op = self.known(operation_id)?;
        let code = status.to_string();
        let pointer = op
            .responses
            .iter()
            .find(|(declared, _)| *declared == code)
            .map(|(_, pointer)| pointer.clone())
            .ok_or_else(|| SpecError::NoSchema {
                operation: operation_id.to_owned(),
                what: format!("response {status}"),
            })?;
        self.validate_at(&pointer, body)
    }

    /// Fields of a request body that its schema does not declare, as JSON pointers: keys of
    /// the body and of its `data` object. The description allows extra properties, but
    /// Frame.io refuses them ("Unexpected field"), so the simulator checks them apart.
    pub fn unexpected_fields(&self, operation_id: &str, body: &Value) -> Vec<String> {
        let Some(schema) = self
            .operation(operation_id)
            .and_then(|op| op.request_pointer.as_deref())
            .and_then(|pointer| self.document.pointer(pointer))
        else {
            return Vec::new();
        };
        let mut unexpected = Vec::new();
        let declared = self.properties(schema);
        for key in body.as_object().into_iter().flat_map(|o| o.keys()) {
            if !declared.contains_key(key.as_str()) {
                unexpected.push(format!("/{}", escape(key)));
            }
        }
        let data_schema = declared.get("data").copied();
        if let (Some(data_schema), Some(data)) = (data_schema, body.get("data")) {
            let allowed = self.properties(data_schema);
            for key in data.as_object().into_iter().flat_map(|o| o.keys()) {
                if !allowed.contains_key(key.as_str()) {
                    unexpected.push(format!("/data/{}", escape(key)));
                }
            }
        }
        unexpected
    }

    /// The properties a schema declares, through `$ref`s and the variants of unions.
    fn properties<'a>(&'a self, schema: &'a Value) -> HashMap<&'a str, &'a Value> {
        let schema = self.resolve(schema);
        let mut found: HashMap<&str, &Value> = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|props| props.iter().map(|(k, v)| (k.as_str(), v)).collect())
            .unwrap_or_default();
        for union in ["anyOf", "oneOf", "allOf"] {
            for variant in schema
                .get(union)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                found.extend(self.properties(variant));
            }
        }
        found
    }

    /// Follows local `$ref`s (`#/components/...`).
    fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        // Bounded, so that a reference cycle cannot hang the simulator.
        for _ in 0..16 {
            let Some(target) = schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|pointer| self.document.pointer(pointer))
            else {
                break;
            };
            schema = target;
        }
        schema
    }

    /// Whether the operation declares a JSON request body.
    pub fn has_request_body(&self, operation_id: &str) -> bool {
        self.operation(operation_id)
            .is_some_and(|op| op.request_pointer.is_some())
    }

    /// Whether the operation declares a JSON body for this response status.
    pub fn has_response_body(&self, operation_id: &str, status: u16) -> bool {
        let code = status.to_string();
        self.operation(operation_id)
            .is_some_and(|op| op.responses.iter().any(|(declared, _)| *declared == code))
    }

    fn known(&self, operation_id: &str) -> Result<&Operation, SpecError> {
        self.operation(operation_id)
            .ok_or_else(|| SpecError::UnknownOperation(operation_id.to_owned()))
    }

    fn validate_at(&self, pointer: &str, body: &Value) -> Result<Vec<Violation>, SpecError> {
        let validator = self.validator(pointer)?;
        Ok(validator
            .iter_errors(body)
            .map(|error| Violation {
                pointer: error.instance_path().to_string(),
                message: error.to_string(),
            })
            .collect())
    }

    /// Compiles (once) a validator for the schema found at `pointer` in the description.
    fn validator(&self, pointer: &str) -> Result<Arc<Validator>, SpecError> {
        let mut cache = self.validators.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = cache.get(pointer) {
            return Ok(found.clone());
        }

        // Braces of path templates are not allowed in a URI fragment and must be escaped.
        let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
        let reference = serde_json::json!({ "$ref": format!("{SPEC_URI}#{fragment}") });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .with_registry(&self.registry)
            .should_validate_formats(true)
            .build(&reference)
            .map_err(|e| SpecError::Compile(pointer.to_owned(), e.to_string()))?;
        let validator = Arc::new(validator);
        cache.insert(pointer.to_owned(), validator.clone());
        Ok(validator)
    }
}

/// Escapes one JSON pointer token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Reads every operation of `paths` with the pointers to its body schemas.
fn collect_operations(document: &Value) -> Result<Vec<Operation>, SpecError> {
    let paths = document
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| SpecError::Load("no paths".to_owned()))?;

    let mut operations = Vec::new();
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let base = format!("/paths/{}/{}", escape(path), method);
            operations.push(read_operation(id, method, path, op, &base));
        }
    }
    Ok(operations)
}

fn read_operation(id: &str, method: &str, path: &str, op: &Value, base: &str) -> Operation {
    let segments: Vec<Option<String>> = path
        .split('/')
        .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
        .collect();
    let params = path
        .split('/')
        .filter(|s| s.starts_with('{'))
        .map(|s| s.trim_matches(|c| c == '{' || c == '}').to_owned())
        .collect();

    let request_body = op.pointer("/requestBody/content/application~1json/schema");
    let request_pointer =
        request_body.map(|_| format!("{base}/requestBody/content/application~1json/schema"));
    let request_required = op
        .pointer("/requestBody/required")
        .and_then(Value::as_bool)
        .unwrap_or(false);

    let mut responses = Vec::new();
    let mut statuses = Vec::new();
    if let Some(declared) = op.get("responses").and_then(Value::as_object) {
        for (code, response) in declared {
            if let Ok(status) = code.parse() {
                statuses.push(status);
            }
            if let Some(content) = response.get("content").and_then(Value::as_object) {
                if let Some(media) = content.keys().next() {
                    let pointer =
                        format!("{base}/responses/{code}/content/{}/schema", escape(media));
                    responses.push((code.clone(), pointer));
                }
            }
        }
    }

    Operation {
        id: id.to_owned(),
        method: method.to_uppercase(),
        path: path.to_owned(),
        segments,
        params,
        request_pointer,
        request_required,
        responses,
        statuses,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn routes_prefer_literal_segments() {
        let spec = Spec::global();
        let (op, _) = spec
            .route("PATCH", "/v4/accounts/a/files/move")
            .expect("bulk move routes");
        assert_eq!(op.id, "files.bulk_move");

        let (op, params) = spec
            .route("PATCH", "/v4/accounts/a/files/f1/move")
            .expect("move routes");
        assert_eq!(op.id, "files.move");
        assert_eq!(params["file_id"], "f1");
    }

    #[test]
    fn wrong_method_is_distinguished_from_unknown_path() {
        let spec = Spec::global();
        assert!(matches!(spec.route("PUT", "/v4/me"), Err(true)));
        assert!(matches!(spec.route("GET", "/v4/nothing"), Err(false)));
    }

    #[test]
    fn request_validation_names_the_pointer() {
        let spec = Spec::global();
        let bad = json!({"data": {"name": 5}});
        let violations = spec.validate_request("projects.create", &bad).unwrap();
        assert!(
            violations.iter().any(|v| v.pointer == "/data/name"),
            "{violations:?}"
        );

        let good = json!({"data": {"name": "p"}});
        assert!(spec
            .validate_request("projects.create", &good)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn unexpected_fields_are_named() {
        let spec = Spec::global();
        let body = json!({"data": {"name": "a", "file_size": 1, "filesize": 2}, "extra": 1});
        let mut found = spec.unexpected_fields("files.create_local_upload", &body);
        found.sort();
        assert_eq!(found, ["/data/filesize", "/extra"]);

        // Unions: every variant's fields are allowed.
        let field = json!({"data": {"field_type": "number", "name": "n",
                                    "field_configuration": {"scale": 1}}});
        let op = "metadata_fields.metadata_field_definitions_create";
        assert!(spec.unexpected_fields(op, &field).is_empty());
    }

    #[test]
    fn response_validation_checks_required_fields() {
        let spec = Spec::global();
        let bad = json!({"data": {"id": "x"}});
        assert!(!spec
            .validate_response("users.show", 200, &bad)
            .unwrap()
            .is_empty());

        let good = json!({"data": {"id": "x", "email": "a@b", "name": "n"}});
        assert!(spec
            .validate_response("users.show", 200, &good)
            .unwrap()
            .is_empty());
    }
}
