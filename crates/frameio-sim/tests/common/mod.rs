//! Helpers shared by the integration tests: a simulator with fast limits, IMS tokens, and an
//! API caller that checks every answer against the OpenAPI description.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Mutex;

use frameio_sim::spec::Spec;
use frameio_sim::{SeedIds, SimConfig, SimHandle};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;

#[allow(unused_imports)]
pub use frameio_sim::{ALPHA, BETA};

pub fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A simulator whose limits are scaled up so that functional tests never hit them.
pub async fn fast_sim() -> SimHandle {
    sim_with(SimConfig {
        rate_scale: 1000.0,
        ..SimConfig::default()
    })
    .await
}

pub async fn sim_with(config: SimConfig) -> SimHandle {
    frameio_sim::spawn(config, loopback())
        .await
        .expect("simulator starts")
}

/// Asks IMS for a token for a seeded service account.
pub async fn token(sim: &SimHandle, ids: &SeedIds) -> String {
    let response = reqwest::Client::new()
        .post(format!("{}/ims/token/v3", sim.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", ids.client_id),
            ("client_secret", ids.client_secret),
            ("scope", "openid AdobeID frame.s2s.all"),
        ])
        .send()
        .await
        .expect("IMS answers");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// One answer of the API.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: HeaderMap,
}

impl Answer {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    pub fn id(&self) -> String {
        self.body["data"]["id"]
            .as_str()
            .expect("data.id")
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<u64> {
        self.headers.get(name)?.to_str().ok()?.parse().ok()
    }
}

/// Calls the Frame.io API as one service account and checks every answer: the rate-limit
/// headers are present and the body validates against the schema the description declares
/// for the operation and status.
pub struct Api {
    http: reqwest::Client,
    pub base: String,
    pub token: String,
    /// Operation id -> statuses seen, for coverage checks.
    pub seen: Mutex<BTreeMap<String, BTreeSet<u16>>>,
}

impl Api {
    pub async fn new(sim: &SimHandle, ids: &SeedIds) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: sim.base_url(),
            token: token(sim, ids).await,
            seen: Mutex::new(BTreeMap::new()),
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = request.send().await.expect("the simulator answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
        };
        let answer = Answer {
            status,
            body,
            headers,
        };
        self.check(&method, path, &answer);
        answer
    }

    fn check(&self, method: &Method, path: &str, answer: &Answer) {
        for header in [
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-window",
        ] {
            assert!(
                answer.header(header).is_some(),
                "{method} {path}: no {header}"
            );
        }
        let spec = Spec::global();
        let bare = path.split('?').next().unwrap();
        let Ok((operation, _)) = spec.route(method.as_str(), bare) else {
            return;
        };
        let id = operation.id.clone();
        if spec.has_response_body(&id, answer.status) {
            let violations = spec
                .validate_response(&id, answer.status, &answer.body)
                .expect("schema compiles");
            assert!(
                violations.is_empty(),
                "{id} {}: {violations:?}\n{:#}",
                answer.status,
                answer.body
            );
        } else if operation.statuses.contains(&answer.status) {
            assert!(
                answer.body.is_null(),
                "{id} {}: unexpected body",
                answer.status
            );
        }
        self.seen
            .lock()
            .unwrap()
            .entry(id)
            .or_default()
            .insert(answer.status);
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates a folder under `parent` and returns its id.
    pub async fn folder(&self, account: &str, parent: &str, name: &str) -> String {
        let answer = self
            .post(
                &format!("/v4/accounts/{account}/folders/{parent}/folders"),
                serde_json::json!({"data": {"name": name}}),
            )
            .await;
        assert_eq!(answer.status, 201, "{:?}", answer.body);
        answer.id()
    }

    /// Creates a local upload under `parent` and returns the answer.
    pub async fn local_upload(&self, account: &str, parent: &str, name: &str, size: u64) -> Answer {
        let answer = self
            .post(
                &format!("/v4/accounts/{account}/folders/{parent}/files/local_upload"),
                serde_json::json!({"data": {"name": name, "file_size": size}}),
            )
            .await;
        assert_eq!(answer.status, 201, "{:?}", answer.body);
        answer
    }
}
