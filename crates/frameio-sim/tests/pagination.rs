//! Cursor pagination: `page_size`, `after`, `links.next` carrying only the cursor,
//! `include_total_count`, sorting and parameter errors.

mod common;

use common::{fast_sim, Api, ALPHA};

const A: &str = ALPHA.account_id;

#[tokio::test]
async fn pages_follow_the_cursor_until_the_end() {
    let sim = fast_sim().await;
    let api = Api::new(&sim, &ALPHA).await;
    let parent = api.folder(A, ALPHA.root_folder_id, "parent").await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(api.folder(A, &parent, &format!("f{i}")).await);
    }

    let first = format!("/v4/accounts/{A}/folders/{parent}/children");
    let mut path = format!("{first}?page_size=3&include_total_count=true");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = api.get(&path).await;
        assert_eq!(page.status, 200);
        pages += 1;
        let items = page.data().as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|f| f["id"].as_str().unwrap().to_owned()));
        assert_eq!(page.body["total_count"], 7);
        let Some(next) = page.body["links"]["next"].as_str() else {
            break;
        };
        assert!(next.starts_with(&first), "{next}");
        let query = next.split_once('?').map(|(_, q)| q).unwrap_or_default();
        assert!(
            query.starts_with("after=") && !query.contains('&'),
            "only the cursor: {next}"
        );
        // As Frame.io clients must, re-add the page size and the other parameters.
        path = format!("{next}&page_size=3&include_total_count=true");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created, "every item once, in creation order");

    let without_count = api.get(&format!("{first}?page_size=100")).await;
    assert_eq!(without_count.body["total_count"], serde_json::Value::Null);
    assert_eq!(without_count.body["links"]["next"], serde_json::Value::Null);
    sim.shutdown().await;
}

#[tokio::test]
async fn sort_orders_the_whole_list() {
    let sim = fast_sim().await;
    let api = Api::new(&sim, &ALPHA).await;
    let parent = api.folder(A, ALPHA.root_folder_id, "sorted").await;
    for name in ["b", "c", "a"] {
        api.folder(A, &parent, name).await;
    }
    let page = api
        .get(&format!(
            "/v4/accounts/{A}/folders/{parent}/children?sort=name_desc&page_size=2"
        ))
        .await;
    let names: Vec<&str> = page
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["c", "b"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_page_parameters_are_refused() {
    let sim = fast_sim().await;
    let api = Api::new(&sim, &ALPHA).await;
    let list = format!("/v4/accounts/{A}/folders/{}/children", ALPHA.root_folder_id);
    for query in [
        "page_size=0",
        "page_size=101",
        "page_size=x",
        "after=zz",
        "sort=size",
    ] {
        let answer = api.get(&format!("{list}?{query}")).await;
        assert_eq!(answer.status, 422, "{query}");
        let parameter = query.split('=').next().unwrap();
        assert_eq!(answer.body["errors"][0]["source"]["parameter"], parameter);
    }
    assert_eq!(api.get(&format!("{list}?page_size=100")).await.status, 200);
    assert_eq!(api.get(&format!("{list}?page_size=1")).await.status, 200);
    sim.shutdown().await;
}
