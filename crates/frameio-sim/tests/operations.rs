//! Round trips through every operation family, each answer checked against the OpenAPI
//! description, and a coverage check that every implemented operation was exercised.

mod common;

use common::{fast_sim, Api, ALPHA, BETA};
use reqwest::Method;
use serde_json::json;

const A: &str = ALPHA.account_id;

async fn upload_small_file(api: &Api, parent: &str, name: &str) -> String {
    let answer = api.local_upload(A, parent, name, 3).await;
    let url = answer.data()["upload_urls"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let media_type = answer.data()["media_type"].as_str().unwrap().to_owned();
    let put = reqwest::Client::new()
        .put(url)
        .header("content-type", media_type)
        .header("x-amz-acl", "private")
        .body("abc")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    answer.id()
}

async fn account_level(api: &Api) {
    let me = api.get("/v4/me").await;
    assert_eq!(me.status, 200);
    assert_eq!(me.data()["id"], ALPHA.user_id);

    let accounts = api.get("/v4/accounts").await;
    let ids: Vec<&str> = accounts
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![A], "only the user's own account is listed");

    let workspaces = api.get(&format!("/v4/accounts/{A}/workspaces")).await;
    assert_eq!(workspaces.data()[0]["id"], ALPHA.workspace_id);
    let ws = api
        .get(&format!(
            "/v4/accounts/{A}/workspaces/{}?include=creator",
            ALPHA.workspace_id
        ))
        .await;
    assert_eq!(ws.data()["account_id"], A);

    let projects = api
        .get(&format!(
            "/v4/accounts/{A}/workspaces/{}/projects",
            ALPHA.workspace_id
        ))
        .await;
    assert_eq!(projects.data()[0]["root_folder_id"], ALPHA.root_folder_id);
    let all = api.get(&format!("/v4/accounts/{A}/projects")).await;
    assert_eq!(all.data().as_array().unwrap().len(), 1);
    let project = api
        .get(&format!("/v4/accounts/{A}/projects/{}", ALPHA.project_id))
        .await;
    assert_eq!(project.data()["name"], "Dailies");

    let other = api
        .get(&format!("/v4/accounts/{}/workspaces", BETA.account_id))
        .await;
    assert_eq!(other.status, 403, "another user's account is refused");
}

async fn folders(api: &Api) {
    let root = ALPHA.root_folder_id;
    let a = api.folder(A, root, "A").await;
    let b = api.folder(A, root, "B").await;
    let shown = api
        .get(&format!("/v4/accounts/{A}/folders/{a}?include=project"))
        .await;
    assert_eq!(shown.data()["name"], "A");
    assert_eq!(shown.data()["parent_id"], root);
    assert_eq!(shown.data()["project"]["id"], ALPHA.project_id);

    let renamed = api
        .patch(
            &format!("/v4/accounts/{A}/folders/{a}"),
            json!({"data": {"name": "A2"}}),
        )
        .await;
    assert_eq!(renamed.data()["name"], "A2");

    let moved = api
        .patch(
            &format!("/v4/accounts/{A}/folders/{a}/move"),
            json!({"data": {"parent_id": b}}),
        )
        .await;
    assert_eq!(moved.data()["parent_id"], b.as_str());
    let into_itself = api
        .patch(
            &format!("/v4/accounts/{A}/folders/{b}/move"),
            json!({"data": {"parent_id": a}}),
        )
        .await;
    assert_eq!(into_itself.status, 422);

    let children = api
        .get(&format!("/v4/accounts/{A}/folders/{b}/children"))
        .await;
    assert_eq!(children.data()[0]["id"], a.as_str());
    let subfolders = api
        .get(&format!("/v4/accounts/{A}/folders/{b}/folders"))
        .await;
    assert_eq!(subfolders.data().as_array().unwrap().len(), 1);

    let copy = api
        .post(
            &format!("/v4/accounts/{A}/folders/{a}/copy"),
            json!({"data": {"parent_id": root}}),
        )
        .await;
    assert_eq!(copy.status, 200);
    assert_ne!(copy.id(), a);
    assert_eq!(copy.data()["name"], "A2");

    let c = api.folder(A, root, "C").await;
    let bulk_move = api
        .patch(
            &format!("/v4/accounts/{A}/folders/move"),
            json!({"data": {"folder_ids": [c], "parent_id": b}}),
        )
        .await;
    assert_eq!(bulk_move.data()[0]["parent_id"], b.as_str());
    let bulk_copy = api
        .post(
            &format!("/v4/accounts/{A}/folders/copy"),
            json!({"data": {"folder_ids": [c], "parent_id": root}}),
        )
        .await;
    assert_eq!(bulk_copy.data()[0]["source_folder_id"], c.as_str());

    let deleted = api.delete(&format!("/v4/accounts/{A}/folders/{b}")).await;
    assert_eq!(deleted.status, 204);
    for gone in [&b, &a, &c] {
        let answer = api.get(&format!("/v4/accounts/{A}/folders/{gone}")).await;
        assert_eq!(answer.status, 404, "the subtree is deleted with its folder");
        assert!(answer.body["errors"][0]["detail"].is_string());
    }
    let root_delete = api
        .delete(&format!("/v4/accounts/{A}/folders/{root}"))
        .await;
    assert_eq!(root_delete.status, 422);
}

