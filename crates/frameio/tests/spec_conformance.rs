//! Every typed call sends the method and path its operation has in openapi-v4.json, under
//! the operation's own label, with a body that validates against the request schema, and
//! names an operation the simulator serves (whose answers its own tests validate against the
//! response schemas).

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::Router;
use common::FakeIms;
use frameio::models::{
    AddReviewers, CommentUpdate, FieldDefinitionUpdate, MetadataBulkUpdate, MetadataValue,
    NewComment, NewFieldDefinition, NewShare, NewWebhook, RemoveReviewers, Reviewers, ShareAccess,
    WebhookUpdate,
};
use frameio::{Client, Operation};
use frameio_sim::spec::Spec;
use futures::TryStreamExt;
use serde_json::{json, Value};

type Recorded = Arc<Mutex<Vec<(String, String, Option<Value>)>>>;

/// Records every request and answers 204 with rate-limit headers, so the observer sees
/// which operation the client labelled each request with.
async fn setup() -> (common::Server, Client, Recorded, Arc<Mutex<Vec<Operation>>>) {
    let recorded: Recorded = Arc::default();
    let sink = recorded.clone();
    let router = Router::new().fallback(move |method: Method, uri: Uri, body: Bytes| {
        let sink = sink.clone();
        async move {
            let json = (!body.is_empty()).then(|| serde_json::from_slice(&body).unwrap());
            sink.lock()
                .unwrap()
                .push((method.to_string(), uri.path().to_owned(), json));
            let mut headers = HeaderMap::new();
            headers.insert("x-ratelimit-limit", "10".parse().unwrap());
            headers.insert("x-ratelimit-remaining", "9".parse().unwrap());
            headers.insert("x-ratelimit-window", "60000".parse().unwrap());
            (StatusCode::NO_CONTENT, headers).into_response()
        }
    });
    let ims = FakeIms::issuing(3600);
    let server = common::serve(ims.route(router)).await;
    let labels = Arc::new(Mutex::new(Vec::new()));
    let label_sink = labels.clone();
    let client = common::client(&server.base_url)
        .with_rate_limit_observer(Arc::new(move |op, _| label_sink.lock().unwrap().push(op)));
    (server, client, recorded, labels)
}

