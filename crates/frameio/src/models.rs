//! Resource and request types of the Frame.io V4 API, with the field names of the spec.
//!
//! Responses keep every field they do not name in `extra`, so that nothing Frame.io adds is
//! lost. Timestamps are kept as the RFC 3339 strings Frame.io sends. Request types leave out
//! unset optional fields.

use std::fmt;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Fields a response carried that the type does not name.
pub type Extra = Map<String, Value>;

/// The current user (`users.show`, `GET /v4/me`): for S2S, the service account user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// User id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Avatar image URL.
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A user as embedded in other resources (`include=creator`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// User id.
    #[serde(default)]
    pub id: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// E-mail address.
    pub email: String,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An account the user belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// Account id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// The user's roles in the account (`admin`, `member`, `owner`).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Bytes stored.
    #[serde(default)]
    pub storage_usage: Option<u64>,
    /// Storage limit in bytes.
    #[serde(default)]
    pub storage_limit: Option<u64>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A workspace of an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workspace {
    /// Workspace id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The account it belongs to.
    pub account_id: String,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A project of a workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    /// Project id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The folder at the root of the project.
    pub root_folder_id: String,
    /// The workspace it belongs to.
    pub workspace_id: String,
    /// `active` or `inactive`.
    #[serde(default)]
    pub status: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Folder {
    /// Folder id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The parent folder; `None` for a project's root.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// The project it belongs to.
    pub project_id: String,
    /// Link to the folder in the web app.
    #[serde(default)]
    pub view_url: Option<String>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Other fields (`type`, `restricted`, `cover_file_id`, includes...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct File {
    /// File id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The folder or version stack that holds it.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// The project it belongs to.
    pub project_id: String,
    /// Size in bytes.
    #[serde(default)]
    pub file_size: Option<u64>,
    /// Media type Frame.io assigned (e.g. `video/mp4`).
    #[serde(default)]
    pub media_type: Option<String>,
    /// `created`, `uploaded` or `transcoded`.
    #[serde(default)]
    pub status: Option<String>,
    /// Link to the file in the web app.
    #[serde(default)]
    pub view_url: Option<String>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Media links, when asked for with `include=media_links.*`; entries may be null.
    #[serde(default)]
    pub media_links: Option<Value>,
    /// Metadata fields, when asked for with `include=metadata`.
    #[serde(default)]
    pub metadata: Option<Vec<Value>>,
    /// The creator, when asked for with `include=creator`.
    #[serde(default)]
    pub creator: Option<User>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One pre-signed URL of a local upload and the size of its part.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadUrl {
    /// Bytes of this part.
    pub size: u64,
    /// The pre-signed URL; its query holds a signature, so `Debug` hides it.
    pub url: String,
}

impl fmt::Debug for UploadUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadUrl")
            .field("size", &self.size)
            .field("url", &"[REDACTED]")
            .finish()
    }
}

/// The file a local upload created, with the URLs its parts go to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileWithUploadUrls {
    /// The new file.
    #[serde(flatten)]
    pub file: File,
    /// One URL per part, in byte order.
    #[serde(default)]
    pub upload_urls: Vec<UploadUrl>,
}

/// The upload state of a file (`files.show_file_upload_status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileUploadStatus {
    /// File id.
    pub id: String,
    /// File type.
    #[serde(default)]
    pub filetype: Option<String>,
    /// Whether every part arrived.
    pub upload_complete: bool,
    /// Whether the upload failed.
    pub upload_failed: bool,
    /// When the upload started.
    #[serde(default)]
    pub uploaded_at: Option<String>,
    /// When the upload completed.
    #[serde(default)]
    pub upload_completed_at: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A version stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionStack {
    /// Version stack id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The folder that holds it.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// The project it belongs to.
    pub project_id: String,
    /// The current version.
    #[serde(default)]
    pub head_version: Option<File>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An item of a folder or version stack listing, told apart by its `type`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Asset {
    /// `type: file`.
    File(File),
    /// `type: folder`.
    Folder(Folder),
    /// `type: version_stack`.
    VersionStack(VersionStack),
    /// A type this client does not know yet.
    Other(Value),
}

impl Asset {
    /// The id of the item.
    pub fn id(&self) -> Option<&str> {
        match self {
            Asset::File(file) => Some(&file.id),
            Asset::Folder(folder) => Some(&folder.id),
            Asset::VersionStack(stack) => Some(&stack.id),
            Asset::Other(value) => value.get("id").and_then(Value::as_str),
        }
    }

    /// The name of the item.
    pub fn name(&self) -> Option<&str> {
        match self {
            Asset::File(file) => Some(&file.name),
            Asset::Folder(folder) => Some(&folder.name),
            Asset::VersionStack(stack) => Some(&stack.name),
            Asset::Other(value) => value.get("name").and_then(Value::as_str),
        }
    }
}

impl<'de> Deserialize<'de> for Asset {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;

        let value = Value::deserialize(deserializer)?;
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let asset = match kind {
            "file" => Asset::File(serde_json::from_value(value).map_err(D::Error::custom)?),
            "folder" => Asset::Folder(serde_json::from_value(value).map_err(D::Error::custom)?),
            "version_stack" => {
                Asset::VersionStack(serde_json::from_value(value).map_err(D::Error::custom)?)
            }
            _ => Asset::Other(value),
        };
        Ok(asset)
    }
}

/// The result of copying one file in a bulk copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkFileCopyResult {
    /// The new copy.
    pub file: File,
    /// The file it was copied from.
    pub source_file_id: String,
}

/// A comment on a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    /// Comment id.
    pub id: String,
    /// The file commented on.
    pub file_id: String,
    /// Text.
    pub text: String,
    /// Frame number (from 1) or timecode the comment points at.
    #[serde(default)]
    pub timestamp: Option<Value>,
    /// Completion time, when completed.
    #[serde(default)]
    pub completed_at: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The metadata of a file (`metadata.show`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileMetadata {
    /// The file.
    pub file_id: String,
    /// One entry per field.
    #[serde(default)]
    pub metadata: Vec<MetadataField>,
}

/// One metadata field value of a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetadataField {
    /// The field definition.
    pub field_definition_id: String,
    /// Its name.
    #[serde(default)]
    pub field_definition_name: Option<String>,
    /// Its type (`text`, `select`, ...).
    #[serde(default)]
    pub field_type: Option<String>,
    /// The value, shaped by the type.
    #[serde(default)]
    pub value: Value,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A custom metadata field definition of an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDefinition {
    /// Definition id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Type (`text`, `select`, `number`, ...).
    #[serde(default)]
    pub field_type: Option<String>,
    /// Other fields (`field_configuration`, `mutable`...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A share (review link) of a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    /// Share id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// `public` or `secure`.
    #[serde(default)]
    pub access: Option<String>,
    /// Short URL for reviewers.
    #[serde(default)]
    pub short_url: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A webhook of a workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    /// Webhook id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The URL events are posted to.
    pub url: String,
    /// The events it receives.
    #[serde(default)]
    pub events: Vec<String>,
    /// Whether it is active.
    #[serde(default)]
    pub active: Option<bool>,
    /// The workspace it belongs to.
    #[serde(default)]
    pub workspace_id: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A webhook as created, with its signing secret (returned only once, at creation).
#[derive(Debug, Clone, Deserialize)]
pub struct CreatedWebhook {
    /// The signing secret; `Debug` hides it.
    pub secret: SecretString,
    /// The webhook.
    #[serde(flatten)]
    pub webhook: Webhook,
}

/// Body of `files.move`, `folders.move`, `files.copy`, `folders.copy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ParentParams<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) parent_id: Option<&'a str>,
}

/// Body of calls that only set a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct NameParams<'a> {
    pub(crate) name: &'a str,
}

/// Body of `files.bulk_move` and `files.bulk_copy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct BulkFileParams<'a> {
    pub(crate) file_ids: &'a [String],
    pub(crate) parent_id: &'a str,
}

