//! Collaboration on assets: comments, metadata fields and values, shares and webhooks.

use std::collections::HashSet;

use chrono::Utc;
use serde_json::{json, Map, Value};

use super::assets::{asset, id_list, string_field};
use super::{created, no_content, not_implemented, ok, paginate, project, workspace, Ctx, Reply};
use crate::error::ApiError;
use crate::store::{
    merge, new_id, user_json, Asset, AssetKind, Comment, FieldDefinition, Includes, Share, Store,
    Webhook,
};

// === comments ===

/// Keys of a comment body that are not echoed as given: they are computed or have another
/// shape in answers than in requests.
const COMMENT_COMPUTED: &[&str] = &["completed", "attachments", "links", "mentions"];

pub(super) fn comments(store: &mut Store, operation: &str, ctx: &Ctx) -> Result<Reply, ApiError> {
    let includes = ctx.includes();
    let id = ctx.param("comment_id");
    match operation {
        "comments.index" => {
            let file_id = ctx.param("file_id");
            asset(
                store,
                ctx,
                file_id,
                &[AssetKind::File, AssetKind::VersionStack],
            )?;
            let mut list: Vec<&Comment> = store
                .comments
                .values()
                .filter(|c| c.file_id == file_id)
                .collect();
            list.sort_by_key(|c| c.stamp.seq);
            let items = list
                .iter()
                .map(|c| store.comment_json(c, &includes))
                .collect();
            paginate(items, ctx)
        }
        "comments.create" => {
            let file_id = ctx.param("file_id");
            asset(
                store,
                ctx,
                file_id,
                &[AssetKind::File, AssetKind::VersionStack],
            )?;
            let mut fields = ctx.data();
            let completed = fields.get("completed").and_then(Value::as_bool) == Some(true);
            for key in COMMENT_COMPUTED {
                fields.remove(*key);
            }
            let comment = Comment {
                id: new_id(),
                account_id: ctx.account_id().to_owned(),
                file_id: file_id.to_owned(),
                owner_id: ctx.user.user_id.clone(),
                fields,
                text_edited_at: None,
                completed: completed.then(|| (Utc::now(), ctx.user.user_id.clone())),
                stamp: store.stamp(),
            };
            let rendered = store.comment_json(&comment, &Includes::default());
            store.comments.insert(comment.id.clone(), comment);
            created(rendered)
        }
        "comments.show" => ok(store.comment_json(comment(store, ctx, id)?, &includes)),
        "comments.update" => {
            comment(store, ctx, id)?;
            let mut fields = ctx.data();
            let completed = fields.get("completed").and_then(Value::as_bool);
            for key in COMMENT_COMPUTED {
                fields.remove(*key);
            }
            let seq = store.next_seq();
            let user_id = ctx.user.user_id.clone();
            let Some(c) = store.comments.get_mut(id) else {
                return Err(ApiError::not_found("Comment", id));
            };
            if fields.get("text").is_some_and(Value::is_string) {
                c.text_edited_at = Some(Utc::now());
            }
            fields.retain(|key, value| !(key == "text" && value.is_null()));
            c.fields.extend(fields);
            match completed {
                Some(true) if c.completed.is_none() => c.completed = Some((Utc::now(), user_id)),
                Some(false) => c.completed = None,
                _ => {}
            }
            c.stamp.touch(seq);
            ok(store.comment_json(comment(store, ctx, id)?, &Includes::default()))
        }
        "comments.delete" => {
            comment(store, ctx, id)?;
            store.comments.remove(id);
            no_content()
        }
        _ => Err(not_implemented(operation)),
    }
}

fn comment<'s>(store: &'s Store, ctx: &Ctx, id: &str) -> Result<&'s Comment, ApiError> {
    store
        .comments
        .get(id)
        .filter(|c| c.account_id == ctx.account_id())
        .ok_or_else(|| ApiError::not_found("Comment", id))
}

// === metadata ===