#[tokio::test]
async fn every_call_matches_its_operation_in_the_spec() {
    let (_server, client, recorded, labels) = setup().await;
    let ids = vec!["f1".to_owned(), "f2".to_owned()];
    let (a, c) = (&client, "acc");

    // The answers are empty 204s, so calls that expect data fail to decode; only the
    // requests matter here.
    let _ = a.me().await;
    let _ = a.accounts_page(&Default::default(), None).await;
    let _ = a
        .workspaces(c, Default::default())
        .try_collect::<Vec<_>>()
        .await;
    let _ = a.workspace(c, "ws").await;
    let _ = a
        .projects(c, "ws", Default::default())
        .try_collect::<Vec<_>>()
        .await;
    let _ = a.project(c, "p", &["owner"]).await;
    let _ = a.folder(c, "d", &[]).await;
    let _ = a
        .folder_children(c, "d", Default::default())
        .try_collect::<Vec<_>>()
        .await;
    let _ = a.create_folder(c, "d", "new").await;
    let _ = a.rename_folder(c, "d", "renamed").await;
    let _ = a.delete_folder(c, "d").await;
    let _ = a.move_folder(c, "d", "d2").await;
    let _ = a.copy_folder(c, "d", Some("d2")).await;
    let _ = a.file(c, "f", &["media_links.original", "creator"]).await;
    let _ = a.rename_file(c, "f", "b.mp4").await;
    let _ = a.delete_file(c, "f").await;
    let _ = a.move_file(c, "f", "d2").await;
    let _ = a.copy_file(c, "f", None).await;
    let _ = a.bulk_move_files(c, &ids, "d2").await;
    let _ = a.bulk_copy_files(c, &ids, "d2").await;
    let _ = a.file_upload_status(c, "f").await;
    let _ = a.create_local_upload(c, "d", "clip.mp4", 1234).await;
    let _ = a
        .create_remote_upload(c, "d", "clip.mp4", "https://example.com/c.mp4")
        .await;
    let _ = a.create_version_stack(c, "d", &ids).await;
    let _ = a.version_stack(c, "vs", &[]).await;
    let _ = a
        .version_stack_children(c, "vs", Default::default())
        .try_collect::<Vec<_>>()
        .await;
    let _ = a.move_version_stack(c, "vs", "d2").await;
    let _ = a.copy_version_stack(c, "vs", None).await;
    let comment = NewComment {
        timestamp: Some(12),
        ..NewComment::text("nice")
    };
    let _ = a.create_comment(c, "f", &comment).await;
    let _ = a
        .comments(c, "f", Default::default())
        .try_collect::<Vec<_>>()
        .await;
    let _ = a.comment(c, "cm", &[]).await;
    let update = CommentUpdate {
        completed: Some(true),
        ..Default::default()
    };
    let _ = a.update_comment(c, "cm", &update).await;
    let _ = a.delete_comment(c, "cm").await;
    let _ = a.file_metadata(c, "f").await;
    let values = vec![MetadataValue {
        field_definition_id: "fd".into(),
        value: json!("x"),
    }];
    let bulk = MetadataBulkUpdate {
        file_ids: ids.clone(),
        values,
    };
    let _ = a.bulk_update_metadata(c, "p", &bulk).await;
    let _ = a
        .field_definitions(c, Default::default())
        .try_collect::<Vec<_>>()
        .await;
    let definition = NewFieldDefinition {
        name: "Scene".into(),
        field_type: "text".into(),
        field_configuration: None,
    };
    let _ = a.create_field_definition(c, &definition).await;
    let definition_update = FieldDefinitionUpdate {
        field_type: "text".into(),
        name: Some("Shot".into()),
        field_configuration: None,
    };
    let _ = a.update_field_definition(c, "fd", &definition_update).await;
    let _ = a.delete_field_definition(c, "fd").await;
    let share = NewShare::new("r", ShareAccess::Public).with_assets(ids.clone());
    let _ = a.create_share(c, "p", &share).await;
    let _ = a.share(c, "s").await;
    let _ = a
        .shares(c, "p", Default::default())
        .try_collect::<Vec<_>>()
        .await;
    let _ = a
        .share_assets(c, "s", Default::default())
        .try_collect::<Vec<_>>()
        .await;
    let _ = a.add_share_asset(c, "s", "f").await;
    let _ = a.remove_share_asset(c, "s", "f").await;
    let reviewers = AddReviewers {
        message: "please review".into(),
        notify_by_email: Some(false),
        reviewers: Reviewers {
            emails: Some(vec!["r@example.com".into()]),
            ..Default::default()
        },
    };
    let _ = a.add_share_reviewers(c, "s", &reviewers).await;
    let _ = a
        .share_reviewers(c, "s", Default::default())
        .try_collect::<Vec<_>>()
        .await;
    let removal = RemoveReviewers {
        reviewers: Reviewers {
            emails: Some(vec!["r@example.com".into()]),
            ..Default::default()
        },
    };
    let _ = a.remove_share_reviewers(c, "s", &removal).await;
    let _ = a.delete_share(c, "s").await;
    let webhook = NewWebhook {
        name: "hook".into(),
        url: "https://example.com/hook".into(),
        events: vec!["file.ready".into()],
    };
    let _ = a.create_webhook(c, "ws", &webhook).await;
    let _ = a
        .webhooks(c, "ws", Default::default())
        .try_collect::<Vec<_>>()
        .await;
    let _ = a.webhook(c, "wh").await;
    let _ = a
        .update_webhook(
            c,
            "wh",
            &WebhookUpdate {
                active: Some(false),
                ..Default::default()
            },
        )
        .await;
    let _ = a.delete_webhook(c, "wh").await;

    let recorded = recorded.lock().unwrap();
    let labels = labels.lock().unwrap();
    assert_eq!(recorded.len(), 54);
    assert_eq!(recorded.len(), labels.len());
    let spec = Spec::global();
    // The simulator's own conformance test validates a success answer of every operation it
    // serves against the response schema; serving all of the client's operations makes that
    // cover every answer the client decodes.
    let unserved: Vec<&str> = labels
        .iter()
        .map(|label| label.id())
        .filter(|id| !frameio_sim::OPERATIONS.contains(id))
        .collect();
    assert!(
        unserved.is_empty(),
        "the simulator does not serve {unserved:?}"
    );
    for ((method, path, body), label) in recorded.iter().zip(labels.iter()) {
        let (operation, _) = spec
            .route(method, path)
            .unwrap_or_else(|_| panic!("{method} {path} is not in the spec"));
        assert_eq!(operation.id, label.id(), "{method} {path}");
        assert_eq!(label.method().as_str(), method);

        match body {
            Some(body) => {
                let violations = spec.validate_request(label.id(), body).unwrap();
                assert!(
                    violations.is_empty(),
                    "{}: {violations:?} in {body}",
                    label.id()
                );
            }
            None => assert!(
                spec.validate_request(label.id(), &json!({})).is_err(),
                "{} declares a body the client did not send",
                label.id()
            ),
        }
    }
}