async fn files(api: &Api) {
    let root = ALPHA.root_folder_id;
    let dir = api.folder(A, root, "files").await;
    let other = api.folder(A, root, "other").await;
    let file = upload_small_file(api, &dir, "clip.mp4").await;

    let shown = api
        .get(&format!(
            "/v4/accounts/{A}/files/{file}?include=media_links.original,creator,project,metadata"
        ))
        .await;
    assert_eq!(shown.data()["file_size"], 3);
    assert_eq!(shown.data()["media_type"], "video/mp4");
    assert_eq!(shown.data()["creator"]["id"], ALPHA.user_id);
    assert!(shown.data()["media_links"]["original"]["download_url"].is_string());

    let listed = api
        .get(&format!("/v4/accounts/{A}/folders/{dir}/files"))
        .await;
    assert_eq!(listed.data()[0]["id"], file.as_str());

    let renamed = api
        .patch(
            &format!("/v4/accounts/{A}/files/{file}"),
            json!({"data": {"name": "b.mp4"}}),
        )
        .await;
    assert_eq!(renamed.data()["name"], "b.mp4");
    let moved = api
        .patch(
            &format!("/v4/accounts/{A}/files/{file}/move"),
            json!({"data": {"parent_id": other}}),
        )
        .await;
    assert_eq!(moved.data()["parent_id"], other.as_str());
    let copy = api
        .post(
            &format!("/v4/accounts/{A}/files/{file}/copy?copy_comments=true"),
            json!({"data": {}}),
        )
        .await;
    assert_eq!(
        copy.data()["parent_id"],
        other.as_str(),
        "a copy defaults to the same folder"
    );

    let bulk_move = api
        .patch(
            &format!("/v4/accounts/{A}/files/move"),
            json!({"data": {"file_ids": [file, copy.id()], "parent_id": dir}}),
        )
        .await;
    assert_eq!(bulk_move.data().as_array().unwrap().len(), 2);
    let bulk_copy = api
        .post(
            &format!("/v4/accounts/{A}/files/copy"),
            json!({"data": {"file_ids": [file], "parent_id": other}}),
        )
        .await;
    assert_eq!(bulk_copy.data()[0]["source_file_id"], file.as_str());
    assert_eq!(bulk_copy.data()[0]["file"]["parent_id"], other.as_str());

    let too_many: Vec<String> = (0..101).map(|_| file.clone()).collect();
    let refused = api
        .patch(
            &format!("/v4/accounts/{A}/files/move"),
            json!({"data": {"file_ids": too_many, "parent_id": dir}}),
        )
        .await;
    assert_eq!(refused.status, 422);

    let deleted = api
        .delete(&format!("/v4/accounts/{A}/files/{}", copy.id()))
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        api.get(&format!("/v4/accounts/{A}/files/{}", copy.id()))
            .await
            .status,
        404
    );
}