pub(super) fn metadata(store: &mut Store, operation: &str, ctx: &Ctx) -> Result<Reply, ApiError> {
    let data = ctx.data();
    let definition_id = ctx.param("field_definition_id");
    match operation {
        "metadata.show" => {
            let file_id = ctx.param("file_id");
            let file = asset(store, ctx, file_id, &[AssetKind::File])?;
            let show_null = ctx.flag("show_null")?;
            ok(json!({"file_id": file_id, "metadata": store.metadata_fields(file, show_null)}))
        }
        "metadata.bulk_update" => {
            let project_id = project(store, ctx, ctx.param("project_id"))?.id.clone();
            let file_ids = id_list(&data, "file_ids")?;
            for file_id in &file_ids {
                let file = asset(store, ctx, file_id, &[AssetKind::File])?;
                if file.project_id != project_id {
                    return Err(ApiError::not_found("File", file_id));
                }
            }
            let values = data
                .get("values")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut updates = Vec::new();
            for value in &values {
                let field_id = value["field_definition_id"].as_str().unwrap_or_default();
                field_definition(store, ctx, field_id)?;
                updates.push((field_id.to_owned(), value["value"].clone()));
            }
            for file_id in &file_ids {
                for (field_id, value) in &updates {
                    let key = (file_id.clone(), field_id.clone());
                    if value.is_null() {
                        store.values.remove(&key);
                    } else {
                        store.values.insert(key, value.clone());
                    }
                }
                store.touch_asset(file_id);
            }
            no_content()
        }
        "metadata_fields.metadata_field_definitions_index" => {
            let includes = ctx.includes();
            let mut list: Vec<&FieldDefinition> = store
                .fields
                .values()
                .filter(|f| f.account_id == ctx.account_id())
                .collect();
            list.sort_by_key(|f| f.stamp.seq);
            let items = list
                .iter()
                .map(|f| store.field_json(f, &includes))
                .collect();
            paginate(items, ctx)
        }
        "metadata_fields.metadata_field_definitions_create" => {
            let configuration = match data.get("field_configuration") {
                Some(Value::Object(config)) => Value::Object(config.clone()),
                _ => json!({}),
            };
            let definition = FieldDefinition {
                id: new_id(),
                account_id: ctx.account_id().to_owned(),
                field_type: string_field(&data, "field_type").unwrap_or_else(|| "text".into()),
                name: string_field(&data, "name").unwrap_or_default(),
                configuration,
                creator_id: ctx.user.user_id.clone(),
                stamp: store.stamp(),
            };
            let rendered = store.field_json(&definition, &Includes::default());
            store.fields.insert(definition.id.clone(), definition);
            created(rendered)
        }
        "metadata_fields.metadata_field_definitions_update" => {
            field_definition(store, ctx, definition_id)?;
            let seq = store.next_seq();
            if let Some(f) = store.fields.get_mut(definition_id) {
                if let Some(name) = string_field(&data, "name") {
                    f.name = name;
                }
                if let Some(Value::Object(config)) = data.get("field_configuration") {
                    merge(&mut f.configuration, Value::Object(config.clone()));
                }
                f.stamp.touch(seq);
            }
            let f = field_definition(store, ctx, definition_id)?;
            ok(store.field_json(f, &Includes::default()))
        }
        "metadata_fields.metadata_field_definitions_delete" => {
            field_definition(store, ctx, definition_id)?;
            store.fields.remove(definition_id);
            store.values.retain(|(_, field), _| field != definition_id);
            no_content()
        }
        _ => Err(not_implemented(operation)),
    }
}

fn field_definition<'s>(
    store: &'s Store,
    ctx: &Ctx,
    id: &str,
) -> Result<&'s FieldDefinition, ApiError> {
    store
        .fields
        .get(id)
        .filter(|f| f.account_id == ctx.account_id())
        .ok_or_else(|| ApiError::not_found("Field definition", id))
}

// === shares ===

/// Share settings that are answered as booleans even when the request left them out.
const SHARE_DEFAULTS: &[(&str, bool)] = &[
    ("enabled", true),
    ("commenting_enabled", true),
    ("downloading_enabled", false),
];

