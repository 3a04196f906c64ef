//! Folders, files and version stacks: show, list, create, rename, move, copy (one or in
//! bulk), delete, and the creation of local and remote uploads.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::{created, no_content, not_implemented, ok, paginate, Ctx, Reply, MAX_BULK};
use crate::error::ApiError;
use crate::server::Shared;
use crate::store::{Asset, AssetKind, Includes, Store};
use crate::uploads;

fn kind_label(kind: AssetKind) -> &'static str {
    match kind {
        AssetKind::Folder => "Folder",
        AssetKind::File => "File",
        AssetKind::VersionStack => "Version stack",
    }
}

/// An asset of the path's account with one of `kinds`.
pub(super) fn asset<'s>(
    store: &'s Store,
    ctx: &Ctx,
    id: &str,
    kinds: &[AssetKind],
) -> Result<&'s Asset, ApiError> {
    store
        .assets
        .get(id)
        .filter(|a| a.account_id == ctx.account_id() && kinds.contains(&a.kind))
        .ok_or_else(|| ApiError::not_found(kind_label(kinds[0]), id))
}

pub(super) fn string_field(data: &Map<String, Value>, name: &str) -> Option<String> {
    data.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// The required `parent_id` of a move.
fn parent_field(data: &Map<String, Value>) -> Result<String, ApiError> {
    string_field(data, "parent_id")
        .ok_or_else(|| ApiError::invalid_field("/data/parent_id", "parent_id is required"))
}

/// Ids of a bulk request under `data.{field}`.
pub(super) fn id_list(data: &Map<String, Value>, field: &str) -> Result<Vec<String>, ApiError> {
    let ids: Vec<String> = data
        .get(field)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let pointer = format!("/data/{field}");
    if ids.is_empty() {
        return Err(ApiError::invalid_field(
            &pointer,
            format!("{field} must not be empty"),
        ));
    }
    if ids.len() > MAX_BULK {
        return Err(ApiError::invalid_field(
            &pointer,
            format!("at most {MAX_BULK} ids per request"),
        ));
    }
    Ok(ids)
}

/// Moves an asset (with its subtree) under a folder of the same account.
fn move_asset(store: &mut Store, ctx: &Ctx, id: &str, parent_id: &str) -> Result<(), ApiError> {
    let parent = asset(store, ctx, parent_id, &[AssetKind::Folder])?.clone();
    let subtree = store.subtree(id);
    if subtree.iter().any(|a| a == parent_id) {
        return Err(ApiError::invalid_field(
            "/data/parent_id",
            "an asset cannot be moved into itself",
        ));
    }
    if store.assets.get(id).is_some_and(|a| a.parent_id.is_none()) {
        return Err(ApiError::invalid("a project's root folder cannot be moved"));
    }
    for member in &subtree {
        if let Some(a) = store.assets.get_mut(member) {
            a.project_id = parent.project_id.clone();
        }
    }
    if let Some(a) = store.assets.get_mut(id) {
        a.parent_id = Some(parent.id.clone());
    }
    store.touch_asset(id);
    Ok(())
}

/// Copies an asset under `parent_id` (default: its own parent); returns the copy's id.
fn copy_asset(
    store: &mut Store,
    ctx: &Ctx,
    id: &str,
    parent_id: Option<String>,
    copy_comments: bool,
) -> Result<String, ApiError> {
    let source = store
        .assets
        .get(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("Asset", id))?;
    let parent_id = parent_id
        .or(source.parent_id.clone())
        .ok_or_else(|| ApiError::invalid("a project's root folder cannot be copied"))?;
    asset(store, ctx, &parent_id, &[AssetKind::Folder])?;
    let copy_metadata = ctx.flag("copy_metadata")?;
    store
        .copy_subtree(
            id,
            &parent_id,
            &ctx.user.user_id,
            copy_metadata,
            copy_comments,
        )
        .ok_or_else(|| ApiError::not_found("Asset", id))
}

fn render(store: &Store, id: &str) -> Value {
    store
        .assets
        .get(id)
        .map_or(Value::Null, |a| store.asset_json(a, &Includes::default()))
}

/// Children of a container, rendered, optionally filtered by kind.
fn children_json(store: &Store, parent_id: &str, kinds: &[AssetKind], ctx: &Ctx) -> Vec<Value> {
    let includes = ctx.includes();
    store
        .children(parent_id)
        .into_iter()
        .filter(|a| kinds.contains(&a.kind))
        .map(|a| store.asset_json(a, &includes))
        .collect()
}

fn kinds_from_type_filter(ctx: &Ctx) -> Result<Vec<AssetKind>, ApiError> {
    let Some(filter) = ctx.query.get("type") else {
        return Ok(vec![
            AssetKind::File,
            AssetKind::Folder,
            AssetKind::VersionStack,
        ]);
    };
    filter
        .split(',')
        .map(|t| match t.trim() {
            "file" => Ok(AssetKind::File),
            "folder" => Ok(AssetKind::Folder),
            "version_stack" => Ok(AssetKind::VersionStack),
            other => Err(ApiError::invalid_parameter(
                "type",
                format!("unknown type {other:?}"),
            )),
        })
        .collect()
}

pub(super) fn folders(store: &mut Store, operation: &str, ctx: &Ctx) -> Result<Reply, ApiError> {
    const FOLDER: &[AssetKind] = &[AssetKind::Folder];
    let id = ctx.param("folder_id");
    let data = ctx.data();
    match operation {
        "folders.show" => ok(store.asset_json(asset(store, ctx, id, FOLDER)?, &ctx.includes())),
        "folders.index" => {
            asset(store, ctx, id, FOLDER)?;
            let kinds = kinds_from_type_filter(ctx)?;
            paginate(children_json(store, id, &kinds, ctx), ctx)
        }
        "folders.list" => {
            asset(store, ctx, id, FOLDER)?;
            paginate(children_json(store, id, FOLDER, ctx), ctx)
        }
        "folders.create" => {
            let parent = asset(store, ctx, id, FOLDER)?.clone();
            let name = string_field(&data, "name").unwrap_or_else(|| "New Folder".to_owned());
            let new = store.insert_asset(&parent, AssetKind::Folder, &name, &ctx.user.user_id);
            created(render(store, &new))
        }
        "folders.update" => {
            asset(store, ctx, id, FOLDER)?;
            rename(store, id, &data);
            ok(render(store, id))
        }
        "folders.delete" => {
            if asset(store, ctx, id, FOLDER)?.parent_id.is_none() {
                return Err(ApiError::invalid(
                    "a project's root folder cannot be deleted",
                ));
            }
            store.remove_subtree(id);
            no_content()
        }
        "folders.move" => {
            asset(store, ctx, id, FOLDER)?;
            move_asset(store, ctx, id, &parent_field(&data)?)?;
            ok(render(store, id))
        }
        "folders.copy" => {
            asset(store, ctx, id, FOLDER)?;
            let copy = copy_asset(store, ctx, id, string_field(&data, "parent_id"), false)?;
            ok(render(store, &copy))
        }
        "folders.bulk_move" | "folders.bulk_copy" => bulk(store, operation, ctx, FOLDER),
        _ => Err(not_implemented(operation)),
    }
}

fn rename(store: &mut Store, id: &str, data: &Map<String, Value>) {
    if let Some(name) = string_field(data, "name") {
        if let Some(a) = store.assets.get_mut(id) {
            a.name = name;
        }
        store.touch_asset(id);
    }
}

/// Bulk move or copy of files or folders.
fn bulk(
    store: &mut Store,
    operation: &str,
    ctx: &Ctx,
    kinds: &[AssetKind],
) -> Result<Reply, ApiError> {
    let data = ctx.data();
    let (field, key) = if kinds[0] == AssetKind::Folder {
        ("folder_ids", "folder")
    } else {
        ("file_ids", "file")
    };
    let ids = id_list(&data, field)?;
    let parent_id = parent_field(&data)?;
    asset(store, ctx, &parent_id, &[AssetKind::Folder])?;
    for id in &ids {
        asset(store, ctx, id, kinds)?;
    }
    let copy_comments = ctx.flag("copy_comments")?;
    let mut results = Vec::new();
    for id in &ids {
        if operation.ends_with("bulk_move") {
            move_asset(store, ctx, id, &parent_id)?;
            results.push(render(store, id));
        } else {
            let copy = copy_asset(store, ctx, id, Some(parent_id.clone()), copy_comments)?;
            let mut item = Map::new();
            item.insert(key.to_owned(), render(store, &copy));
            item.insert(format!("source_{key}_id"), json!(id));
            results.push(Value::Object(item));
        }
    }
    ok(Value::Array(results))
}

pub(super) fn files(
    shared: &Arc<Shared>,
    store: &mut Store,
    operation: &str,
    ctx: &Ctx,
) -> Result<Reply, ApiError> {
    const FILE: &[AssetKind] = &[AssetKind::File];
    let id = ctx.param("file_id");
    let data = ctx.data();
    match operation {
        "files.show" => ok(store.asset_json(asset(store, ctx, id, FILE)?, &ctx.includes())),
        "files.list" => {
            asset(store, ctx, ctx.param("folder_id"), &[AssetKind::Folder])?;
            paginate(children_json(store, ctx.param("folder_id"), FILE, ctx), ctx)
        }
        "files.update" => {
            asset(store, ctx, id, FILE)?;
            rename(store, id, &data);
            ok(render(store, id))
        }
        "files.delete" => {
            asset(store, ctx, id, FILE)?;
            store.remove_subtree(id);
            no_content()
        }
        "files.move" => {
            asset(store, ctx, id, FILE)?;
            move_asset(store, ctx, id, &parent_field(&data)?)?;
            ok(render(store, id))
        }
        "files.copy" => {
            asset(store, ctx, id, FILE)?;
            let copy_comments = ctx.flag("copy_comments")?;
            let parent = string_field(&data, "parent_id");
            let copy = copy_asset(store, ctx, id, parent, copy_comments)?;
            ok(render(store, &copy))
        }
        "files.bulk_move" | "files.bulk_copy" => bulk(store, operation, ctx, FILE),
        "files.show_file_upload_status" => {
            let file = asset(store, ctx, id, FILE)?;
            let upload = &file.upload;
            ok(json!({
                "id": file.id,
                "filetype": file.media_type.as_deref().unwrap_or("application/octet-stream"),
                "upload_complete": upload.complete,
                "upload_failed": upload.failed,
                "uploaded_at": upload.uploaded_at.map(crate::store::ts),
                "upload_completed_at": upload.completed_at.map(crate::store::ts),
            }))
        }
        "files.create_local_upload" => create_upload(shared, store, ctx, None),
        "files.create_remote_upload" => {
            let source = string_field(&data, "source_url").unwrap_or_default();
            let parsed = url::Url::parse(&source)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
            if parsed.is_none() {
                return Err(ApiError::invalid_field(
                    "/data/source_url",
                    "source_url must be an absolute http or https URL",
                ));
            }
            create_upload(shared, store, ctx, Some(source))
        }
        _ => Err(not_implemented(operation)),
    }
}

/// Creates a file for a local upload (with part URLs) or a remote one (fetched now).
fn create_upload(
    shared: &Arc<Shared>,
    store: &mut Store,
    ctx: &Ctx,
    source_url: Option<String>,
) -> Result<Reply, ApiError> {
    let data = ctx.data();
    let parent = asset(store, ctx, ctx.param("folder_id"), &[AssetKind::Folder])?.clone();
    let name = string_field(&data, "name").unwrap_or_default();
    if name.trim().is_empty() {
        return Err(ApiError::invalid_field(
            "/data/name",
            "name must not be empty",
        ));
    }
    let media_type = uploads::media_type_for(&name);
    let id = store.insert_asset(&parent, AssetKind::File, &name, &ctx.user.user_id);

    let Some(source_url) = source_url else {
        let file_size = data
            .get("file_size")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "/data/file_size",
                    "file_size must be a non-negative integer",
                )
            })?;
        let upload = uploads::local_upload(file_size, shared.config.upload_part_size);
        let urls: Vec<Value> = upload
            .part_sizes
            .iter()
            .enumerate()
            .map(|(i, size)| {
                json!({"size": size, "url": format!("{}/_sim/upload/{id}/{i}", ctx.base_url)})
            })
            .collect();
        if let Some(file) = store.assets.get_mut(&id) {
            file.file_size = file_size;
            file.media_type = Some(media_type.to_owned());
            file.upload = upload;
        }
        let mut body = render(store, &id);
        body["upload_urls"] = Value::Array(urls);
        return created(body);
    };

    if let Some(file) = store.assets.get_mut(&id) {
        file.media_type = Some(media_type.to_owned());
    }
    tokio::spawn(uploads::fetch_remote(
        shared.clone(),
        id.clone(),
        source_url,
    ));
    let status = format!("/v4/accounts/{}/files/{id}/status", ctx.account_id());
    Ok(Reply {
        status: StatusCode::ACCEPTED,
        body: Some(json!({"data": render(store, &id), "links": {"status": status}})),
    })
}

