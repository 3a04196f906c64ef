//! The simulator's in-memory world: accounts, workspaces, projects, assets (folders, files,
//! version stacks), comments, metadata, shares and webhooks, and how each is rendered in
//! Frame.io's JSON shapes.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use crate::auth::ServiceAccount;
use crate::config::Seed;

/// Formats a timestamp as Frame.io does (RFC 3339, UTC).
pub fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A new random id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Creation and modification bookkeeping shared by every entity.
#[derive(Debug, Clone)]
pub struct Stamp {
    /// Creation order, used for stable listing.
    pub seq: u64,
    /// Modification order, used for `updated_at` sorting.
    pub updated_seq: u64,
    /// When the entity was created.
    pub created_at: DateTime<Utc>,
    /// When the entity was last changed.
    pub updated_at: DateTime<Utc>,
}

impl Stamp {
    /// Marks the entity as modified now, with sequence number `seq`.
    pub fn touch(&mut self, seq: u64) {
        self.updated_seq = seq;
        self.updated_at = Utc::now();
    }
}

/// A Frame.io account.
#[derive(Debug, Clone)]
pub struct Account {
    /// The account id.
    pub id: String,
    /// Its display name.
    pub display_name: String,
    /// Bookkeeping.
    pub stamp: Stamp,
}

/// A workspace of an account.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The workspace id.
    pub id: String,
    /// The owning account.
    pub account_id: String,
    /// Its name.
    pub name: String,
    /// The user who created it, if any.
    pub creator_id: Option<String>,
    /// Bookkeeping.
    pub stamp: Stamp,
}

/// A project of a workspace.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project id.
    pub id: String,
    /// The owning account.
    pub account_id: String,
    /// The owning workspace.
    pub workspace_id: String,
    /// Its name.
    pub name: String,
    /// Its root folder.
    pub root_folder_id: String,
    /// Whether it is restricted.
    pub restricted: bool,
    /// The user who created it, if any.
    pub owner_id: Option<String>,
    /// Bookkeeping.
    pub stamp: Stamp,
}

/// The kind of an asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetKind {
    /// A folder.
    Folder,
    /// A file.
    File,
    /// A version stack.
    VersionStack,
}

impl AssetKind {
    /// The `type` value Frame.io uses.
    pub fn as_str(self) -> &'static str {
        match self {
            AssetKind::Folder => "folder",
            AssetKind::File => "file",
            AssetKind::VersionStack => "version_stack",
        }
    }
}

/// Upload progress of a file.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    /// Expected size of each part (local uploads).
    pub part_sizes: Vec<u64>,
    /// Which parts arrived completely.
    pub received: Vec<bool>,
    /// A running FNV-1a digest of each received part.
    pub digests: Vec<u64>,
    /// Whether the upload completed.
    pub complete: bool,
    /// Whether the upload failed.
    pub failed: bool,
    /// When the first byte arrived.
    pub uploaded_at: Option<DateTime<Utc>>,
    /// When the upload completed.
    pub completed_at: Option<DateTime<Utc>>,
}

/// A folder, file or version stack.
#[derive(Debug, Clone)]
pub struct Asset {
    /// The asset id.
    pub id: String,
    /// What it is.
    pub kind: AssetKind,
    /// The owning account.
    pub account_id: String,
    /// The owning project.
    pub project_id: String,
    /// The parent folder or version stack; `None` for a root folder.
    pub parent_id: Option<String>,
    /// Its name.
    pub name: String,
    /// The user who created it, if any.
    pub creator_id: Option<String>,
    /// File size in bytes (files only).
    pub file_size: u64,
    /// Media type (files only).
    pub media_type: Option<String>,
    /// `created`, `uploaded` or `transcoded` (files only).
    pub status: &'static str,
    /// Upload progress (files only).
    pub upload: Upload,
    /// Bookkeeping.
    pub stamp: Stamp,
}

/// How long after its upload completes a file counts as transcoded.
pub const TRANSCODE_DELAY: chrono::TimeDelta = chrono::TimeDelta::seconds(1);