pub(super) fn shares(store: &mut Store, operation: &str, ctx: &Ctx) -> Result<Reply, ApiError> {
    let id = ctx.param("share_id");
    let data = ctx.data();
    match operation {
        "shares.create" => {
            let project_id = project(store, ctx, ctx.param("project_id"))?.id.clone();
            let asset_ids: Vec<String> = data
                .get("asset_ids")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            for asset_id in &asset_ids {
                let a = asset(store, ctx, asset_id, &[AssetKind::File, AssetKind::Folder])
                    .or_else(|_| asset(store, ctx, asset_id, &[AssetKind::VersionStack]))?;
                if a.project_id != project_id {
                    return Err(ApiError::not_found("Asset", asset_id));
                }
            }
            let mut fields = data.clone();
            fields.remove("asset_ids");
            // A passphrase is a secret: it is stored nowhere and never echoed.
            fields.insert("passphrase".to_owned(), Value::Null);
            for (key, default) in SHARE_DEFAULTS {
                if !fields.get(*key).is_some_and(Value::is_boolean) {
                    fields.insert((*key).to_owned(), json!(default));
                }
            }
            let share = Share {
                id: new_id(),
                account_id: ctx.account_id().to_owned(),
                project_id,
                collection_id: new_id(),
                fields,
                asset_ids,
                reviewers: Vec::new(),
                stamp: store.stamp(),
            };
            let rendered = store.share_json(&share);
            store.shares.insert(share.id.clone(), share);
            created(rendered)
        }
        "shares.index" => {
            let project_id = project(store, ctx, ctx.param("project_id"))?.id.clone();
            let mut list: Vec<&Share> = store
                .shares
                .values()
                .filter(|s| s.project_id == project_id)
                .collect();
            list.sort_by_key(|s| s.stamp.seq);
            let items = list.iter().map(|s| store.share_json(s)).collect();
            paginate(items, ctx)
        }
        "shares.show" => ok(store.share_json(share(store, ctx, id)?)),
        "shares.update" => {
            share(store, ctx, id)?;
            let seq = store.next_seq();
            if let Some(s) = store.shares.get_mut(id) {
                for (key, value) in data {
                    let keeps_default = SHARE_DEFAULTS.iter().any(|(k, _)| *k == key);
                    if key == "passphrase" || (keeps_default && !value.is_boolean()) {
                        continue;
                    }
                    s.fields.insert(key, value);
                }
                s.stamp.touch(seq);
            }
            ok(store.share_json(share(store, ctx, id)?))
        }
        "shares.delete" => {
            share(store, ctx, id)?;
            store.shares.remove(id);
            no_content()
        }
        "shares.add_asset" => {
            share(store, ctx, id)?;
            let asset_id = string_field(&data, "asset_id").unwrap_or_default();
            asset(store, ctx, &asset_id, &[AssetKind::File, AssetKind::Folder])
                .or_else(|_| asset(store, ctx, &asset_id, &[AssetKind::VersionStack]))?;
            let seq = store.next_seq();
            if let Some(s) = store.shares.get_mut(id) {
                if !s.asset_ids.contains(&asset_id) {
                    s.asset_ids.push(asset_id.clone());
                }
                s.stamp.touch(seq);
            }
            let mut rendered = store.share_json(share(store, ctx, id)?);
            rendered["asset_added"] = json!(asset_id);
            ok(rendered)
        }
        "shares.remove_asset" => {
            let asset_id = ctx.param("asset_id").to_owned();
            if !share(store, ctx, id)?.asset_ids.contains(&asset_id) {
                return Err(ApiError::not_found("Shared asset", &asset_id));
            }
            let seq = store.next_seq();
            if let Some(s) = store.shares.get_mut(id) {
                s.asset_ids.retain(|a| *a != asset_id);
                s.stamp.touch(seq);
            }
            let mut rendered = store.share_json(share(store, ctx, id)?);
            rendered["asset_removed"] = json!(asset_id);
            ok(rendered)
        }
        "shares.list_assets" => {
            let includes = ctx.includes();
            let items = shared_assets(store, share(store, ctx, id)?)
                .into_iter()
                .map(|a| store.asset_json(a, &includes))
                .collect();
            paginate(items, ctx)
        }
        "shares.add_reviewers" => {
            share(store, ctx, id)?;
            let added = reviewer_users(store, &data)?;
            if added.is_empty() {
                return Err(ApiError::invalid_field(
                    "/data/reviewers",
                    "at least one reviewer is required",
                ));
            }
            if let Some(s) = store.shares.get_mut(id) {
                for user in added {
                    if !s.reviewers.iter().any(|r| same_email(r, &user)) {
                        s.reviewers.push(user);
                    }
                }
            }
            no_content()
        }
        "shares.list_reviewers" => paginate(share(store, ctx, id)?.reviewers.clone(), ctx),
        "shares.remove_reviewers" => {
            share(store, ctx, id)?;
            let named = NamedReviewers::from_data(&data);
            if named.is_empty() {
                return Err(ApiError::invalid_field(
                    "/data/reviewers",
                    "at least one reviewer is required",
                ));
            }
            // Removing a reviewer the share does not have changes nothing and is no error,
            // so that a retried removal succeeds.
            if let Some(s) = store.shares.get_mut(id) {
                s.reviewers.retain(|r| !named.matches(r));
            }
            no_content()
        }
        _ => Err(not_implemented(operation)),
    }
}