pub(super) fn version_stacks(
    store: &mut Store,
    operation: &str,
    ctx: &Ctx,
) -> Result<Reply, ApiError> {
    const STACK: &[AssetKind] = &[AssetKind::VersionStack];
    let id = ctx.param("version_stack_id");
    let data = ctx.data();
    match operation {
        "version_stacks.create" => {
            let folder = asset(store, ctx, ctx.param("folder_id"), &[AssetKind::Folder])?.clone();
            let file_ids = id_list(&data, "file_ids")?;
            for file_id in &file_ids {
                asset(store, ctx, file_id, &[AssetKind::File])?;
            }
            let stack = store.insert_asset(&folder, AssetKind::VersionStack, "", &ctx.user.user_id);
            for file_id in &file_ids {
                if let Some(file) = store.assets.get_mut(file_id) {
                    file.parent_id = Some(stack.clone());
                    file.project_id = folder.project_id.clone();
                }
            }
            let head_name = store.head_version(&stack).map(|h| h.name.clone());
            if let Some(stack_asset) = store.assets.get_mut(&stack) {
                stack_asset.name = head_name.unwrap_or_default();
            }
            let includes = ctx.includes();
            let rendered = store
                .assets
                .get(&stack)
                .map_or(Value::Null, |a| store.asset_json(a, &includes));
            created(rendered)
        }
        "version_stacks.show" => {
            ok(store.asset_json(asset(store, ctx, id, STACK)?, &ctx.includes()))
        }
        "version_stacks.index" => {
            asset(store, ctx, id, STACK)?;
            paginate(children_json(store, id, &[AssetKind::File], ctx), ctx)
        }
        "version_stacks.list" => {
            asset(store, ctx, ctx.param("folder_id"), &[AssetKind::Folder])?;
            paginate(
                children_json(store, ctx.param("folder_id"), STACK, ctx),
                ctx,
            )
        }
        "version_stacks.move" => {
            asset(store, ctx, id, STACK)?;
            move_asset(store, ctx, id, &parent_field(&data)?)?;
            ok(render(store, id))
        }
        "version_stacks.copy" => {
            asset(store, ctx, id, STACK)?;
            let copy = copy_asset(store, ctx, id, string_field(&data, "parent_id"), false)?;
            ok(render(store, &copy))
        }
        _ => Err(not_implemented(operation)),
    }
}
