//! Collaboration on assets: comments, metadata fields and values, shares and webhooks.

use chrono::Utc;
use serde_json::{json, Map, Value};

use super::assets::{asset, id_list, string_field};
use super::{created, no_content, not_implemented, ok, paginate, project, workspace, Ctx, Reply};
use crate::error::ApiError;
use crate::store::{
    merge, new_id, AssetKind, Comment, FieldDefinition, Includes, Share, Store, Webhook,
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
        "shares.add_reviewers" => {
            share(store, ctx, id)?;
            let reviewers = data.get("reviewers").cloned().unwrap_or(Value::Null);
            let mut added = Vec::new();
            for (kind, ids) in reviewers.as_object().into_iter().flatten() {
                for value in ids.as_array().into_iter().flatten() {
                    added.push(json!({"type": kind, "value": value}));
                }
            }
            if added.is_empty() {
                return Err(ApiError::invalid_field(
                    "/data/reviewers",
                    "at least one reviewer is required",
                ));
            }
            if let Some(s) = store.shares.get_mut(id) {
                s.reviewers.extend(added);
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