fn share<'s>(store: &'s Store, ctx: &Ctx, id: &str) -> Result<&'s Share, ApiError> {
    store
        .shares
        .get(id)
        .filter(|s| s.account_id == ctx.account_id())
        .ok_or_else(|| ApiError::not_found("Share", id))
}

/// The assets of a share as a recursively flat list: each shared asset, then what a shared
/// folder holds at any depth. A version stack stands for its versions, which are not listed.
fn shared_assets<'s>(store: &'s Store, share: &Share) -> Vec<&'s Asset> {
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    let mut pending: Vec<&str> = share.asset_ids.iter().rev().map(String::as_str).collect();
    while let Some(id) = pending.pop() {
        let Some(asset) = store.assets.get(id) else {
            continue;
        };
        if !seen.insert(asset.id.as_str()) {
            continue;
        }
        found.push(asset);
        if asset.kind == AssetKind::Folder {
            let children = store.children(&asset.id);
            pending.extend(children.iter().rev().map(|c| c.id.as_str()));
        }
    }
    found
}

/// The reviewers a `reviewers` object names, as lists of e-mails, user ids and Adobe ids.
struct NamedReviewers {
    emails: Vec<String>,
    user_ids: Vec<String>,
    adobe_user_ids: Vec<String>,
    share_list_ids: Vec<String>,
}

impl NamedReviewers {
    fn from_data(data: &Map<String, Value>) -> Self {
        let reviewers = data.get("reviewers");
        let list = |key: &str| -> Vec<String> {
            reviewers
                .and_then(|r| r.get(key))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        };
        NamedReviewers {
            emails: list("emails"),
            user_ids: list("user_ids"),
            adobe_user_ids: list("adobe_user_ids"),
            share_list_ids: list("share_list_ids"),
        }
    }

    fn is_empty(&self) -> bool {
        self.emails.is_empty()
            && self.user_ids.is_empty()
            && self.adobe_user_ids.is_empty()
            && self.share_list_ids.is_empty()
    }

    /// Whether a reviewer (a rendered `User`) is one of those named.
    fn matches(&self, reviewer: &Value) -> bool {
        let field = |name: &str| reviewer.get(name).and_then(Value::as_str).unwrap_or("");
        self.emails
            .iter()
            .any(|e| e.eq_ignore_ascii_case(field("email")))
            || self.user_ids.iter().any(|id| id == field("id"))
            || self
                .adobe_user_ids
                .iter()
                .any(|id| id == field("adobe_user_id"))
    }
}

/// The users an `add_reviewers` body names, rendered as Frame.io `User`s.
///
/// An e-mail of a known user gives that user, any other e-mail an invited reviewer; a user id
/// must be a known user. The simulator has no Adobe directory, so an Adobe user id becomes a
/// reviewer with a placeholder e-mail under the reserved `.invalid` domain. No share list
/// exists in the simulated world, so any share list id is unknown.
fn reviewer_users(store: &Store, data: &Map<String, Value>) -> Result<Vec<Value>, ApiError> {
    let named = NamedReviewers::from_data(data);
    if let Some(list_id) = named.share_list_ids.first() {
        return Err(ApiError::not_found("Share list", list_id));
    }

    let mut users = Vec::new();
    for email in &named.emails {
        let known = store
            .users
            .values()
            .find(|u| u.email.eq_ignore_ascii_case(email));
        users.push(known.map_or_else(|| invitee(email, None), user_json));
    }
    for user_id in &named.user_ids {
        let user = store
            .users
            .get(user_id)
            .ok_or_else(|| ApiError::not_found("User", user_id))?;
        users.push(user_json(user));
    }
    for adobe_id in &named.adobe_user_ids {
        let email = format!("{adobe_id}@adobe-user.invalid");
        users.push(invitee(&email, Some(adobe_id)));
    }
    Ok(users)
}