impl Asset {
    /// The file's status: `created` until every part arrived, `uploaded` once they have, and
    /// `transcoded` [`TRANSCODE_DELAY`] later.
    pub fn file_status(&self) -> &'static str {
        match self.upload.completed_at {
            Some(at) if Utc::now() - at >= TRANSCODE_DELAY => "transcoded",
            Some(_) => "uploaded",
            None => self.status,
        }
    }
}

/// A comment on a file.
#[derive(Debug, Clone)]
pub struct Comment {
    /// The comment id.
    pub id: String,
    /// The owning account.
    pub account_id: String,
    /// The file commented on.
    pub file_id: String,
    /// The author.
    pub owner_id: String,
    /// Fields as given at creation and update (text, anchor, annotation, ...).
    pub fields: Map<String, Value>,
    /// When the text was last edited.
    pub text_edited_at: Option<DateTime<Utc>>,
    /// When it was completed, and by whom.
    pub completed: Option<(DateTime<Utc>, String)>,
    /// Bookkeeping.
    pub stamp: Stamp,
}

/// A metadata field definition of an account.
#[derive(Debug, Clone)]
pub struct FieldDefinition {
    /// The definition id.
    pub id: String,
    /// The owning account.
    pub account_id: String,
    /// The field type, e.g. `text`, `number`, `toggle`.
    pub field_type: String,
    /// The field name.
    pub name: String,
    /// The type-specific configuration.
    pub configuration: Value,
    /// Who created it.
    pub creator_id: String,
    /// Bookkeeping.
    pub stamp: Stamp,
}

/// A share of a project.
#[derive(Debug, Clone)]
pub struct Share {
    /// The share id.
    pub id: String,
    /// The owning account.
    pub account_id: String,
    /// The shared project.
    pub project_id: String,
    /// The share's collection id.
    pub collection_id: String,
    /// Settings as given at creation (name, access, flags, ...).
    pub fields: Map<String, Value>,
    /// Shared asset ids, in order.
    pub asset_ids: Vec<String>,
    /// Reviewers, rendered as Frame.io `User`s, in the order they were added.
    pub reviewers: Vec<Value>,
    /// Bookkeeping.
    pub stamp: Stamp,
}

/// A webhook of a workspace.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// The webhook id.
    pub id: String,
    /// The owning account.
    pub account_id: String,
    /// The workspace whose events it receives.
    pub workspace_id: String,
    /// Its name.
    pub name: String,
    /// Where events are delivered.
    pub url: String,
    /// Subscribed event types.
    pub events: Vec<String>,
    /// Whether it is active.
    pub active: bool,
    /// The creator.
    pub creator_id: String,
    /// Bookkeeping.
    pub stamp: Stamp,
}

/// Everything the simulator knows.
#[derive(Debug, Default)]
pub struct Store {
    seq: u64,
    /// Service accounts, by user id.
    pub users: HashMap<String, ServiceAccount>,
    /// Accounts by id.
    pub accounts: HashMap<String, Account>,
    /// Workspaces by id.
    pub workspaces: HashMap<String, Workspace>,
    /// Projects by id.
    pub projects: HashMap<String, Project>,
    /// Folders, files and version stacks by id.
    pub assets: HashMap<String, Asset>,
    /// Comments by id.
    pub comments: HashMap<String, Comment>,
    /// Metadata field definitions by id.
    pub fields: HashMap<String, FieldDefinition>,
    /// Metadata values by (file id, field definition id).
    pub values: HashMap<(String, String), Value>,
    /// Shares by id.
    pub shares: HashMap<String, Share>,
    /// Webhooks by id.
    pub webhooks: HashMap<String, Webhook>,
}

