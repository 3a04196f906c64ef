//! The client against the simulator: every typed call, each checked by reading back what it
//! created or changed, a local upload whose parts the simulator counts, and the token and
//! error paths against a server that behaves like Frame.io and IMS.

use std::io::Write;
use std::time::Duration;

use frameio::check::check_account;
use frameio::models::{
    AddReviewers, Asset, CommentUpdate, FieldDefinitionUpdate, MetadataBulkUpdate, MetadataValue,
    NewComment, NewFieldDefinition, NewShare, NewWebhook, RemoveReviewers, Reviewers, ShareAccess,
    User, WebhookUpdate,
};
use frameio::{Client, ClientConfig, Credentials, ErrorClass, ListParams};
use frameio_sim::{SimConfig, SimHandle, ALPHA};
use futures::TryStreamExt;
use secrecy::ExposeSecret;
use serde_json::json;

const CLIENT_ID: &str = ALPHA.client_id;
const CLIENT_SECRET: &str = ALPHA.client_secret;
const EMAIL: &str = "sim-client-alpha@techacct.adobe.com";
const ACCOUNT: &str = ALPHA.account_id;
const WORKSPACE: &str = ALPHA.workspace_id;
const PROJECT: &str = ALPHA.project_id;
const ROOT: &str = ALPHA.root_folder_id;

struct Sim {
    handle: SimHandle,
    client: Client,
}

