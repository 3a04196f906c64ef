//! Local upload against a fake storage: parts follow the ceil split, carry the returned
//! media type and `x-amz-acl: private`, arrive byte for byte, and a failed part is retried.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{post, put};
use axum::{Json, Router};
use common::FakeIms;
use serde_json::{json, Value};

#[derive(Clone, Default)]
struct Storage {
    base: Arc<Mutex<String>>,
    parts: Arc<Mutex<BTreeMap<usize, (HeaderMap, Bytes)>>>,
    failures_left: Arc<AtomicUsize>,
    created: Arc<Mutex<Vec<Value>>>,
}

async fn create(State(storage): State<Storage>, Json(body): Json<Value>) -> impl IntoResponse {
    storage.created.lock().unwrap().push(body.clone());
    let size = body["data"]["file_size"].as_u64().unwrap();
    let base = storage.base.lock().unwrap().clone();
    let urls: Vec<Value> = (0..3)
        .map(|i| {
            let url = format!("{base}/storage/{i}?X-Amz-Signature=sig");
            json!({"size": size.div_ceil(3), "url": url})
        })
        .collect();
    let data = json!({"id": "file-1", "name": body["data"]["name"], "project_id": "p",
        "type": "file", "status": "created", "file_size": size, "media_type": "video/mp4",
        "upload_urls": urls});
    (StatusCode::CREATED, Json(json!({"data": data})))
}

async fn store(
    State(storage): State<Storage>,
    Path(index): Path<usize>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let fail = storage
        .failures_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if fail && index == 1 {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    if fail {
        storage.failures_left.fetch_add(1, Ordering::SeqCst);
    }
    storage.parts.lock().unwrap().insert(index, (headers, body));
    StatusCode::OK
}

async fn setup(failures: usize) -> (common::Server, frameio::Client, Storage) {
    let storage = Storage::default();
    storage.failures_left.store(failures, Ordering::SeqCst);
    let router = Router::new()
        .route(
            "/v4/accounts/{a}/folders/{f}/files/local_upload",
            post(create),
        )
        .route("/storage/{index}", put(store))
        .with_state(storage.clone());
    let server = common::serve(FakeIms::issuing(3600).route(router)).await;
    *storage.base.lock().unwrap() = server.base_url.clone();
    let client = common::client(&server.base_url);
    (server, client, storage)
}

fn temp_file(len: usize) -> (tempfile::NamedTempFile, Vec<u8>) {
    let content: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&content).unwrap();
    (file, content)
}

#[tokio::test]
async fn parts_arrive_split_and_labelled_as_storage_expects() {
    let (_server, client, storage) = setup(0).await;
    let (file, content) = temp_file(1_000_001);

    let uploaded = client
        .upload_local_file("a", "f", file.path(), Some("clip.mp4"))
        .await
        .unwrap();

    assert_eq!(uploaded.parts, 3);
    assert_eq!(uploaded.bytes, 1_000_001);
    assert_eq!(uploaded.file.id, "file-1");
    let created = storage.created.lock().unwrap();
    assert_eq!(
        created[0],
        json!({"data": {"name": "clip.mp4", "file_size": 1_000_001}})
    );
    let parts = storage.parts.lock().unwrap();
    let sizes: Vec<usize> = parts.values().map(|(_, body)| body.len()).collect();
    assert_eq!(sizes, [333_334, 333_334, 333_333]);
    let joined: Vec<u8> = parts.values().flat_map(|(_, body)| body.to_vec()).collect();
    assert_eq!(joined, content);
    for (headers, body) in parts.values() {
        assert_eq!(headers["content-type"], "video/mp4");
        assert_eq!(headers["x-amz-acl"], "private");
        assert_eq!(headers["content-length"], body.len().to_string().as_str());
        assert!(
            headers.get("authorization").is_none(),
            "storage must not see the token"
        );
    }
}

#[tokio::test]
async fn a_failed_part_is_retried() {
    let (_server, client, storage) = setup(1).await;
    let (file, content) = temp_file(30_000);

    client
        .upload_local_file("a", "f", file.path(), None)
        .await
        .unwrap();

    let parts = storage.parts.lock().unwrap();
    assert_eq!(parts.len(), 3);
    let joined: Vec<u8> = parts.values().flat_map(|(_, body)| body.to_vec()).collect();
    assert_eq!(joined, content);
    assert_eq!(storage.failures_left.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_missing_file_is_a_permanent_io_error() {
    let (_server, client, storage) = setup(0).await;

    let error = client
        .upload_local_file(
            "a",
            "f",
            std::path::Path::new("/nonexistent/clip.mp4"),
            None,
        )
        .await
        .unwrap_err();

    assert_eq!(error.kind(), "io");
    assert!(!error.is_transient());
    assert!(storage.created.lock().unwrap().is_empty());
}