impl Store {
    /// Builds the world described by `seed`.
    pub fn from_seed(seed: &Seed, users: &[ServiceAccount]) -> Store {
        let mut store = Store::default();
        for user in users {
            store.users.insert(user.user_id.clone(), user.clone());
        }
        for account in &seed.accounts {
            let stamp = store.stamp();
            store.accounts.insert(
                account.id.clone(),
                Account {
                    id: account.id.clone(),
                    display_name: account.display_name.clone(),
                    stamp,
                },
            );
            for ws in &account.workspaces {
                let ws_id = ws.id.clone().unwrap_or_else(new_id);
                store.insert_workspace(&account.id, ws_id.clone(), &ws.name, None);
                for project in &ws.projects {
                    let id = project.id.clone().unwrap_or_else(new_id);
                    let root = project.root_folder_id.clone().unwrap_or_else(new_id);
                    store.insert_project(&account.id, &ws_id, id, root, &project.name, None);
                }
            }
        }
        store
    }

    /// A fresh stamp with the next sequence number.
    pub fn stamp(&mut self) -> Stamp {
        self.seq += 1;
        let now = Utc::now();
        Stamp {
            seq: self.seq,
            updated_seq: self.seq,
            created_at: now,
            updated_at: now,
        }
    }

    /// The next sequence number, for [`Stamp::touch`].
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Marks an asset as modified now; unknown ids are ignored.
    pub fn touch_asset(&mut self, id: &str) {
        self.seq += 1;
        let seq = self.seq;
        if let Some(asset) = self.assets.get_mut(id) {
            asset.stamp.touch(seq);
        }
    }

    /// Adds a workspace.
    pub fn insert_workspace(
        &mut self,
        account_id: &str,
        id: String,
        name: &str,
        creator_id: Option<String>,
    ) -> &Workspace {
        let stamp = self.stamp();
        self.workspaces.entry(id.clone()).or_insert(Workspace {
            id,
            account_id: account_id.to_owned(),
            name: name.to_owned(),
            creator_id,
            stamp,
        })
    }

    /// Adds a project with its root folder.
    pub fn insert_project(
        &mut self,
        account_id: &str,
        workspace_id: &str,
        id: String,
        root_folder_id: String,
        name: &str,
        owner_id: Option<String>,
    ) -> &Project {
        let stamp = self.stamp();
        let root = Asset {
            id: root_folder_id.clone(),
            kind: AssetKind::Folder,
            account_id: account_id.to_owned(),
            project_id: id.clone(),
            parent_id: None,
            name: "root".to_owned(),
            creator_id: owner_id.clone(),
            file_size: 0,
            media_type: None,
            status: "created",
            upload: Upload::default(),
            stamp: stamp.clone(),
        };
        self.assets.insert(root_folder_id.clone(), root);
        self.projects.entry(id.clone()).or_insert(Project {
            id,
            account_id: account_id.to_owned(),
            workspace_id: workspace_id.to_owned(),
            name: name.to_owned(),
            root_folder_id,
            restricted: false,
            owner_id,
            stamp,
        })
    }

    /// Adds a new asset under `parent` and returns its id.
    pub fn insert_asset(
        &mut self,
        parent: &Asset,
        kind: AssetKind,
        name: &str,
        creator_id: &str,
    ) -> String {
        let stamp = self.stamp();
        let id = new_id();
        self.assets.insert(
            id.clone(),
            Asset {
                id: id.clone(),
                kind,
                account_id: parent.account_id.clone(),
                project_id: parent.project_id.clone(),
                parent_id: Some(parent.id.clone()),
                name: name.to_owned(),
                creator_id: Some(creator_id.to_owned()),
                file_size: 0,
                media_type: None,
                status: "created",
                upload: Upload::default(),
                stamp,
            },
        );
        id
    }

    /// Direct children of an asset, in creation order.
    pub fn children(&self, parent_id: &str) -> Vec<&Asset> {
        let mut children: Vec<&Asset> = self
            .assets
            .values()
            .filter(|a| a.parent_id.as_deref() == Some(parent_id))
            .collect();
        children.sort_by_key(|a| a.stamp.seq);
        children
    }

    /// The asset and all its descendants' ids.
    pub fn subtree(&self, id: &str) -> Vec<String> {
        let mut found = vec![id.to_owned()];
        let mut i = 0;
        while i < found.len() {
            let current = found[i].clone();
            found.extend(self.children(&current).iter().map(|a| a.id.clone()));
            i += 1;
        }
        found
    }