/// Body of `files.create_local_upload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LocalUploadParams<'a> {
    pub(crate) name: &'a str,
    pub(crate) file_size: u64,
}

/// Body of `files.create_remote_upload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct RemoteUploadParams<'a> {
    pub(crate) name: &'a str,
    pub(crate) source_url: &'a str,
}

/// Body of `version_stacks.create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FileIdsParams<'a> {
    pub(crate) file_ids: &'a [String],
}

/// Body of `shares.add_asset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct AssetIdParams<'a> {
    pub(crate) asset_id: &'a str,
}

/// A point on the frame a comment is anchored at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Anchor {
    /// Horizontal position.
    pub x: f64,
    /// Vertical position.
    pub y: f64,
}

/// Body of `comments.create` (`text` is required).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewComment {
    /// Text.
    pub text: String,
    /// Frame number, starting at 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    /// Duration in frames.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
    /// Page of a document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    /// Anchor point.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor: Option<Anchor>,
    /// Drawing annotation (Frame.io's JSON string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotation: Option<String>,
    /// Whether the comment is marked complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed: Option<bool>,
}

impl NewComment {
    /// A plain comment.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }
}

/// Body of `comments.update`: only set fields change.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CommentUpdate {
    /// New text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// New frame number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    /// Marks the comment complete or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed: Option<bool>,
}

/// One value of a metadata bulk update.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetadataValue {
    /// The field definition.
    pub field_definition_id: String,
    /// The value, shaped by the field's type.
    pub value: Value,
}

