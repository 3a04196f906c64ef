//! The Frame.io operations the simulator implements, keyed by the operation ids of the
//! OpenAPI description, with cursor pagination shared by every list.
//!
//! Requests reach [`handle`] authenticated, admitted by the limiter and with a body that
//! validates against the operation's request schema, so handlers check only what a schema
//! cannot: that ids exist, belong to the account in the path, and fit together.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use crate::auth::ServiceAccount;
use crate::error::ApiError;
use crate::server::{lock, Shared};
use crate::store::{account_json, Includes, Store};

mod assets;
mod collaboration;

/// Every operation id the simulator serves; other operations of the description answer
/// 501 Not Implemented.
pub const OPERATIONS: &[&str] = &[
    "users.show",
    "accounts.index",
    "workspaces.index",
    "workspaces.show",
    "projects.index",
    "projects.account_projects_index",
    "projects.show",
    "folders.show",
    "folders.index",
    "folders.list",
    "folders.create",
    "folders.update",
    "folders.delete",
    "folders.move",
    "folders.copy",
    "folders.bulk_move",
    "folders.bulk_copy",
    "files.show",
    "files.list",
    "files.update",
    "files.delete",
    "files.move",
    "files.copy",
    "files.bulk_move",
    "files.bulk_copy",
    "files.show_file_upload_status",
    "files.create_local_upload",
    "files.create_remote_upload",
    "version_stacks.create",
    "version_stacks.show",
    "version_stacks.index",
    "version_stacks.list",
    "version_stacks.move",
    "version_stacks.copy",
    "comments.index",
    "comments.create",
    "comments.show",
    "comments.update",
    "comments.delete",
    "metadata.show",
    "metadata.bulk_update",
    "metadata_fields.metadata_field_definitions_index",
    "metadata_fields.metadata_field_definitions_create",
    "metadata_fields.metadata_field_definitions_update",
    "metadata_fields.metadata_field_definitions_delete",
    "shares.create",
    "shares.index",
    "shares.show",
    "shares.update",
    "shares.delete",
    "shares.add_asset",
    "shares.remove_asset",
    "shares.list_assets",
    "shares.add_reviewers",
    "shares.list_reviewers",
    "shares.remove_reviewers",
    "webhooks.create",
    "webhooks.index",
    "webhooks.show",
    "webhooks.update",
    "webhooks.delete",
];

/// Default and largest page sizes, from Frame.io's guide.
const DEFAULT_PAGE_SIZE: usize = 50;
const MAX_PAGE_SIZE: usize = 100;

/// Largest number of ids in one bulk move or copy.
const MAX_BULK: usize = 100;

/// One request, as a handler sees it.
pub(crate) struct Ctx {
    /// The service account user making the request.
    pub(crate) user: ServiceAccount,
    /// The request path.
    pub(crate) path: String,
    /// Path parameters by name.
    pub(crate) params: HashMap<String, String>,
    /// Query parameters by name.
    pub(crate) query: HashMap<String, String>,
    /// The validated JSON body, if any.
    pub(crate) body: Option<Value>,
    /// The base URL the client reached the simulator under.
    pub(crate) base_url: String,
}

impl Ctx {
    fn param(&self, name: &str) -> &str {
        self.params.get(name).map_or("", String::as_str)
    }

    fn account_id(&self) -> &str {
        self.param("account_id")
    }

    /// The `data` object of the body (empty when absent).
    fn data(&self) -> Map<String, Value> {
        self.body
            .as_ref()
            .and_then(|b| b.get("data"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }

    fn includes(&self) -> Includes {
        Includes::parse(self.query.get("include").map(String::as_str))
    }

    /// A boolean query parameter; absent means false.
    fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.query.get(name).map(String::as_str) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(ApiError::invalid_parameter(
                name,
                format!("{name} must be true or false, not {other:?}"),
            )),
        }
    }
}

/// A successful answer: status and optional JSON body.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Option<Value>,
}

fn ok(data: Value) -> Result<Reply, ApiError> {
    reply(StatusCode::OK, data)
}

fn created(data: Value) -> Result<Reply, ApiError> {
    reply(StatusCode::CREATED, data)
}

