//! Local uploads through the part URLs (checked size, content type and ACL) and remote
//! uploads fetched from a loopback server.

mod common;

use std::time::Duration;

use axum::routing::get;
use common::{sim_with, Api, ALPHA};
use frameio_sim::SimConfig;
use serde_json::json;

const A: &str = ALPHA.account_id;

async fn small_part_sim() -> frameio_sim::SimHandle {
    sim_with(SimConfig {
        rate_scale: 1000.0,
        upload_part_size: 1000,
        ..SimConfig::default()
    })
    .await
}

async fn put(url: &str, content_type: &str, acl: Option<&str>, body: Vec<u8>) -> u16 {
    let mut request = reqwest::Client::new()
        .put(url)
        .header("content-type", content_type)
        .body(body);
    if let Some(acl) = acl {
        request = request.header("x-amz-acl", acl);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn local_upload_completes_when_every_part_arrived() {
    let sim = small_part_sim().await;
    let api = Api::new(&sim, &ALPHA).await;
    let created = api
        .local_upload(A, ALPHA.root_folder_id, "clip.mov", 2500)
        .await;
    let file = created.id();
    let urls = created.data()["upload_urls"].as_array().unwrap().clone();
    let sizes: Vec<u64> = urls.iter().map(|u| u["size"].as_u64().unwrap()).collect();
    assert_eq!(sizes, [834, 834, 832]);
    let media_type = created.data()["media_type"].as_str().unwrap().to_owned();
    assert_eq!(media_type, "video/quicktime");
    assert_eq!(created.data()["status"], "created");

    let url = |i: usize| urls[i]["url"].as_str().unwrap().to_owned();
    assert_eq!(
        put(&url(0), "video/mp4", Some("private"), vec![0; 834]).await,
        403
    );
    assert_eq!(put(&url(0), &media_type, None, vec![0; 834]).await, 403);
    assert_eq!(
        put(&url(0), &media_type, Some("public-read"), vec![0; 834]).await,
        403
    );
    assert_eq!(
        put(&url(0), &media_type, Some("private"), vec![0; 833]).await,
        400
    );
    assert_eq!(
        put(&url(0), &media_type, Some("private"), vec![0; 835]).await,
        400
    );

    let status_path = format!("/v4/accounts/{A}/files/{file}/status");
    assert_eq!(api.get(&status_path).await.data()["upload_complete"], false);

    assert_eq!(
        put(&url(0), &media_type, Some("private"), vec![1; 834]).await,
        200
    );
    assert_eq!(
        put(&url(2), &media_type, Some("private"), vec![3; 832]).await,
        200
    );
    let partial = api.get(&status_path).await;
    assert_eq!(partial.data()["upload_complete"], false);
    assert!(partial.data()["uploaded_at"].is_string());

    assert_eq!(
        put(&url(1), &media_type, Some("private"), vec![2; 834]).await,
        200
    );
    let done = api.get(&status_path).await;
    assert_eq!(done.data()["upload_complete"], true);
    assert_eq!(done.data()["upload_failed"], false);
    assert!(done.data()["upload_completed_at"].is_string());
    let shown = api.get(&format!("/v4/accounts/{A}/files/{file}")).await;
    assert_ne!(shown.data()["status"], "created");

    let stats = sim.stats();
    assert_eq!(stats.upload_parts_received, 3);
    assert_eq!(stats.upload_bytes_received, 2500);
    assert_eq!(stats.count("upload.part", 200), 3);
    assert_eq!(stats.count("upload.part", 403), 3);
    assert_eq!(stats.count("upload.part", 400), 2);

    let unknown = format!("{}/_sim/upload/nope/0", sim.base_url());
    assert_eq!(
        put(&unknown, &media_type, Some("private"), vec![0; 1]).await,
        404
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn large_parts_stream_through() {
    let sim = sim_with(SimConfig {
        rate_scale: 1000.0,
        ..SimConfig::default()
    })
    .await;
    let api = Api::new(&sim, &ALPHA).await;
    let size = 48 * 1024 * 1024 + 7;
    let created = api
        .local_upload(A, ALPHA.root_folder_id, "big.bin", size)
        .await;
    let urls = created.data()["upload_urls"].as_array().unwrap().clone();
    assert_eq!(urls.len(), 3, "20 MiB parts");
    for part in &urls {
        let bytes = vec![7u8; usize::try_from(part["size"].as_u64().unwrap()).unwrap()];
        let status = put(
            part["url"].as_str().unwrap(),
            "application/octet-stream",
            Some("private"),
            bytes,
        )
        .await;
        assert_eq!(status, 200);
    }
    let status = api
        .get(&format!("/v4/accounts/{A}/files/{}/status", created.id()))
        .await;
    assert_eq!(status.data()["upload_complete"], true);
    assert_eq!(sim.stats().upload_bytes_received, size);
    sim.shutdown().await;
}

async fn wait_for_status(api: &Api, file: &str) -> serde_json::Value {
    for _ in 0..100 {
        let answer = api
            .get(&format!("/v4/accounts/{A}/files/{file}/status"))
            .await;
        let data = answer.data().clone();
        if data["upload_complete"] == true || data["upload_failed"] == true {
            return data;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the remote upload of {file} never finished");
}

#[tokio::test]
async fn remote_upload_fetches_the_source() {
    let source = axum::Router::new().route("/clip.mp4", get(|| async { vec![9u8; 5000] }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let source_addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, source).await.unwrap() });

    let sim = small_part_sim().await;
    let api = Api::new(&sim, &ALPHA).await;
    let path = format!(
        "/v4/accounts/{A}/folders/{}/files/remote_upload",
        ALPHA.root_folder_id
    );
    let source_url = format!("http://{source_addr}/clip.mp4");
    let ok = api
        .post(
            &path,
            json!({"data": {"name": "clip.mp4", "source_url": source_url}}),
        )
        .await;
    assert_eq!(ok.status, 202);
    let done = wait_for_status(&api, &ok.id()).await;
    assert_eq!(done["upload_complete"], true);
    let file = api
        .get(&format!("/v4/accounts/{A}/files/{}", ok.id()))
        .await;
    assert_eq!(file.data()["file_size"], 5000);

    let missing_url = format!("http://{source_addr}/missing");
    let missing = api
        .post(
            &path,
            json!({"data": {"name": "x.mp4", "source_url": missing_url}}),
        )
        .await;
    let failed = wait_for_status(&api, &missing.id()).await;
    assert_eq!(failed["upload_failed"], true);
    assert_eq!(failed["upload_complete"], false);

    let invalid = api
        .post(
            &path,
            json!({"data": {"name": "y.mp4", "source_url": "not a url"}}),
        )
        .await;
    assert_eq!(invalid.status, 422);
    assert_eq!(
        invalid.body["errors"][0]["source"]["pointer"],
        "/data/source_url"
    );
    server.abort();
    sim.shutdown().await;
}