async fn version_stacks(api: &Api) {
    let dir = api.folder(A, ALPHA.root_folder_id, "stacks").await;
    let v1 = upload_small_file(api, &dir, "cut_v1.mov").await;
    let v2 = upload_small_file(api, &dir, "cut_v2.mov").await;
    let stack = api
        .post(
            &format!("/v4/accounts/{A}/folders/{dir}/version_stacks"),
            json!({"data": {"file_ids": [v1, v2]}}),
        )
        .await;
    assert_eq!(stack.status, 201);
    assert_eq!(stack.data()["head_version"]["id"], v2.as_str());
    let id = stack.id();

    let shown = api
        .get(&format!("/v4/accounts/{A}/version_stacks/{id}"))
        .await;
    assert_eq!(shown.data()["type"], "version_stack");
    let children = api
        .get(&format!("/v4/accounts/{A}/version_stacks/{id}/children"))
        .await;
    assert_eq!(children.data().as_array().unwrap().len(), 2);
    let listed = api
        .get(&format!("/v4/accounts/{A}/folders/{dir}/version_stacks"))
        .await;
    assert_eq!(listed.data()[0]["id"], id.as_str());

    let other = api.folder(A, ALPHA.root_folder_id, "stack-target").await;
    let moved = api
        .patch(
            &format!("/v4/accounts/{A}/version_stacks/{id}/move"),
            json!({"data": {"parent_id": other}}),
        )
        .await;
    assert_eq!(moved.data()["parent_id"], other.as_str());
    let copy = api
        .post(
            &format!("/v4/accounts/{A}/version_stacks/{id}/copy"),
            json!({"data": {"parent_id": dir}}),
        )
        .await;
    assert_eq!(copy.status, 200);
    assert_ne!(
        copy.data()["head_version"]["id"],
        v2.as_str(),
        "the copy has its own files"
    );
}

async fn comments(api: &Api) {
    let file = upload_small_file(api, ALPHA.root_folder_id, "review.mp4").await;
    let created = api
        .post(
            &format!("/v4/accounts/{A}/files/{file}/comments"),
            json!({"data": {"text": "Too dark", "timestamp": 48, "annotation": null}}),
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.data()["text"], "Too dark");
    let id = created.id();

    let shown = api
        .get(&format!("/v4/accounts/{A}/comments/{id}?include=owner"))
        .await;
    assert_eq!(shown.data()["owner"]["id"], ALPHA.user_id);
    let updated = api
        .patch(
            &format!("/v4/accounts/{A}/comments/{id}"),
            json!({"data": {"text": "Fixed", "completed": true}}),
        )
        .await;
    assert_eq!(updated.data()["text"], "Fixed");
    assert!(updated.data()["completed_at"].is_string());
    assert!(updated.data()["text_edited_at"].is_string());
    let listed = api
        .get(&format!("/v4/accounts/{A}/files/{file}/comments"))
        .await;
    assert_eq!(listed.data()[0]["id"], id.as_str());

    let missing_text = api
        .post(
            &format!("/v4/accounts/{A}/files/{file}/comments"),
            json!({"data": {"timestamp": 1}}),
        )
        .await;
    assert_eq!(missing_text.status, 422);
    assert_eq!(missing_text.body["errors"][0]["source"]["pointer"], "/data");

    assert_eq!(
        api.delete(&format!("/v4/accounts/{A}/comments/{id}"))
            .await
            .status,
        204
    );
    assert_eq!(
        api.get(&format!("/v4/accounts/{A}/comments/{id}"))
            .await
            .status,
        404
    );
}