/// A simulator with limits scaled up, so that a test's burst of calls is never throttled.
async fn start() -> Sim {
    let config = SimConfig {
        rate_scale: 100.0,
        ..SimConfig::default()
    };
    let handle = frameio_sim::spawn(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let client = client_for(&handle, CLIENT_SECRET);
    Sim { handle, client }
}

fn client_for(handle: &SimHandle, secret: &str) -> Client {
    let config = ClientConfig {
        upload_backoff_base_ms: 10,
        ims_backoff_base_ms: 10,
        ims_backoff_cap_ms: 50,
        ..ClientConfig::with_base_url(&handle.base_url())
    };
    Client::new(config, Credentials::new(CLIENT_ID, secret)).unwrap()
}

async fn collect<T>(
    stream: futures::stream::BoxStream<'static, Result<T, frameio::Error>>,
) -> Vec<T> {
    stream.try_collect().await.unwrap()
}

fn ids(assets: &[Asset]) -> Vec<String> {
    let mut ids: Vec<String> = assets
        .iter()
        .filter_map(|a| a.id().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

/// A file of `len` bytes with a pattern that makes misplaced bytes visible.
fn pattern_file(len: usize) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let block: Vec<u8> = (0..1 << 16).map(|i: usize| (i * 31 % 251) as u8).collect();
    let mut left = len;
    while left > 0 {
        let n = left.min(block.len());
        file.write_all(&block[..n]).unwrap();
        left -= n;
    }
    file.flush().unwrap();
    file
}

/// Uploads a small file into `folder` and returns its id.
async fn small_file(client: &Client, folder: &str, name: &str) -> String {
    let file = pattern_file(10_000);
    let uploaded = client
        .upload_local_file(ACCOUNT, folder, file.path(), Some(name))
        .await
        .unwrap();
    uploaded.file.id
}

#[tokio::test]
async fn tenancy_and_account_check() {
    let sim = start().await;
    let c = &sim.client;

    let me = c.me().await.unwrap();
    let accounts = collect(c.accounts(ListParams::new())).await;
    let workspaces = collect(c.workspaces(ACCOUNT, ListParams::new())).await;
    let workspace = c.workspace(ACCOUNT, WORKSPACE).await.unwrap();
    let projects = collect(c.projects(ACCOUNT, WORKSPACE, ListParams::new())).await;
    let project = c.project(ACCOUNT, PROJECT, &[]).await.unwrap();
    let report = check_account(c, Some(EMAIL)).await;

    assert_eq!(me.email, EMAIL);
    assert_eq!(
        accounts.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        [ACCOUNT]
    );
    assert!(workspaces.iter().any(|w| w.id == WORKSPACE));
    assert_eq!(workspace.account_id, ACCOUNT);
    assert!(projects.iter().any(|p| p.id == PROJECT));
    assert_eq!(project.root_folder_id, ROOT);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.accounts[0].workspaces[0].0, WORKSPACE);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn folders_are_created_renamed_moved_copied_and_deleted() {
    let sim = start().await;
    let c = &sim.client;

    let a = c.create_folder(ACCOUNT, ROOT, "Day 1").await.unwrap();
    let b = c.create_folder(ACCOUNT, ROOT, "Day 2").await.unwrap();
    let shown = c.folder(ACCOUNT, &a.id, &[]).await.unwrap();
    assert_eq!(
        (shown.name.as_str(), shown.parent_id.as_deref()),
        ("Day 1", Some(ROOT))
    );

    c.rename_folder(ACCOUNT, &a.id, "Day 1 (selects)")
        .await
        .unwrap();
    assert_eq!(
        c.folder(ACCOUNT, &a.id, &[]).await.unwrap().name,
        "Day 1 (selects)"
    );

    c.move_folder(ACCOUNT, &a.id, &b.id).await.unwrap();
    let moved = c.folder(ACCOUNT, &a.id, &[]).await.unwrap();
    assert_eq!(moved.parent_id.as_deref(), Some(b.id.as_str()));

    let copy = c.copy_folder(ACCOUNT, &a.id, Some(ROOT)).await.unwrap();
    assert_ne!(copy.id, a.id);
    let root_children = collect(c.folder_children(ACCOUNT, ROOT, ListParams::new())).await;
    assert!(ids(&root_children).contains(&copy.id));
    let b_children = collect(c.folder_children(ACCOUNT, &b.id, ListParams::new())).await;
    assert_eq!(ids(&b_children), [a.id.as_str()]);

    c.delete_folder(ACCOUNT, &a.id).await.unwrap();
    let gone = c.folder(ACCOUNT, &a.id, &[]).await.unwrap_err();
    assert_eq!(gone.status(), Some(404));
    assert_eq!(gone.class(), ErrorClass::Permanent);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn pages_follow_the_cursor_with_parameters_kept() {
    let sim = start().await;
    let c = &sim.client;
    let parent = c.create_folder(ACCOUNT, ROOT, "many").await.unwrap();
    let mut created = Vec::new();
    // Created in reverse name order, so that only the kept `sort` yields f0..f6.
    for i in (0..7).rev() {
        created.push(
            c.create_folder(ACCOUNT, &parent.id, &format!("f{i}"))
                .await
                .unwrap()
                .id,
        );
    }
    created.sort();

    let params = ListParams::new()
        .page_size(3)
        .with_total_count()
        .sort("name_asc");
    let first = c.accounts_page(&ListParams::new(), None).await.unwrap();
    let children = collect(c.folder_children(ACCOUNT, &parent.id, params)).await;

    assert_eq!(first.data.len(), 1);
    assert_eq!(ids(&children), created);
    let names: Vec<_> = children.iter().filter_map(Asset::name).collect();
    assert_eq!(names, ["f0", "f1", "f2", "f3", "f4", "f5", "f6"]);
    assert_eq!(sim.handle.stats().total("folders.index"), 3);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn files_are_shown_renamed_moved_copied_and_deleted() {
    let sim = start().await;
    let c = &sim.client;
    let folder = c.create_folder(ACCOUNT, ROOT, "files").await.unwrap();
    let other = c.create_folder(ACCOUNT, ROOT, "elsewhere").await.unwrap();
    let id = small_file(c, &folder.id, "a.mp4").await;
    let second = small_file(c, &folder.id, "b.mp4").await;

    let status = c.file_upload_status(ACCOUNT, &id).await.unwrap();
    let shown = c
        .file(ACCOUNT, &id, &["media_links.original", "creator"])
        .await
        .unwrap();
    assert!(status.upload_complete && !status.upload_failed);
    assert_eq!(shown.name, "a.mp4");
    assert_eq!(shown.file_size, Some(10_000));
    assert_eq!(
        shown.creator.as_ref().map(|u| u.email.as_str()),
        Some(EMAIL)
    );

    c.rename_file(ACCOUNT, &id, "a-final.mp4").await.unwrap();
    assert_eq!(c.file(ACCOUNT, &id, &[]).await.unwrap().name, "a-final.mp4");

    c.move_file(ACCOUNT, &id, &other.id).await.unwrap();
    let moved = c.file(ACCOUNT, &id, &[]).await.unwrap();
    assert_eq!(moved.parent_id.as_deref(), Some(other.id.as_str()));

    let copy = c.copy_file(ACCOUNT, &id, Some(&folder.id)).await.unwrap();
    assert_eq!(
        c.file(ACCOUNT, &copy.id, &[])
            .await
            .unwrap()
            .parent_id
            .as_deref(),
        Some(folder.id.as_str())
    );

    let both = vec![id.clone(), second.clone()];
    c.bulk_move_files(ACCOUNT, &both, &folder.id).await.unwrap();
    let in_folder = collect(c.folder_children(ACCOUNT, &folder.id, ListParams::new())).await;
    assert!(ids(&in_folder).contains(&id) && ids(&in_folder).contains(&second));
    let copies = c.bulk_copy_files(ACCOUNT, &both, &other.id).await.unwrap();
    assert_eq!(copies.len(), 2);
    let in_other = collect(c.folder_children(ACCOUNT, &other.id, ListParams::new())).await;
    assert_eq!(in_other.len(), 2);

    c.delete_file(ACCOUNT, &id).await.unwrap();
    assert_eq!(
        c.file(ACCOUNT, &id, &[]).await.unwrap_err().status(),
        Some(404)
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn version_stacks_hold_their_files() {
    let sim = start().await;
    let c = &sim.client;
    let folder = c.create_folder(ACCOUNT, ROOT, "versions").await.unwrap();
    let other = c.create_folder(ACCOUNT, ROOT, "versions 2").await.unwrap();
    let v1 = small_file(c, &folder.id, "cut-v1.mp4").await;
    let v2 = small_file(c, &folder.id, "cut-v2.mp4").await;

    let stack = c
        .create_version_stack(ACCOUNT, &folder.id, &[v1.clone(), v2.clone()])
        .await
        .unwrap();
    let shown = c.version_stack(ACCOUNT, &stack.id, &[]).await.unwrap();
    let versions = collect(c.version_stack_children(ACCOUNT, &stack.id, ListParams::new())).await;
    let mut expected = vec![v1, v2];
    expected.sort();
    assert_eq!(shown.id, stack.id);
    assert_eq!(ids(&versions), expected);

    c.move_version_stack(ACCOUNT, &stack.id, &other.id)
        .await
        .unwrap();
    let moved = c.version_stack(ACCOUNT, &stack.id, &[]).await.unwrap();
    assert_eq!(moved.parent_id.as_deref(), Some(other.id.as_str()));
    let copy = c
        .copy_version_stack(ACCOUNT, &stack.id, None)
        .await
        .unwrap();
    assert_ne!(copy.id, stack.id);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn comments_are_created_listed_updated_and_deleted() {
    let sim = start().await;
    let c = &sim.client;
    let file = small_file(c, ROOT, "review.mp4").await;
    let new = NewComment {
        timestamp: Some(24),
        ..NewComment::text("Trim the head")
    };

    let comment = c.create_comment(ACCOUNT, &file, &new).await.unwrap();
    let listed = collect(c.comments(ACCOUNT, &file, ListParams::new())).await;
    let update = CommentUpdate {
        text: Some("Trim the head by 2 frames".into()),
        ..Default::default()
    };
    c.update_comment(ACCOUNT, &comment.id, &update)
        .await
        .unwrap();
    let shown = c.comment(ACCOUNT, &comment.id, &[]).await.unwrap();

    assert_eq!(
        listed.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
        [comment.id.as_str()]
    );
    assert_eq!(shown.text, "Trim the head by 2 frames");
    assert_eq!(shown.file_id, file);
    c.delete_comment(ACCOUNT, &comment.id).await.unwrap();
    assert_eq!(
        c.comment(ACCOUNT, &comment.id, &[])
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn metadata_values_and_field_definitions() {
    let sim = start().await;
    let c = &sim.client;
    let file = small_file(c, ROOT, "meta.mp4").await;
    let definition = NewFieldDefinition {
        name: "Scene".into(),
        field_type: "text".into(),
        field_configuration: None,
    };

    let field = c
        .create_field_definition(ACCOUNT, &definition)
        .await
        .unwrap();
    let listed = collect(c.field_definitions(ACCOUNT, ListParams::new())).await;
    assert!(listed.iter().any(|f| f.id == field.id && f.name == "Scene"));

    let update = MetadataBulkUpdate {
        file_ids: vec![file.clone()],
        values: vec![MetadataValue {
            field_definition_id: field.id.clone(),
            value: json!("42A"),
        }],
    };
    c.bulk_update_metadata(ACCOUNT, PROJECT, &update)
        .await
        .unwrap();
    let metadata = c.file_metadata(ACCOUNT, &file).await.unwrap();
    let value = metadata
        .metadata
        .iter()
        .find(|m| m.field_definition_id == field.id)
        .map(|m| m.value.clone());
    assert_eq!(value, Some(json!("42A")));

    let rename = FieldDefinitionUpdate {
        field_type: "text".into(),
        name: Some("Scene number".into()),
        field_configuration: None,
    };
    let renamed = c
        .update_field_definition(ACCOUNT, &field.id, &rename)
        .await
        .unwrap();
    assert_eq!(renamed.name, "Scene number");
    c.delete_field_definition(ACCOUNT, &field.id).await.unwrap();
    let left = collect(c.field_definitions(ACCOUNT, ListParams::new())).await;
    assert!(left.iter().all(|f| f.id != field.id));
    sim.handle.shutdown().await;
}

/// Shares: created with a file, read back through the flat asset list (a shared folder
/// brings what it holds), reviewers added, listed and removed.
#[tokio::test]
async fn shares_with_assets_and_reviewers() {
    let sim = start().await;
    let c = &sim.client;
    let first = small_file(c, ROOT, "share-1.mp4").await;
    let folder = c
        .create_folder(ACCOUNT, ROOT, "Share folder")
        .await
        .unwrap();
    let nested = small_file(c, &folder.id, "share-2.mp4").await;
    let new = NewShare::new("Client review", ShareAccess::Secure).with_assets(vec![first.clone()]);

    let share = c.create_share(ACCOUNT, PROJECT, &new).await.unwrap();
    let shown = c.share(ACCOUNT, &share.id).await.unwrap();
    assert_eq!(shown.name.as_deref(), Some("Client review"));
    assert_eq!(shown.access.as_deref(), Some("secure"));
    let listed = collect(c.shares(ACCOUNT, PROJECT, ListParams::new())).await;
    assert!(listed.iter().any(|s| s.id == share.id));

    c.add_share_asset(ACCOUNT, &share.id, &folder.id)
        .await
        .unwrap();
    let params = ListParams::new().page_size(2);
    let shared = collect(c.share_assets(ACCOUNT, &share.id, params.clone())).await;
    let mut expected = vec![first.clone(), folder.id.clone(), nested];
    expected.sort();
    assert_eq!(ids(&shared), expected);
    c.remove_share_asset(ACCOUNT, &share.id, &folder.id)
        .await
        .unwrap();
    let again = c.remove_share_asset(ACCOUNT, &share.id, &folder.id).await;
    assert_eq!(again.unwrap_err().status(), Some(404));
    let left = collect(c.share_assets(ACCOUNT, &share.id, params)).await;
    assert_eq!(ids(&left), [first]);

    let emails = |list: &[User]| list.iter().map(|u| u.email.clone()).collect::<Vec<_>>();
    let invite = AddReviewers {
        message: "Please review".into(),
        notify_by_email: Some(false),
        reviewers: Reviewers {
            emails: Some(vec![
                "producer@example.com".into(),
                "editor@example.com".into(),
            ]),
            ..Default::default()
        },
    };
    c.add_share_reviewers(ACCOUNT, &share.id, &invite)
        .await
        .unwrap();
    let reviewers = collect(c.share_reviewers(ACCOUNT, &share.id, ListParams::new())).await;
    assert_eq!(
        emails(&reviewers),
        ["producer@example.com", "editor@example.com"]
    );
    let removal = RemoveReviewers {
        reviewers: Reviewers {
            emails: Some(vec!["producer@example.com".into()]),
            ..Default::default()
        },
    };
    c.remove_share_reviewers(ACCOUNT, &share.id, &removal)
        .await
        .unwrap();
    let reviewers = collect(c.share_reviewers(ACCOUNT, &share.id, ListParams::new())).await;
    assert_eq!(emails(&reviewers), ["editor@example.com"]);
    let nobody = AddReviewers {
        reviewers: Reviewers::default(),
        ..invite
    };
    let refused = c.add_share_reviewers(ACCOUNT, &share.id, &nobody).await;
    assert_eq!(refused.unwrap_err().class(), ErrorClass::Permanent);

    c.delete_share(ACCOUNT, &share.id).await.unwrap();
    assert_eq!(
        c.share(ACCOUNT, &share.id).await.unwrap_err().status(),
        Some(404)
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn webhooks_are_created_with_a_secret_updated_and_deleted() {
    let sim = start().await;
    let c = &sim.client;
    let new = NewWebhook {
        name: "ready".into(),
        url: "https://hooks.example.com/frameio".into(),
        events: vec!["file.ready".into(), "comment.created".into()],
    };

    let created = c.create_webhook(ACCOUNT, WORKSPACE, &new).await.unwrap();
    let id = created.webhook.id.clone();
    let listed = collect(c.webhooks(ACCOUNT, WORKSPACE, ListParams::new())).await;
    let update = WebhookUpdate {
        name: Some("ready v2".into()),
        ..Default::default()
    };
    c.update_webhook(ACCOUNT, &id, &update).await.unwrap();
    let shown = c.webhook(ACCOUNT, &id).await.unwrap();

    assert!(!created.secret.expose_secret().is_empty());
    assert!(listed.iter().any(|w| w.id == id));
    assert_eq!(shown.name, "ready v2");
    assert_eq!(shown.events, ["file.ready", "comment.created"]);
    c.delete_webhook(ACCOUNT, &id).await.unwrap();
    assert_eq!(
        c.webhook(ACCOUNT, &id).await.unwrap_err().status(),
        Some(404)
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn a_remote_upload_is_accepted() {
    let sim = start().await;
    let c = &sim.client;

    let file = c
        .create_remote_upload(
            ACCOUNT,
            ROOT,
            "remote.mp4",
            "https://media.example.com/remote.mp4",
        )
        .await
        .unwrap();
    let shown = c.file(ACCOUNT, &file.id, &[]).await.unwrap();

    assert_eq!(shown.name, "remote.mp4");
    assert_eq!(shown.parent_id.as_deref(), Some(ROOT));
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn a_50_mib_local_upload_arrives_complete() {
    let sim = start().await;
    let c = &sim.client;
    let size = 50 * 1024 * 1024;
    let file = pattern_file(size);

    let uploaded = c
        .upload_local_file(ACCOUNT, ROOT, file.path(), Some("big.mov"))
        .await
        .unwrap();
    let status = c
        .file_upload_status(ACCOUNT, &uploaded.file.id)
        .await
        .unwrap();
    let shown = c.file(ACCOUNT, &uploaded.file.id, &[]).await.unwrap();
    let stats = sim.handle.stats();

    // The simulator cuts 20 MiB parts: 50 MiB travels in three.
    assert_eq!(uploaded.parts, 3);
    assert_eq!(uploaded.bytes, size as u64);
    assert!(status.upload_complete && !status.upload_failed);
    assert_eq!(shown.file_size, Some(size as u64));
    assert_eq!(stats.upload_parts_received, 3);
    assert_eq!(stats.upload_bytes_received, size as u64);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn a_wrong_secret_is_rejected_with_one_ims_call() {
    let sim = start().await;
    let client = client_for(&sim.handle, "not-the-secret");

    let errors = futures::future::join_all((0..20).map(|_| client.me())).await;

    for error in errors {
        let error = error.unwrap_err();
        assert_eq!(error.kind(), "ims_rejected");
        assert_eq!(error.class(), ErrorClass::Permanent);
        assert!(!error.to_string().contains("not-the-secret"));
    }
    assert_eq!(sim.handle.stats().ims.token_requests, 1);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn a_revoked_token_is_replaced_once_and_the_call_retried() {
    let sim = start().await;
    let c = &sim.client;
    c.me().await.unwrap();

    let revoked = sim.handle.revoke_tokens(Some(CLIENT_ID));
    let me = c.me().await.unwrap();
    sim.handle.expire_tokens(Some(CLIENT_ID));
    let again = c.me().await.unwrap();

    let stats = sim.handle.stats();
    assert_eq!(revoked, 1);
    assert_eq!((me.email.as_str(), again.email.as_str()), (EMAIL, EMAIL));
    assert_eq!(stats.ims.tokens_issued, 3);
    assert_eq!(stats.count("users.show", 401), 2);
    assert_eq!(stats.count("users.show", 200), 3);
    assert_eq!(c.tokens().stats().invalidations, 2);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn one_token_serves_many_calls() {
    let sim = start().await;
    let c = &sim.client;

    let results = futures::future::join_all((0..50).map(|_| c.me())).await;

    assert!(results.iter().all(Result::is_ok));
    assert_eq!(sim.handle.stats().ims.tokens_issued, 1);
    assert!(c.tokens().remaining().unwrap() > Duration::from_secs(3600));
    sim.handle.shutdown().await;
}

/// Every error class as the simulator produces it, and the rate-limit headers of every
/// answer handed to the observer.
#[tokio::test]
async fn the_simulators_errors_are_classified_and_its_rate_limits_observed() {
    // Real limits: `folders.create` allows 3 per second.
    let handle = frameio_sim::spawn(SimConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let config = ClientConfig {
        request_timeout_ms: 300,
        ims_max_retries: 1,
        ims_backoff_base_ms: 10,
        ..ClientConfig::with_base_url(&handle.base_url())
    };
    let c = Client::new(config.clone(), Credentials::new(CLIENT_ID, CLIENT_SECRET))
        .unwrap()
        .with_rate_limit_observer(std::sync::Arc::new(move |op, limit| {
            sink.lock().unwrap().push((op, limit))
        }));
    let fault = |update: frameio_sim::FaultUpdate| {
        handle.update_faults(&frameio_sim::FaultUpdate {
            clear: true,
            operations: Some(vec!["users.show".into()]),
            ..update
        })
    };

    // Sent at once, so that the bucket cannot drain between them on a busy machine.
    let names: Vec<String> = (0..6).map(|i| format!("burst-{i}")).collect();
    let burst = futures::future::join_all(names.iter().map(|n| c.create_folder(ACCOUNT, ROOT, n)));
    let (admitted, refused): (Vec<_>, Vec<_>) = burst.await.into_iter().partition(Result::is_ok);
    assert!(admitted.len() >= 3, "{} admitted", admitted.len());
    let throttled = refused.into_iter().next().expect("a 429").unwrap_err();
    assert_eq!(throttled.kind(), "http_429");
    assert!(throttled.is_transient());
    assert!(throttled.detail().is_some() && throttled.request_id().is_some());
    let limit = throttled.rate_limit().unwrap();
    assert_eq!(
        (limit.limit, limit.remaining, limit.window),
        (3, 0, Duration::from_secs(1))
    );

    let missing = c.file(ACCOUNT, "no-such-file", &[]).await.unwrap_err();
    assert_eq!(
        (missing.kind(), missing.class()),
        ("http_404", ErrorClass::Permanent)
    );
    assert!(missing.detail().is_some() && missing.request_id().is_some());
    let foreign = c.workspace(frameio_sim::BETA.account_id, WORKSPACE).await;
    assert_eq!(foreign.unwrap_err().kind(), "http_403");
    let unsortable = ListParams::new().sort("colour_asc");
    let refused: Result<Vec<_>, _> = c.accounts(unsortable).try_collect().await;
    assert_eq!(refused.unwrap_err().kind(), "http_422");

    fault(frameio_sim::FaultUpdate {
        fail_next: Some(1),
        error_status: Some(503),
        ..Default::default()
    });
    let unavailable = c.me().await.unwrap_err();
    assert_eq!(
        (unavailable.kind(), unavailable.is_transient()),
        ("http_503", true)
    );
    fault(frameio_sim::FaultUpdate {
        drop_next: Some(1),
        ..Default::default()
    });
    let dropped = c.me().await.unwrap_err();
    assert_eq!(
        (dropped.kind(), dropped.is_transient()),
        ("transport", true)
    );
    fault(frameio_sim::FaultUpdate {
        latency_ms: Some(1_000),
        ..Default::default()
    });
    let slow = c.me().await.unwrap_err();
    assert_eq!((slow.kind(), slow.is_transient()), ("timeout", true));
    handle.update_faults(&frameio_sim::FaultUpdate {
        clear: true,
        fail_next: Some(10),
        error_status: Some(502),
        operations: Some(vec!["ims.token".into()]),
        ims: Some(true),
        ..Default::default()
    });
    let fresh = Client::new(config, Credentials::new(CLIENT_ID, CLIENT_SECRET)).unwrap();
    let ims_down = fresh.me().await.unwrap_err();
    assert_eq!(
        (ims_down.kind(), ims_down.is_transient()),
        ("ims_unavailable", true)
    );
    assert_eq!(
        fresh.tokens().stats().ims_requests,
        2,
        "one try and one retry"
    );

    let seen = seen.lock().unwrap().clone();
    let creates: Vec<_> = seen
        .iter()
        .filter(|(op, _)| op.id() == "folders.create")
        .map(|(_, limit)| *limit)
        .collect();
    assert_eq!(creates.len(), 6, "every answer, 429s included, is observed");
    assert!(creates
        .iter()
        .all(|l| l.limit == 3 && l.window == Duration::from_secs(1)));
    assert!(creates.iter().any(|l| l.remaining == 2));
    assert!(creates.iter().any(|l| l.remaining == 0));
    assert!(seen.iter().any(|(op, _)| op.id() == "files.show"));
    handle.shutdown().await;
}
