//! Pagination: items stream across pages, and every page request carries the original
//! parameters again although `links.next` holds only the cursor.

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::{Query, RawQuery};
use axum::routing::get;
use axum::{Json, Router};
use common::FakeIms;
use frameio::models::Asset;
use frameio::{Client, ListParams};
use futures::TryStreamExt;
use serde_json::{json, Value};

/// Serves `total` items from `path`, `page_size` at a time, linking only the cursor.
fn paged(path: &'static str, total: usize, queries: Arc<Mutex<Vec<String>>>) -> Router {
    let handler = move |RawQuery(raw): RawQuery, Query(query): Query<Vec<(String, String)>>| {
        let queries = queries.clone();
        async move {
            queries.lock().unwrap().push(raw.unwrap_or_default());
            let find = |name: &str| {
                query
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            };
            let size: usize = find("page_size").map_or(50, |v| v.parse().unwrap());
            let start: usize =
                find("after").map_or(0, |v| v.trim_start_matches("c").parse().unwrap());
            let end = (start + size).min(total);
            let data: Vec<Value> = (start..end)
                .map(|i| {
                    json!({"id": format!("id-{i}"), "display_name": format!("n{i}"),
                    "name": format!("n{i}"), "type": "file", "project_id": "p", "roles": []})
                })
                .collect();
            let next = (end < total).then(|| format!("{path}?after=c{end}"));
            let count = find("include_total_count").map(|_| total);
            Json(json!({"data": data, "links": {"next": next}, "total_count": count}))
        }
    };
    Router::new().route(path, get(handler))
}

async fn setup(
    path: &'static str,
    total: usize,
) -> (common::Server, Client, Arc<Mutex<Vec<String>>>) {
    let queries = Arc::new(Mutex::new(Vec::new()));
    let ims = FakeIms::issuing(3600);
    let server = common::serve(ims.route(paged(path, total, queries.clone()))).await;
    let client = common::client(&server.base_url);
    (server, client, queries)
}

#[tokio::test]
async fn accounts_stream_across_pages_with_parameters_kept() {
    let (_server, client, queries) = setup("/v4/accounts", 5).await;
    let params = ListParams::new()
        .page_size(2)
        .with_total_count()
        .sort("name_asc");

    let accounts: Vec<_> = client.accounts(params).try_collect().await.unwrap();

    let ids: Vec<_> = accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["id-0", "id-1", "id-2", "id-3", "id-4"]);
    let queries = queries.lock().unwrap();
    assert_eq!(
        *queries,
        [
            "page_size=2&include_total_count=true&sort=name_asc",
            "page_size=2&include_total_count=true&sort=name_asc&after=c2",
            "page_size=2&include_total_count=true&sort=name_asc&after=c4",
        ]
    );
}

#[tokio::test]
async fn folder_children_keep_include_and_filters_on_every_page() {
    let path = "/v4/accounts/a1/folders/f1/children";
    let (_server, client, queries) = setup(path, 7).await;
    let params = ListParams::new()
        .page_size(3)
        .include("media_links.thumbnail")
        .include("creator")
        .filter("type", "file");

    let items: Vec<Asset> = client
        .folder_children("a1", "f1", params)
        .try_collect()
        .await
        .unwrap();

    assert_eq!(items.len(), 7);
    assert!(items.iter().all(|item| matches!(item, Asset::File(_))));
    let queries = queries.lock().unwrap();
    assert_eq!(queries.len(), 3);
    for query in queries.iter() {
        assert!(
            query.starts_with("page_size=3&include=media_links.thumbnail%2Ccreator&type=file"),
            "{query}"
        );
    }
    assert!(queries[2].ends_with("after=c6"));
}

#[tokio::test]
async fn one_page_reports_cursor_and_total() {
    let (_server, client, _queries) = setup("/v4/accounts", 5).await;
    let params = ListParams::new().page_size(4).with_total_count();

    let first = client.accounts_page(&params, None).await.unwrap();
    let second = client
        .accounts_page(&params, first.next_cursor.as_deref())
        .await
        .unwrap();

    assert_eq!(first.data.len(), 4);
    assert_eq!(first.next_cursor.as_deref(), Some("c4"));
    assert_eq!(first.total_count, Some(5));
    assert_eq!(second.data.len(), 1);
    assert_eq!(second.next_cursor, None);
}

#[tokio::test]
async fn an_oversized_page_is_refused_without_a_request() {
    let (_server, client, queries) = setup("/v4/accounts", 5).await;

    let result: Result<Vec<_>, _> = client
        .accounts(ListParams::new().page_size(101))
        .try_collect()
        .await;

    assert_eq!(result.unwrap_err().kind(), "invalid_request");
    assert!(queries.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_empty_list_ends_at_once() {
    let (_server, client, queries) = setup("/v4/accounts", 0).await;

    let accounts: Vec<_> = client
        .accounts(ListParams::new())
        .try_collect()
        .await
        .unwrap();

    assert!(accounts.is_empty());
    assert_eq!(queries.lock().unwrap().len(), 1);
}