    /// Removes an asset with its descendants, their comments and metadata values.
    pub fn remove_subtree(&mut self, id: &str) {
        let ids: BTreeSet<String> = self.subtree(id).into_iter().collect();
        self.assets.retain(|k, _| !ids.contains(k));
        self.comments.retain(|_, c| !ids.contains(&c.file_id));
        self.values.retain(|(file, _), _| !ids.contains(file));
        for share in self.shares.values_mut() {
            share.asset_ids.retain(|a| !ids.contains(a));
        }
    }

    /// Copies an asset with its descendants under `new_parent`; returns the new root id.
    pub fn copy_subtree(
        &mut self,
        id: &str,
        new_parent: &str,
        user_id: &str,
        copy_metadata: bool,
        copy_comments: bool,
    ) -> Option<String> {
        let source = self.assets.get(id)?.clone();
        let parent = self.assets.get(new_parent)?.clone();
        let stamp = self.stamp();
        let copy_id = new_id();
        let copy = Asset {
            id: copy_id.clone(),
            account_id: parent.account_id.clone(),
            project_id: parent.project_id.clone(),
            parent_id: Some(parent.id.clone()),
            creator_id: Some(user_id.to_owned()),
            stamp,
            ..source.clone()
        };
        self.assets.insert(copy_id.clone(), copy);

        if copy_metadata {
            let values: Vec<((String, String), Value)> = self
                .values
                .iter()
                .filter(|((file, _), _)| file == id)
                .map(|((_, field), v)| ((copy_id.clone(), field.clone()), v.clone()))
                .collect();
            self.values.extend(values);
        }
        if copy_comments {
            self.copy_comments(id, &copy_id);
        }

        let children: Vec<String> = self.children(id).iter().map(|a| a.id.clone()).collect();
        for child in children {
            self.copy_subtree(&child, &copy_id, user_id, copy_metadata, copy_comments);
        }
        Some(copy_id)
    }

    fn copy_comments(&mut self, from: &str, to: &str) {
        let copies: Vec<Comment> = self
            .comments
            .values()
            .filter(|c| c.file_id == from)
            .cloned()
            .collect();
        for comment in copies {
            let stamp = self.stamp();
            let id = new_id();
            self.comments.insert(
                id.clone(),
                Comment {
                    id,
                    file_id: to.to_owned(),
                    stamp,
                    ..comment
                },
            );
        }
    }

    /// The newest file of a version stack.
    pub fn head_version(&self, stack_id: &str) -> Option<&Asset> {
        self.children(stack_id)
            .into_iter()
            .rfind(|a| a.kind == AssetKind::File)
    }
}

/// Which optional parts a response includes (`include=creator,project,...`).
#[derive(Debug, Clone, Default)]
pub struct Includes {
    items: BTreeSet<String>,
}

impl Includes {
    /// Parses the `include` query parameter.
    pub fn parse(value: Option<&str>) -> Includes {
        Includes {
            items: value
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        }
    }

    /// Whether `name` was asked for.
    pub fn has(&self, name: &str) -> bool {
        self.items.contains(name)
    }

    /// The `media_links.*` entries asked for.
    pub fn media_links(&self) -> Vec<&str> {
        self.items
            .iter()
            .filter_map(|i| i.strip_prefix("media_links."))
            .collect()
    }
}

/// Renders a user as Frame.io's `User`.
pub fn user_json(user: &ServiceAccount) -> Value {
    json!({
        "id": user.user_id,
        "name": user.name,
        "email": user.email,
        "active": true,
        "adobe_user_id": null,
        "avatar_url": null,
    })
}

/// Renders an account.
pub fn account_json(account: &Account) -> Value {
    json!({
        "id": account.id,
        "display_name": account.display_name,
        "adobe_id": null,
        "image": null,
        "mounted_storage_enabled": false,
        "roles": ["admin"],
        "storage_limit": null,
        "storage_usage": 0,
        "created_at": ts(account.stamp.created_at),
        "updated_at": ts(account.stamp.updated_at),
        "v4_migrated_at": ts(account.stamp.created_at),
    })
}