async fn metadata(api: &Api) {
    let file = upload_small_file(api, ALPHA.root_folder_id, "meta.mp4").await;
    let field = api
        .post(
            &format!("/v4/accounts/{A}/metadata/field_definitions"),
            json!({"data": {"field_type": "text", "name": "Camera"}}),
        )
        .await;
    assert_eq!(field.status, 201);
    let field_id = field.id();
    let definitions = api
        .get(&format!("/v4/accounts/{A}/metadata/field_definitions"))
        .await;
    assert_eq!(definitions.data()[0]["name"], "Camera");

    let updated = api
        .patch(
            &format!(
                "/v4/accounts/{A}/projects/{}/metadata/values",
                ALPHA.project_id
            ),
            json!({"data": {"file_ids": [file], "values": [
                {"field_definition_id": field_id, "value": "ARRI"}
            ]}}),
        )
        .await;
    assert_eq!(updated.status, 204);
    let shown = api
        .get(&format!("/v4/accounts/{A}/files/{file}/metadata"))
        .await;
    assert_eq!(shown.data()["metadata"][0]["value"], "ARRI");
    assert_eq!(
        shown.data()["metadata"][0]["field_definition_name"],
        "Camera"
    );

    let renamed = api
        .patch(
            &format!("/v4/accounts/{A}/metadata/field_definitions/{field_id}"),
            json!({"data": {"field_type": "text", "name": "Body"}}),
        )
        .await;
    assert_eq!(renamed.data()["name"], "Body");
    let deleted = api
        .delete(&format!(
            "/v4/accounts/{A}/metadata/field_definitions/{field_id}"
        ))
        .await;
    assert_eq!(deleted.status, 204);
    let after = api
        .get(&format!(
            "/v4/accounts/{A}/files/{file}/metadata?show_null=true"
        ))
        .await;
    assert_eq!(after.data()["metadata"], json!([]));
}