/// Body of `metadata.bulk_update`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetadataBulkUpdate {
    /// Files to update (at least one).
    pub file_ids: Vec<String>,
    /// Values to set (at least one).
    pub values: Vec<MetadataValue>,
}

/// Body of `metadata_fields.metadata_field_definitions_create`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewFieldDefinition {
    /// Name.
    pub name: String,
    /// Type: `text`, `long_text`, `number`, `toggle`, `date`, `rating`, `select`, ...
    pub field_type: String,
    /// Type-specific configuration (options of a select...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_configuration: Option<Value>,
}

/// Body of `metadata_fields.metadata_field_definitions_update`: only set fields change.
///
/// `field_type` is sent unchanged: Frame.io picks the schema of the update by it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDefinitionUpdate {
    /// The definition's current type (`text`, `select`, ...).
    pub field_type: String,
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New type-specific configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_configuration: Option<Value>,
}

/// Who can open a share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShareAccess {
    /// Anyone with the link.
    Public,
    /// Invited reviewers only.
    Secure,
}

/// Body of `shares.create` (an asset share).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewShare {
    #[serde(rename = "type")]
    kind: &'static str,
    /// Name.
    pub name: String,
    /// Who can open it.
    pub access: ShareAccess,
    /// Files and folders to share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset_ids: Option<Vec<String>>,
    /// Expiry time (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration: Option<String>,
    /// Whether reviewers may download.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub downloading_enabled: Option<bool>,
    /// Whether reviewers may comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commenting_enabled: Option<bool>,
    /// Description shown to reviewers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl NewShare {
    /// An asset share with the given name and access.
    pub fn new(name: impl Into<String>, access: ShareAccess) -> Self {
        Self {
            kind: "asset",
            name: name.into(),
            access,
            asset_ids: None,
            expiration: None,
            downloading_enabled: None,
            commenting_enabled: None,
            description: None,
        }
    }

    /// Shares these files and folders.
    pub fn with_assets(mut self, asset_ids: Vec<String>) -> Self {
        self.asset_ids = Some(asset_ids);
        self
    }
}

/// Reviewers to add to a share, by any of the ways Frame.io knows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reviewers {
    /// E-mail addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<String>>,
    /// Frame.io user ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_ids: Option<Vec<String>>,
    /// Adobe user ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adobe_user_ids: Option<Vec<String>>,
}

/// Body of `shares.add_reviewers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddReviewers {
    /// Message sent with the invitation.
    pub message: String,
    /// Whether to e-mail the reviewers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_by_email: Option<bool>,
    /// The reviewers.
    pub reviewers: Reviewers,
}

/// Body of `shares.remove_reviewers`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RemoveReviewers {
    /// The reviewers to remove.
    pub reviewers: Reviewers,
}

/// Body of `webhooks.create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewWebhook {
    /// Name.
    pub name: String,
    /// The URL events are posted to.
    pub url: String,
    /// Events, e.g. `file.ready`.
    pub events: Vec<String>,
}

/// Body of `webhooks.update`: only set fields change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WebhookUpdate {
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// New events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    /// Activates or deactivates it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_told_apart_by_type() {
        let json = r#"[
            {"type":"file","id":"f","name":"a.mp4","project_id":"p","file_size":3},
            {"type":"folder","id":"d","name":"dir","project_id":"p"},
            {"type":"version_stack","id":"v","name":"vs","project_id":"p"},
            {"type":"hologram","id":"h"}
        ]"#;

        let assets: Vec<Asset> = serde_json::from_str(json).unwrap();

        assert!(matches!(&assets[0], Asset::File(f) if f.file_size == Some(3)));
        assert!(matches!(&assets[1], Asset::Folder(f) if f.name == "dir"));
        assert!(matches!(&assets[2], Asset::VersionStack(v) if v.id == "v"));
        assert_eq!(assets[3].id(), Some("h"));
    }

    #[test]
    fn webhook_secret_and_upload_urls_are_hidden_from_debug() {
        let json = r#"{"id":"w","name":"n","url":"https://x","events":[],"secret":"s3cr3t"}"#;
        let created: CreatedWebhook = serde_json::from_str(json).unwrap();
        let url = UploadUrl {
            size: 1,
            url: "https://s3/x?X-Amz-Signature=abc".into(),
        };

        assert!(!format!("{created:?}").contains("s3cr3t"));
        assert!(!format!("{url:?}").contains("Signature"));
    }

    #[test]
    fn unset_options_are_left_out_of_requests() {
        let body = serde_json::to_value(NewShare::new("review", ShareAccess::Public)).unwrap();

        assert_eq!(
            body,
            serde_json::json!({"type":"asset","name":"review","access":"public"})
        );
    }
}