impl Store {
    fn creator_json(&self, user_id: Option<&str>) -> Value {
        user_id
            .and_then(|id| self.users.get(id))
            .map_or(Value::Null, user_json)
    }

    /// Renders a workspace with the asked-for includes.
    pub fn workspace_json(&self, ws: &Workspace, includes: &Includes) -> Value {
        let mut v = json!({
            "id": ws.id,
            "account_id": ws.account_id,
            "name": ws.name,
            "image": null,
            "created_at": ts(ws.stamp.created_at),
            "updated_at": ts(ws.stamp.updated_at),
        });
        if includes.has("creator") {
            v["creator"] = self.creator_json(ws.creator_id.as_deref());
        }
        v
    }

    /// Renders a project with the asked-for includes.
    pub fn project_json(&self, p: &Project, includes: &Includes) -> Value {
        let storage: u64 = self
            .assets
            .values()
            .filter(|a| a.project_id == p.id && a.kind == AssetKind::File)
            .map(|a| a.file_size)
            .sum();
        let mut v = json!({
            "id": p.id,
            "name": p.name,
            "workspace_id": p.workspace_id,
            "root_folder_id": p.root_folder_id,
            "restricted": p.restricted,
            "status": "active",
            "storage": storage,
            "adobe_id": null,
            "image": null,
            "description": null,
            "view_url": format!("https://next.frame.io/project/{}", p.id),
            "created_at": ts(p.stamp.created_at),
            "updated_at": ts(p.stamp.updated_at),
        });
        if includes.has("owner") {
            v["owner"] = self.creator_json(p.owner_id.as_deref());
        }
        v
    }

    /// Renders a folder, file or version stack with the asked-for includes.
    pub fn asset_json(&self, a: &Asset, includes: &Includes) -> Value {
        let mut v = json!({
            "id": a.id,
            "type": a.kind.as_str(),
            "name": a.name,
            "parent_id": a.parent_id,
            "project_id": a.project_id,
            "adobe_id": null,
            "view_url": format!("https://next.frame.io/project/{}/view/{}", a.project_id, a.id),
            "created_at": ts(a.stamp.created_at),
            "updated_at": ts(a.stamp.updated_at),
        });
        match a.kind {
            AssetKind::Folder => {
                v["restricted"] = json!(false);
                v["cover_file_id"] = Value::Null;
            }
            AssetKind::File => {
                v["file_size"] = json!(a.file_size);
                v["media_type"] = json!(a.media_type);
                v["status"] = json!(a.file_status());
                v["adobe_version_id"] = Value::Null;
                let links = includes.media_links();
                if !links.is_empty() {
                    v["media_links"] = self.media_links_json(a, &links);
                }
            }
            AssetKind::VersionStack => {
                v["head_version"] = self
                    .head_version(&a.id)
                    .map_or(Value::Null, |head| self.asset_json(head, includes));
            }
        }
        if includes.has("creator") {
            v["creator"] = self.creator_json(a.creator_id.as_deref());
        }
        if includes.has("project") {
            v["project"] = self
                .projects
                .get(&a.project_id)
                .map_or(Value::Null, |p| self.project_json(p, &Includes::default()));
        }
        if includes.has("metadata") {
            v["metadata"] = Value::Array(self.metadata_fields(a, true));
        }
        v
    }

    /// Media links exist once a file is uploaded; before that they are null.
    fn media_links_json(&self, a: &Asset, links: &[&str]) -> Value {
        let ready = a.file_status() != "created";
        let mut collection = Map::new();
        for link in links {
            let url = format!("https://assets.frame.io.invalid/{}/{link}", a.id);
            let value = match (ready, *link) {
                (false, _) => Value::Null,
                (true, "original") => json!({"download_url": url, "inline_url": url}),
                (true, _) => json!({"download_url": url, "url": url}),
            };
            collection.insert((*link).to_owned(), value);
        }
        Value::Object(collection)
    }