fn reply(status: StatusCode, data: Value) -> Result<Reply, ApiError> {
    Ok(Reply {
        status,
        body: Some(json!({ "data": data })),
    })
}

fn no_content() -> Result<Reply, ApiError> {
    Ok(Reply {
        status: StatusCode::NO_CONTENT,
        body: None,
    })
}

/// Runs one operation.
pub(crate) fn handle(shared: &Arc<Shared>, operation: &str, ctx: Ctx) -> Result<Reply, ApiError> {
    let mut guard = lock(&shared.store);
    let store = &mut *guard;
    if ctx.params.contains_key("account_id") {
        check_account(store, &ctx)?;
    }
    let family = operation.split('.').next().unwrap_or_default();
    match family {
        "users" | "accounts" | "workspaces" | "projects" => account_level(store, operation, &ctx),
        "folders" => assets::folders(store, operation, &ctx),
        "files" => assets::files(shared, store, operation, &ctx),
        "version_stacks" => assets::version_stacks(store, operation, &ctx),
        "comments" => collaboration::comments(store, operation, &ctx),
        "metadata" | "metadata_fields" => collaboration::metadata(store, operation, &ctx),
        "shares" => collaboration::shares(store, operation, &ctx),
        "webhooks" => collaboration::webhooks(store, operation, &ctx),
        _ => Err(not_implemented(operation)),
    }
}

fn not_implemented(operation: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "Not Implemented",
        format!("the simulator does not implement {operation}"),
    )
}

/// The account in the path must exist and the user must belong to it.
fn check_account(store: &Store, ctx: &Ctx) -> Result<(), ApiError> {
    let id = ctx.account_id();
    if !store.accounts.contains_key(id) {
        return Err(ApiError::not_found("Account", id));
    }
    if !ctx.user.accounts.iter().any(|a| a == id) {
        return Err(ApiError::forbidden(format!("no access to account {id}")));
    }
    Ok(())
}

// === users, accounts, workspaces, projects ===

fn account_level(store: &mut Store, operation: &str, ctx: &Ctx) -> Result<Reply, ApiError> {
    let includes = ctx.includes();
    match operation {
        "users.show" => ok(json!({
            "id": ctx.user.user_id,
            "name": ctx.user.name,
            "email": ctx.user.email,
            "avatar_url": null,
        })),
        "accounts.index" => {
            let mut accounts: Vec<_> = store
                .accounts
                .values()
                .filter(|a| ctx.user.accounts.contains(&a.id))
                .collect();
            accounts.sort_by_key(|a| a.stamp.seq);
            paginate(accounts.into_iter().map(account_json).collect(), ctx)
        }
        "workspaces.index" => {
            let mut list: Vec<_> = store
                .workspaces
                .values()
                .filter(|w| w.account_id == ctx.account_id())
                .collect();
            list.sort_by_key(|w| w.stamp.seq);
            let items = list
                .iter()
                .map(|w| store.workspace_json(w, &includes))
                .collect();
            paginate(items, ctx)
        }
        "workspaces.show" => {
            let ws = workspace(store, ctx, ctx.param("workspace_id"))?;
            ok(store.workspace_json(ws, &includes))
        }
        "projects.index" | "projects.account_projects_index" => {
            let workspace_id = if operation == "projects.index" {
                Some(workspace(store, ctx, ctx.param("workspace_id"))?.id.clone())
            } else {
                None
            };
            let mut list: Vec<_> = store
                .projects
                .values()
                .filter(|p| p.account_id == ctx.account_id())
                .filter(|p| workspace_id.as_ref().is_none_or(|w| *w == p.workspace_id))
                .collect();
            list.sort_by_key(|p| p.stamp.seq);
            let items = list
                .iter()
                .map(|p| store.project_json(p, &includes))
                .collect();
            paginate(items, ctx)
        }
        "projects.show" => {
            let id = ctx.param("project_id");
            let project = store
                .projects
                .get(id)
                .filter(|p| p.account_id == ctx.account_id())
                .ok_or_else(|| ApiError::not_found("Project", id))?;
            ok(store.project_json(project, &includes))
        }
        _ => Err(not_implemented(operation)),
    }
}