/// A reviewer who is not a user of the simulated world.
fn invitee(email: &str, adobe_user_id: Option<&str>) -> Value {
    json!({
        "id": new_id(),
        "name": null,
        "email": email,
        "active": null,
        "adobe_user_id": adobe_user_id,
        "avatar_url": null,
    })
}

fn same_email(a: &Value, b: &Value) -> bool {
    let email = |v: &Value| {
        v.get("email")
            .and_then(Value::as_str)
            .map(str::to_lowercase)
    };
    email(a).is_some() && email(a) == email(b)
}

// === webhooks ===

pub(super) fn webhooks(store: &mut Store, operation: &str, ctx: &Ctx) -> Result<Reply, ApiError> {
    let includes = ctx.includes();
    let id = ctx.param("webhook_id");
    let data = ctx.data();
    match operation {
        "webhooks.create" => {
            let workspace_id = workspace(store, ctx, ctx.param("workspace_id"))?.id.clone();
            let url = string_field(&data, "url").unwrap_or_default();
            check_webhook_url(&url)?;
            let webhook = Webhook {
                id: new_id(),
                account_id: ctx.account_id().to_owned(),
                workspace_id,
                name: string_field(&data, "name").unwrap_or_default(),
                url,
                events: string_list(&data, "events"),
                active: true,
                creator_id: ctx.user.user_id.clone(),
                stamp: store.stamp(),
            };
            let mut rendered = store.webhook_json(&webhook, &Includes::default());
            // The signing secret is returned once, at creation, and not kept.
            rendered["secret"] = json!(format!("{}", uuid::Uuid::new_v4().simple()));
            store.webhooks.insert(webhook.id.clone(), webhook);
            created(rendered)
        }
        "webhooks.index" => {
            let workspace_id = workspace(store, ctx, ctx.param("workspace_id"))?.id.clone();
            let mut list: Vec<&Webhook> = store
                .webhooks
                .values()
                .filter(|w| w.workspace_id == workspace_id)
                .collect();
            list.sort_by_key(|w| w.stamp.seq);
            let items = list
                .iter()
                .map(|w| store.webhook_json(w, &includes))
                .collect();
            paginate(items, ctx)
        }
        "webhooks.show" => ok(store.webhook_json(webhook(store, ctx, id)?, &includes)),
        "webhooks.update" => {
            webhook(store, ctx, id)?;
            if let Some(url) = string_field(&data, "url") {
                check_webhook_url(&url)?;
            }
            let seq = store.next_seq();
            if let Some(w) = store.webhooks.get_mut(id) {
                if let Some(name) = string_field(&data, "name") {
                    w.name = name;
                }
                if let Some(url) = string_field(&data, "url") {
                    w.url = url;
                }
                if data.get("events").is_some_and(Value::is_array) {
                    w.events = string_list(&data, "events");
                }
                if let Some(active) = data.get("active").and_then(Value::as_bool) {
                    w.active = active;
                }
                w.stamp.touch(seq);
            }
            ok(store.webhook_json(webhook(store, ctx, id)?, &Includes::default()))
        }
        "webhooks.delete" => {
            webhook(store, ctx, id)?;
            store.webhooks.remove(id);
            no_content()
        }
        _ => Err(not_implemented(operation)),
    }
}

fn webhook<'s>(store: &'s Store, ctx: &Ctx, id: &str) -> Result<&'s Webhook, ApiError> {
    store
        .webhooks
        .get(id)
        .filter(|w| w.account_id == ctx.account_id())
        .ok_or_else(|| ApiError::not_found("Webhook", id))
}

fn check_webhook_url(url: &str) -> Result<(), ApiError> {
    let valid = url::Url::parse(url)
        .ok()
        .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid_field(
            "/data/url",
            "url must be an absolute http or https URL",
        ))
    }
}

fn string_list(data: &Map<String, Value>, name: &str) -> Vec<String> {
    data.get(name)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}