async fn shares(api: &Api) {
    let file = upload_small_file(api, ALPHA.root_folder_id, "share.mp4").await;
    let other = upload_small_file(api, ALPHA.root_folder_id, "share2.mp4").await;
    let project = ALPHA.project_id;
    let created = api
        .post(
            &format!("/v4/accounts/{A}/projects/{project}/shares"),
            json!({"data": {"type": "asset", "name": "Review", "access": "public",
                             "asset_ids": [file], "passphrase": "hunter2"}}),
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(
        created.data()["passphrase"],
        json!(null),
        "the passphrase is not echoed"
    );
    let id = created.id();

    let listed = api
        .get(&format!("/v4/accounts/{A}/projects/{project}/shares"))
        .await;
    assert_eq!(listed.data()[0]["id"], id.as_str());
    let shown = api.get(&format!("/v4/accounts/{A}/shares/{id}")).await;
    assert_eq!(shown.data()["name"], "Review");
    let updated = api
        .patch(
            &format!("/v4/accounts/{A}/shares/{id}"),
            json!({"data": {"name": "Final"}}),
        )
        .await;
    assert_eq!(updated.data()["name"], "Final");

    let added = api
        .post(
            &format!("/v4/accounts/{A}/shares/{id}/assets"),
            json!({"data": {"asset_id": other}}),
        )
        .await;
    assert_eq!(added.data()["asset_added"], other.as_str());
    let removed = api
        .delete(&format!("/v4/accounts/{A}/shares/{id}/assets/{other}"))
        .await;
    assert_eq!(removed.data()["asset_removed"], other.as_str());
    let again = api
        .delete(&format!("/v4/accounts/{A}/shares/{id}/assets/{other}"))
        .await;
    assert_eq!(again.status, 404);

    let reviewers = api
        .post(
            &format!("/v4/accounts/{A}/shares/{id}/reviewers"),
            json!({"data": {"message": "Please look", "reviewers": {"emails": ["r@example.com"]}}}),
        )
        .await;
    assert_eq!(reviewers.status, 204);
    share_contents(api, &id, &file).await;
    assert_eq!(
        api.delete(&format!("/v4/accounts/{A}/shares/{id}"))
            .await
            .status,
        204
    );
}

/// The flat asset list of a share and its reviewers, added, listed and removed.
async fn share_contents(api: &Api, id: &str, shared_file: &str) {
    let folder = api.folder(A, ALPHA.root_folder_id, "share-folder").await;
    let nested = upload_small_file(api, &folder, "nested.mp4").await;
    let added = api
        .post(
            &format!("/v4/accounts/{A}/shares/{id}/assets"),
            json!({"data": {"asset_id": folder}}),
        )
        .await;
    assert_eq!(added.status, 200);
    let assets = api
        .get(&format!(
            "/v4/accounts/{A}/shares/{id}/assets?include_total_count=true"
        ))
        .await;
    let ids: Vec<&str> = assets
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [shared_file, folder.as_str(), nested.as_str()]);
    assert_eq!(assets.body["total_count"], 3);

    let more = api
        .post(
            &format!("/v4/accounts/{A}/shares/{id}/reviewers"),
            json!({"data": {"message": "And you", "reviewers": {
                "user_ids": [ALPHA.user_id], "emails": ["R@example.com"]}}}),
        )
        .await;
    assert_eq!(more.status, 204);
    let reviewers = api
        .get(&format!("/v4/accounts/{A}/shares/{id}/reviewers"))
        .await;
    let emails: Vec<&str> = reviewers
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["r@example.com", "sim-client-alpha@techacct.adobe.com"]
    );
    assert_eq!(reviewers.data()[1]["name"], ALPHA.user_name);

    let removal = json!({"data": {"reviewers": {"emails": ["r@example.com"]}}});
    let path = format!("/v4/accounts/{A}/shares/{id}/reviewers");
    let removed = api.call(Method::DELETE, &path, Some(removal.clone())).await;
    assert_eq!(removed.status, 204);
    let again = api.call(Method::DELETE, &path, Some(removal)).await;
    assert_eq!(again.status, 204, "removing an absent reviewer is no error");
    let left = api.get(&path).await;
    assert_eq!(left.data().as_array().unwrap().len(), 1);
    assert_eq!(left.data()[0]["id"], ALPHA.user_id);

    let unknown_list = api
        .post(
            &path,
            json!({"data": {"message": "x", "reviewers": {"share_list_ids": ["nope"]}}}),
        )
        .await;
    assert_eq!(unknown_list.status, 404);
}

async fn webhooks(api: &Api) {
    let ws = ALPHA.workspace_id;
    let created = api
        .post(
            &format!("/v4/accounts/{A}/workspaces/{ws}/webhooks"),
            json!({"data": {"name": "hook", "url": "https://example.com/hook",
                             "events": ["file.ready"]}}),
        )
        .await;
    assert_eq!(created.status, 201);
    assert!(created.data()["secret"]
        .as_str()
        .is_some_and(|s| s.len() >= 32));
    let id = created.id();
    let shown = api.get(&format!("/v4/accounts/{A}/webhooks/{id}")).await;
    assert!(
        shown.data().get("secret").is_none(),
        "the secret is returned only at creation"
    );
    let listed = api
        .get(&format!(
            "/v4/accounts/{A}/workspaces/{ws}/webhooks?include=creator"
        ))
        .await;
    assert_eq!(listed.data()[0]["creator"]["id"], ALPHA.user_id);
    let updated = api
        .patch(
            &format!("/v4/accounts/{A}/webhooks/{id}"),
            json!({"data": {"active": false, "events": ["file.ready", "comment.created"]}}),
        )
        .await;
    assert_eq!(updated.data()["active"], false);
    assert_eq!(updated.data()["events"].as_array().unwrap().len(), 2);
    let bad_url = api
        .patch(
            &format!("/v4/accounts/{A}/webhooks/{id}"),
            json!({"data": {"url": "ftp://x"}}),
        )
        .await;
    assert_eq!(bad_url.status, 422);
    assert_eq!(
        api.delete(&format!("/v4/accounts/{A}/webhooks/{id}"))
            .await
            .status,
        204
    );
    assert_eq!(
        api.get(&format!("/v4/accounts/{A}/webhooks/{id}"))
            .await
            .status,
        404
    );
}