    /// The metadata fields of an asset: every definition of its account with the value set
    /// for it; with `show_null` false, fields without a value are left out.
    pub fn metadata_fields(&self, a: &Asset, show_null: bool) -> Vec<Value> {
        let mut definitions: Vec<&FieldDefinition> = self
            .fields
            .values()
            .filter(|f| f.account_id == a.account_id)
            .collect();
        definitions.sort_by_key(|f| f.stamp.seq);
        definitions
            .into_iter()
            .filter_map(|f| {
                let value = self.values.get(&(a.id.clone(), f.id.clone())).cloned();
                if value.is_none() && !show_null {
                    return None;
                }
                Some(json!({
                    "field_type": f.field_type,
                    "field_definition_id": f.id,
                    "field_definition_name": f.name,
                    "mutable": true,
                    "value": value.unwrap_or_else(|| empty_value(&f.field_type)),
                }))
            })
            .collect()
    }

    /// Renders a comment.
    pub fn comment_json(&self, c: &Comment, includes: &Includes) -> Value {
        let mut v = Value::Object(c.fields.clone());
        let extra = json!({
            "id": c.id,
            "file_id": c.file_id,
            "links": [],
            "mentions": [],
            "timestamp": c.fields.get("timestamp").cloned().unwrap_or(Value::Null),
            "text_edited_at": c.text_edited_at.map(ts),
            "completed_at": c.completed.as_ref().map(|(at, _)| ts(*at)),
            "completer_id": c.completed.as_ref().map(|(_, by)| by.clone()),
            "created_at": ts(c.stamp.created_at),
            "updated_at": ts(c.stamp.updated_at),
        });
        merge(&mut v, extra);
        if let Some(map) = v.as_object_mut() {
            map.remove("completed");
            if map.get("links").is_some_and(|l| !l.is_array()) {
                map.insert("links".to_owned(), json!([]));
            }
        }
        if includes.has("owner") {
            v["owner"] = self.creator_json(Some(&c.owner_id));
        }
        if includes.has("replies") {
            v["replies"] = json!([]);
        }
        v
    }

    /// Renders a metadata field definition.
    pub fn field_json(&self, f: &FieldDefinition, includes: &Includes) -> Value {
        let mut v = json!({
            "id": f.id,
            "field_type": f.field_type,
            "name": f.name,
            "field_configuration": f.configuration,
            "mutable": true,
            "creator_id": f.creator_id,
            "created_at": ts(f.stamp.created_at),
            "updated_at": ts(f.stamp.updated_at),
        });
        if includes.has("creator") {
            v["creator"] = self.creator_json(Some(&f.creator_id));
        }
        v
    }

    /// Renders a share.
    pub fn share_json(&self, s: &Share) -> Value {
        let mut v = Value::Object(s.fields.clone());
        merge(
            &mut v,
            json!({
                "id": s.id,
                "collection_id": s.collection_id,
                "short_url": format!("https://f.io/{}", &s.id[..8]),
                "last_viewed_at": null,
                "created_at": ts(s.stamp.created_at),
                "updated_at": ts(s.stamp.updated_at),
            }),
        );
        v
    }

    /// Renders a webhook (without its secret).
    pub fn webhook_json(&self, w: &Webhook, includes: &Includes) -> Value {
        let mut v = json!({
            "id": w.id,
            "name": w.name,
            "url": w.url,
            "events": w.events,
            "active": w.active,
            "workspace_id": w.workspace_id,
            "created_at": ts(w.stamp.created_at),
            "updated_at": ts(w.stamp.updated_at),
        });
        if includes.has("creator") {
            v["creator"] = self.creator_json(Some(&w.creator_id));
        }
        v
    }
}

/// The value of a metadata field that has none: multi-valued types use an empty list.
fn empty_value(field_type: &str) -> Value {
    match field_type {
        "select" | "select_multi" | "user_multi" | "user_single" | "users" => json!([]),
        _ => Value::Null,
    }
}

/// Copies every key of `extra` into `target`.
pub fn merge(target: &mut Value, extra: Value) {
    if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
        target.extend(extra);
    }
}