fn workspace<'s>(
    store: &'s Store,
    ctx: &Ctx,
    id: &str,
) -> Result<&'s crate::store::Workspace, ApiError> {
    store
        .workspaces
        .get(id)
        .filter(|w| w.account_id == ctx.account_id())
        .ok_or_else(|| ApiError::not_found("Workspace", id))
}

fn project<'s>(
    store: &'s Store,
    ctx: &Ctx,
    id: &str,
) -> Result<&'s crate::store::Project, ApiError> {
    store
        .projects
        .get(id)
        .filter(|p| p.account_id == ctx.account_id())
        .ok_or_else(|| ApiError::not_found("Project", id))
}

// === pagination ===

/// One page of `items` as Frame.io lists it: `data`, `links.next` (the path with only the
/// `after` cursor, as Frame.io builds it) and `total_count` when asked for.
fn paginate(mut items: Vec<Value>, ctx: &Ctx) -> Result<Reply, ApiError> {
    if let Some(sort) = ctx.query.get("sort") {
        sort_items(&mut items, sort)?;
    }
    let page_size = match ctx.query.get("page_size") {
        None => DEFAULT_PAGE_SIZE,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| {
                ApiError::invalid_parameter(
                    "page_size",
                    format!("page_size must be an integer from 1 to {MAX_PAGE_SIZE}"),
                )
            })?,
    };
    let offset = match ctx.query.get("after") {
        None => 0,
        Some(cursor) => decode_cursor(cursor)
            .ok_or_else(|| ApiError::invalid_parameter("after", "invalid cursor"))?,
    };
    let include_total = ctx.flag("include_total_count")?;

    let total = items.len();
    let start = offset.min(total);
    let end = (start + page_size).min(total);
    let next = (end < total).then(|| format!("{}?after={}", ctx.path, encode_cursor(end)));
    let page: Vec<Value> = items.drain(start..end).collect();
    Ok(Reply {
        status: StatusCode::OK,
        body: Some(json!({
            "data": page,
            "links": {"next": next},
            "total_count": include_total.then_some(total),
        })),
    })
}

/// Sorts by `<field>_asc` or `<field>_desc`; ties keep creation order.
fn sort_items(items: &mut [Value], sort: &str) -> Result<(), ApiError> {
    let (field, descending) = if let Some(field) = sort.strip_suffix("_asc") {
        (field, false)
    } else if let Some(field) = sort.strip_suffix("_desc") {
        (field, true)
    } else {
        ("", false)
    };
    if !matches!(field, "name" | "created_at" | "updated_at" | "file_size") {
        return Err(ApiError::invalid_parameter(
            "sort",
            format!("unknown sort {sort:?}"),
        ));
    }
    items.sort_by(|a, b| {
        let ordering = match field {
            "file_size" => {
                let size = |v: &Value| v.get("file_size").and_then(Value::as_u64).unwrap_or(0);
                size(a).cmp(&size(b))
            }
            _ => {
                let text = |v: &Value| {
                    v.get(field)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned()
                };
                text(a).cmp(&text(b))
            }
        };
        if descending {
            ordering.reverse()
        } else {
            ordering
        }
    });
    Ok(())
}

/// Cursors are opaque to clients: the hex form of `o:<offset>`.
fn encode_cursor(offset: usize) -> String {
    format!("o:{offset}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    if !cursor.len().is_multiple_of(2) || !cursor.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&cursor[i..i + 2], 16).ok())
        .collect();
    String::from_utf8(bytes?)
        .ok()?
        .strip_prefix("o:")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        for offset in [0, 1, 50, 12_345] {
            assert_eq!(decode_cursor(&encode_cursor(offset)), Some(offset));
        }
        assert_eq!(decode_cursor("zz"), None);
        assert_eq!(decode_cursor("6f3a"), None);
        assert_eq!(decode_cursor("abc"), None);
    }

    #[test]
    fn every_operation_is_in_the_description_and_the_limit_table() {
        let spec = crate::spec::Spec::global();
        let limits = crate::limits::published_limits();
        for operation in OPERATIONS {
            assert!(spec.operation(operation).is_some(), "{operation}");
            assert!(
                limits.contains_key(*operation),
                "{operation} has no published limit"
            );
        }
    }
}