async fn upload_status(api: &Api) {
    let answer = api
        .local_upload(A, ALPHA.root_folder_id, "pending.wav", 10)
        .await;
    let id = answer.id();
    let status = api
        .get(&format!("/v4/accounts/{A}/files/{id}/status"))
        .await;
    assert_eq!(status.data()["upload_complete"], false);
    assert_eq!(status.data()["filetype"], "audio/wav");
}

/// Every implemented operation is exercised with a success, and every answer of the run
/// (successes and errors) validates against the description.
#[tokio::test]
async fn every_operation_round_trips_and_conforms() {
    let sim = fast_sim().await;
    let api = Api::new(&sim, &ALPHA).await;
    account_level(&api).await;
    folders(&api).await;
    files(&api).await;
    version_stacks(&api).await;
    comments(&api).await;
    metadata(&api).await;
    shares(&api).await;
    webhooks(&api).await;
    upload_status(&api).await;

    // The remote upload is exercised in tests/uploads.rs; here only its answer's shape.
    let remote = api
        .post(
            &format!(
                "/v4/accounts/{A}/folders/{}/files/remote_upload",
                ALPHA.root_folder_id
            ),
            json!({"data": {"name": "r.mp4", "source_url": "http://127.0.0.1:9/none"}}),
        )
        .await;
    assert_eq!(remote.status, 202);
    assert!(remote.body["links"]["status"]
        .as_str()
        .unwrap()
        .ends_with("/status"));

    let seen = api.seen.lock().unwrap().clone();
    let missing: Vec<&str> = frameio_sim::OPERATIONS
        .iter()
        .copied()
        .filter(|op| {
            !seen
                .get(*op)
                .is_some_and(|s| s.iter().any(|c| (200..300).contains(c)))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "operations never answered with success: {missing:?}"
    );
    sim.shutdown().await;
}

/// Unknown ids, malformed bodies, wrong methods and unimplemented operations answer with
/// Frame.io's error body.
#[tokio::test]
async fn errors_use_the_error_body() {
    let sim = fast_sim().await;
    let api = Api::new(&sim, &ALPHA).await;

    let unknown = api.get(&format!("/v4/accounts/{A}/files/nope")).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["errors"][0]["title"], "Not Found");

    let root = ALPHA.root_folder_id;
    let wrong_type = api
        .post(
            &format!("/v4/accounts/{A}/folders/{root}/folders"),
            json!({"data": {"name": 5}}),
        )
        .await;
    assert_eq!(wrong_type.status, 422);
    assert_eq!(
        wrong_type.body["errors"][0]["source"]["pointer"],
        "/data/name"
    );

    let unexpected = api
        .post(
            &format!("/v4/accounts/{A}/folders/{root}/folders"),
            json!({"data": {"name": "x", "colour": "red"}}),
        )
        .await;
    assert_eq!(unexpected.status, 422);
    assert_eq!(
        unexpected.body["errors"][0]["source"]["pointer"],
        "/data/colour"
    );
    assert_eq!(
        unexpected.body["errors"][0]["detail"],
        "Unexpected field: colour"
    );

    let raw = reqwest::Client::new()
        .post(format!(
            "{}/v4/accounts/{A}/folders/{root}/folders",
            sim.base_url()
        ))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 422);
    let body: serde_json::Value = raw.json().await.unwrap();
    assert!(body["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("JSON"));

    let not_implemented = api.get(&format!("/v4/accounts/{A}/groups")).await;
    assert_eq!(not_implemented.status, 501);
    assert!(not_implemented.body["errors"][0]["detail"].is_string());

    let wrong_method = reqwest::Client::new()
        .put(format!("{}/v4/me", sim.base_url()))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), 405);
    sim.shutdown().await;
}
