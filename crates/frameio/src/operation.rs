//! The Frame.io V4 operations, named by their `operationId`.
//!
//! Every request the client sends is labelled by an [`Operation`], so that rate limiters and
//! metrics can key on (account, operation). The table below mirrors
//! `spec/frameio/endpoints-v4.tsv` (one row per operation with its published rate limit); a
//! test keeps the two in step.

use std::fmt;
use std::time::Duration;

/// The rate limit that Frame.io publishes for one operation: `requests` per `per`.
///
/// Frame.io enforces it per service account user with a leaky bucket; the live values arrive in
/// the `x-ratelimit-*` headers of every response (see [`crate::RateLimit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublishedLimit {
    /// Requests allowed in one window.
    pub requests: u32,
    /// Length of the window.
    pub per: Duration,
}

/// HTTP method of an operation, kept small so that the table stays `const`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
    /// `PUT`
    Put,
}

impl Method {
    /// The method as reqwest expects it.
    pub fn as_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
            Method::Put => reqwest::Method::PUT,
        }
    }

    /// The method's name in upper case, as in the endpoint table.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Put => "PUT",
        }
    }
}

/// One Frame.io V4 operation (plus the two calls the client makes outside the V4 API: the
/// IMS token request and the PUT of an upload part to its pre-signed URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Operation {
    /// `account_permissions.account_user_roles_update`: PATCH
    /// `/v4/accounts/{account_id}/users/{user_id}` (Update user role for the account).
    AccountPermissionsAccountUserRolesUpdate,
    /// `accounts.auditlog_index`: GET `/v4/accounts/{account_id}/audit_logs` (List audit logs with
    /// filtering capabilities via query params).
    AccountsAuditlogIndex,
    /// `accounts.index`: GET `/v4/accounts` (List accounts for the current user).
    AccountsIndex,
    /// `collections.index`: GET `/v4/accounts/{account_id}/projects/{project_id}/collections` (List
    /// collections for a project).
    CollectionsIndex,
    /// `collections.show`: GET `/v4/accounts/{account_id}/collections/{collection_id}` (Show
    /// collection details).
    CollectionsShow,
    /// `comments.create`: POST `/v4/accounts/{account_id}/files/{file_id}/comments` (Create a
    /// comment on a file).
    CommentsCreate,
    /// `comments.create_attachment`: POST
    /// `/v4/accounts/{account_id}/comments/{comment_id}/attachments` (Create an attachment for an
    /// existing comment).
    CommentsCreateAttachment,
    /// `comments.delete`: DELETE `/v4/accounts/{account_id}/comments/{comment_id}` (Delete comment
    /// from an asset).
    CommentsDelete,
    /// `comments.delete_attachment`: DELETE
    /// `/v4/accounts/{account_id}/comments/{comment_id}/attachments/{attachment_id}` (Delete an
    /// attachment from a comment).
    CommentsDeleteAttachment,
    /// `comments.index`: GET `/v4/accounts/{account_id}/files/{file_id}/comments` (List comments on
    /// a given asset).
    CommentsIndex,
    /// `comments.show`: GET `/v4/accounts/{account_id}/comments/{comment_id}` (Show a single
    /// comment on a file).
    CommentsShow,
    /// `comments.update`: PATCH `/v4/accounts/{account_id}/comments/{comment_id}` (Update comment
    /// on given asset).
    CommentsUpdate,
    /// `custom_actions.actions_create`: POST
    /// `/v4/accounts/{account_id}/workspaces/{workspace_id}/actions` (Create a custom action in a
    /// workspace).
    CustomActionsActionsCreate,
    /// `custom_actions.actions_delete`: DELETE `/v4/accounts/{account_id}/actions/{action_id}`
    /// (Delete a custom action).
    CustomActionsActionsDelete,
    /// `custom_actions.actions_index`: GET
    /// `/v4/accounts/{account_id}/workspaces/{workspace_id}/actions` (List actions in a given
    /// workspace).
    CustomActionsActionsIndex,
    /// `custom_actions.actions_show`: GET `/v4/accounts/{account_id}/actions/{action_id}` (Show
    /// custom action details).
    CustomActionsActionsShow,
    /// `custom_actions.actions_update`: PATCH `/v4/accounts/{account_id}/actions/{action_id}`
    /// (Update custom action details).
    CustomActionsActionsUpdate,
    /// `files.bulk_copy`: POST `/v4/accounts/{account_id}/files/copy` (Copy a set of files to a
    /// single destination folder).
    FilesBulkCopy,
    /// `files.bulk_move`: PATCH `/v4/accounts/{account_id}/files/move` (Move a set of files to a
    /// single destination folder).
    FilesBulkMove,
    /// `files.copy`: POST `/v4/accounts/{account_id}/files/{file_id}/copy` (Copy file).
    FilesCopy,
    /// `files.create`: POST `/v4/accounts/{account_id}/folders/{folder_id}/files` (Create new file
    /// under parent folder. `Create file (local upload)` and `Create file (remote upload)` have
    /// replaced this endpoint).
    FilesCreate,
    /// `files.create_local_upload`: POST
    /// `/v4/accounts/{account_id}/folders/{folder_id}/files/local_upload` (Create new file under
    /// parent folder through local upload).
    FilesCreateLocalUpload,
    /// `files.create_remote_upload`: POST
    /// `/v4/accounts/{account_id}/folders/{folder_id}/files/remote_upload` (Create new file under
    /// parent folder through remote upload).
    FilesCreateRemoteUpload,
    /// `files.delete`: DELETE `/v4/accounts/{account_id}/files/{file_id}` (Delete file by ID).
    FilesDelete,
    /// `files.import_file`: POST `/v4/accounts/{account_id}/folders/{folder_id}/files/import`
    /// (Import a file from a storage location configured on the account).
    FilesImportFile,
    /// `files.list`: GET `/v4/accounts/{account_id}/folders/{folder_id}/files` (List files in a
    /// given folder).
    FilesList,
    /// `files.move`: PATCH `/v4/accounts/{account_id}/files/{file_id}/move` (Move file to a folder
    /// or version_stack).
    FilesMove,
    /// `files.show`: GET `/v4/accounts/{account_id}/files/{file_id}` (Show file details).
    FilesShow,
    /// `files.show_file_upload_status`: GET `/v4/accounts/{account_id}/files/{file_id}/status`
    /// (Show file upload status details).
    FilesShowFileUploadStatus,
    /// `files.update`: PATCH `/v4/accounts/{account_id}/files/{file_id}` (Update file details).
    FilesUpdate,
    /// `folder_permissions.delete`: DELETE
    /// `/v4/accounts/{account_id}/folders/{folder_id}/users/{user_id}` (Remove a user from a given
    /// folder).
    FolderPermissionsDelete,
    /// `folder_permissions.folder_user_roles_index`: GET
    /// `/v4/accounts/{account_id}/folders/{folder_id}/users` (List user roles for a given folder).
    FolderPermissionsFolderUserRolesIndex,
    /// `folder_permissions.folder_user_roles_update`: PATCH
    /// `/v4/accounts/{account_id}/folders/{folder_id}/users/{user_id}` (Update user roles for the
    /// given folder if the user is already added to the folder. If the user is).
    FolderPermissionsFolderUserRolesUpdate,
    /// `folders.bulk_copy`: POST `/v4/accounts/{account_id}/folders/copy` (Copy a set of folders to
    /// a single destination folder).
    FoldersBulkCopy,
    /// `folders.bulk_move`: PATCH `/v4/accounts/{account_id}/folders/move` (Move a set of folders
    /// to a single destination folder).
    FoldersBulkMove,
    /// `folders.copy`: POST `/v4/accounts/{account_id}/folders/{folder_id}/copy` (Copy folder).
    FoldersCopy,
    /// `folders.create`: POST `/v4/accounts/{account_id}/folders/{folder_id}/folders` (Create a new
    /// folder inside the given <i>folder_id</i> path param).
    FoldersCreate,
    /// `folders.delete`: DELETE `/v4/accounts/{account_id}/folders/{folder_id}` (Delete folder by
    /// id).
    FoldersDelete,
    /// `folders.index`: GET `/v4/accounts/{account_id}/folders/{folder_id}/children` (List the
    /// children in the given folder).
    FoldersIndex,
    /// `folders.list`: GET `/v4/accounts/{account_id}/folders/{folder_id}/folders` (List folders in
    /// a given folder).
    FoldersList,
    /// `folders.move`: PATCH `/v4/accounts/{account_id}/folders/{folder_id}/move` (Move folder to a
    /// folder).
    FoldersMove,
    /// `folders.show`: GET `/v4/accounts/{account_id}/folders/{folder_id}` (Show folder details).
    FoldersShow,
    /// `folders.update`: PATCH `/v4/accounts/{account_id}/folders/{folder_id}` (Update folder
    /// details).
    FoldersUpdate,
    /// `groups.create`: POST `/v4/accounts/{account_id}/groups` (Create group for the current
    /// account).
    GroupsCreate,
    /// `groups.index`: GET `/v4/accounts/{account_id}/groups` (List groups in account).
    GroupsIndex,
    /// `groups.show`: GET `/v4/accounts/{account_id}/groups/{group_id}` (Show group details).
    GroupsShow,
    /// `groups.update`: PATCH `/v4/accounts/{account_id}/groups/{group_id}` (Update group details).
    GroupsUpdate,
    /// `metadata.bulk_update`: PATCH
    /// `/v4/accounts/{account_id}/projects/{project_id}/metadata/values` (Update metadata values
    /// across multiple files).
    MetadataBulkUpdate,
    /// `metadata.show`: GET `/v4/accounts/{account_id}/files/{file_id}/metadata` (Show the metadata
    /// of a file).
    MetadataShow,
    /// `metadata_fields.metadata_field_definitions_create`: POST
    /// `/v4/accounts/{account_id}/metadata/field_definitions` (Create account level field
    /// definitions).
    MetadataFieldsMetadataFieldDefinitionsCreate,
    /// `metadata_fields.metadata_field_definitions_delete`: DELETE
    /// `/v4/accounts/{account_id}/metadata/field_definitions/{field_definition_id}` (Delete account
    /// level custom field definitions).
    MetadataFieldsMetadataFieldDefinitionsDelete,
    /// `metadata_fields.metadata_field_definitions_index`: GET
    /// `/v4/accounts/{account_id}/metadata/field_definitions` (List account level field
    /// definitions).
    MetadataFieldsMetadataFieldDefinitionsIndex,
    /// `metadata_fields.metadata_field_definitions_update`: PATCH
    /// `/v4/accounts/{account_id}/metadata/field_definitions/{field_definition_id}` (Update account
    /// level custom field definitions).
    MetadataFieldsMetadataFieldDefinitionsUpdate,
    /// `project_permissions.delete`: DELETE
    /// `/v4/accounts/{account_id}/projects/{project_id}/users/{user_id}` (Remove a user from a
    /// given project).
    ProjectPermissionsDelete,
    /// `project_permissions.index`: GET `/v4/accounts/{account_id}/projects/{project_id}/users`
    /// (List user roles for a given project).
    ProjectPermissionsIndex,
    /// `project_permissions.project_user_roles_update`: PATCH
    /// `/v4/accounts/{account_id}/projects/{project_id}/users/{user_id}` (Update user roles for the
    /// given project if the user is already added to the project. If the user is).
    ProjectPermissionsProjectUserRolesUpdate,
    /// `projects.account_projects_index`: GET `/v4/accounts/{account_id}/projects` (List all
    /// projects the authenticated user has access to within the specified account).
    ProjectsAccountProjectsIndex,
    /// `projects.create`: POST `/v4/accounts/{account_id}/workspaces/{workspace_id}/projects`
    /// (Create project in a given workspace).
    ProjectsCreate,
    /// `projects.delete`: DELETE `/v4/accounts/{account_id}/projects/{project_id}` (Delete a
    /// project).
    ProjectsDelete,
    /// `projects.index`: GET `/v4/accounts/{account_id}/workspaces/{workspace_id}/projects` (List
    /// projects in a given workspace).
    ProjectsIndex,
    /// `projects.invited_projects_index`: GET `/v4/accounts/{account_id}/invited_projects` (List
    /// projects that the current user has been invited to within the specified account,).
    ProjectsInvitedProjectsIndex,
    /// `projects.recently_deleted`: GET
    /// `/v4/accounts/{account_id}/projects/{project_id}/recently_deleted` (List all recently
    /// deleted assets (files, folders, and version stacks) in a project. Returns a flat list
    /// ordered by deletion time (most recent first)).
    ProjectsRecentlyDeleted,
    /// `projects.show`: GET `/v4/accounts/{account_id}/projects/{project_id}` (Show project
    /// details).
    ProjectsShow,
    /// `projects.update`: PATCH `/v4/accounts/{account_id}/projects/{project_id}` (Update project
    /// details).
    ProjectsUpdate,
    /// `search.search`: POST `/v4/accounts/{account_id}/search` (Search across assets, folders, and
    /// projects within an account).
    SearchSearch,
    /// `shares.add_asset`: POST `/v4/accounts/{account_id}/shares/{share_id}/assets` (Add new asset
    /// share).
    SharesAddAsset,
    /// `shares.add_reviewers`: POST `/v4/accounts/{account_id}/shares/{share_id}/reviewers` (For
    /// secure shares, adds the specified users as reviewers).
    SharesAddReviewers,
    /// `shares.create`: POST `/v4/accounts/{account_id}/projects/{project_id}/shares` (Create
    /// share).
    SharesCreate,
    /// `shares.delete`: DELETE `/v4/accounts/{account_id}/shares/{share_id}` (Delete a share).
    SharesDelete,
    /// `shares.index`: GET `/v4/accounts/{account_id}/projects/{project_id}/shares` (List shares on
    /// a project).
    SharesIndex,
    /// `shares.list_activities`: GET `/v4/accounts/{account_id}/shares/{share_id}/activities` (List
    /// all activity events for a share).
    SharesListActivities,
    /// `shares.list_assets`: GET `/v4/accounts/{account_id}/shares/{share_id}/assets` (List the
    /// assets included in a share as a recursively flat list. The response includes every direct
    /// member of the share's collection (files, folders, and version stacks), plus every descendant
    /// of any shared folder or version stack — expanded into its own row in the flat list).
    SharesListAssets,
    /// `shares.list_reviewers`: GET `/v4/accounts/{account_id}/shares/{share_id}/reviewers` (List
    /// share reviewers).
    SharesListReviewers,
    /// `shares.remove_asset`: DELETE
    /// `/v4/accounts/{account_id}/shares/{share_id}/assets/{asset_id}` (Remove an asset currently
    /// in the share from that share).
    SharesRemoveAsset,
    /// `shares.remove_reviewers`: DELETE `/v4/accounts/{account_id}/shares/{share_id}/reviewers`
    /// (Removes reviewers from secure Share by three identifier types: `adobe_user_id`, `email`,
    /// and `user_id`).
    SharesRemoveReviewers,
    /// `shares.show`: GET `/v4/accounts/{account_id}/shares/{share_id}` (Show a single Share).
    SharesShow,
    /// `shares.update`: PATCH `/v4/accounts/{account_id}/shares/{share_id}` (Update share).
    SharesUpdate,
    /// `users.account_permissions_index`: GET `/v4/accounts/{account_id}/users` (List user roles
    /// for a given account).
    UsersAccountPermissionsIndex,
    /// `users.show`: GET `/v4/me` (Inspect details of the user associated with the bearer token).
    UsersShow,
    /// `version_stacks.copy`: POST
    /// `/v4/accounts/{account_id}/version_stacks/{version_stack_id}/copy` (Copy version stack).
    VersionStacksCopy,
    /// `version_stacks.create`: POST `/v4/accounts/{account_id}/folders/{folder_id}/version_stacks`
    /// (Create a new Version Stack under the parent folder).
    VersionStacksCreate,
    /// `version_stacks.index`: GET
    /// `/v4/accounts/{account_id}/version_stacks/{version_stack_id}/children` (List the children
    /// (files) in a given version stack).
    VersionStacksIndex,
    /// `version_stacks.list`: GET `/v4/accounts/{account_id}/folders/{folder_id}/version_stacks`
    /// (List version stacks in a given folder).
    VersionStacksList,
    /// `version_stacks.move`: PATCH
    /// `/v4/accounts/{account_id}/version_stacks/{version_stack_id}/move` (Move version stack to a
    /// folder).
    VersionStacksMove,
    /// `version_stacks.show`: GET `/v4/accounts/{account_id}/version_stacks/{version_stack_id}`
    /// (Show version stack details).
    VersionStacksShow,
    /// `webhooks.create`: POST `/v4/accounts/{account_id}/workspaces/{workspace_id}/webhooks`
    /// (Creates a single webhook with secret).
    WebhooksCreate,
    /// `webhooks.delete`: DELETE `/v4/accounts/{account_id}/webhooks/{webhook_id}` (Delete a
    /// webhook).
    WebhooksDelete,
    /// `webhooks.index`: GET `/v4/accounts/{account_id}/workspaces/{workspace_id}/webhooks` (List
    /// webhooks for the given workspace).
    WebhooksIndex,
    /// `webhooks.show`: GET `/v4/accounts/{account_id}/webhooks/{webhook_id}` (Show webhook
    /// details).
    WebhooksShow,
    /// `webhooks.update`: PATCH `/v4/accounts/{account_id}/webhooks/{webhook_id}` (Update webhook
    /// details).
    WebhooksUpdate,
    /// `workspace_permissions.index`: GET
    /// `/v4/accounts/{account_id}/workspaces/{workspace_id}/users` (List user roles for a given
    /// workspace).
    WorkspacePermissionsIndex,
    /// `workspace_permissions.workspace_user_roles_delete`: DELETE
    /// `/v4/accounts/{account_id}/workspaces/{workspace_id}/users/{user_id}` (Remove a user from a
    /// given workspace).
    WorkspacePermissionsWorkspaceUserRolesDelete,
    /// `workspace_permissions.workspace_user_roles_update`: PATCH
    /// `/v4/accounts/{account_id}/workspaces/{workspace_id}/users/{user_id}` (Update user roles for
    /// the given workspace if the user is already added to the workspace. If the user is).
    WorkspacePermissionsWorkspaceUserRolesUpdate,
    /// `workspaces.create`: POST `/v4/accounts/{account_id}/workspaces` (Create workspace from an
    /// account).
    WorkspacesCreate,
    /// `workspaces.delete`: DELETE `/v4/accounts/{account_id}/workspaces/{workspace_id}` (Delete
    /// workspace from account).
    WorkspacesDelete,
    /// `workspaces.index`: GET `/v4/accounts/{account_id}/workspaces` (List workspaces for a given
    /// account).
    WorkspacesIndex,
    /// `workspaces.show`: GET `/v4/accounts/{account_id}/workspaces/{workspace_id}` (Show workspace
    /// details).
    WorkspacesShow,
    /// `workspaces.update`: PATCH `/v4/accounts/{account_id}/workspaces/{workspace_id}` (Update a
    /// workspace).
    WorkspacesUpdate,
    /// `ims.token`: `POST {ims}/ims/token/v3`, the IMS client-credentials token request.
    ImsToken,
    /// `upload.part`: `PUT` of one part of a local upload to its pre-signed URL.
    UploadPart,
}

struct Row {
    op: Operation,
    id: &'static str,
    method: Method,
    path: &'static str,
    limit: Option<PublishedLimit>,
}

const fn per_minute(requests: u32) -> Option<PublishedLimit> {
    Some(PublishedLimit {
        requests,
        per: Duration::from_secs(60),
    })
}

const fn per_second(requests: u32) -> Option<PublishedLimit> {
    Some(PublishedLimit {
        requests,
        per: Duration::from_secs(1),
    })
}

const TABLE: &[Row] = &[
    Row {
        op: Operation::AccountPermissionsAccountUserRolesUpdate,
        id: "account_permissions.account_user_roles_update",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/users/{user_id}",
        limit: per_minute(10),
    },
    Row {
        op: Operation::AccountsAuditlogIndex,
        id: "accounts.auditlog_index",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/audit_logs",
        limit: per_minute(100),
    },
    Row {
        op: Operation::AccountsIndex,
        id: "accounts.index",
        method: Method::Get,
        path: "/v4/accounts",
        limit: per_minute(100),
    },
    Row {
        op: Operation::CollectionsIndex,
        id: "collections.index",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/projects/{project_id}/collections",
        limit: per_minute(100),
    },
    Row {
        op: Operation::CollectionsShow,
        id: "collections.show",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/collections/{collection_id}",
        limit: per_minute(100),
    },
    Row {
        op: Operation::CommentsCreate,
        id: "comments.create",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/files/{file_id}/comments",
        limit: per_minute(100),
    },
    Row {
        op: Operation::CommentsCreateAttachment,
        id: "comments.create_attachment",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/comments/{comment_id}/attachments",
        limit: per_minute(60),
    },
    Row {
        op: Operation::CommentsDelete,
        id: "comments.delete",
        method: Method::Delete,
        path: "/v4/accounts/{account_id}/comments/{comment_id}",
        limit: per_minute(60),
    },
    Row {
        op: Operation::CommentsDeleteAttachment,
        id: "comments.delete_attachment",
        method: Method::Delete,
        path: "/v4/accounts/{account_id}/comments/{comment_id}/attachments/{attachment_id}",
        limit: per_minute(60),
    },
    Row {
        op: Operation::CommentsIndex,
        id: "comments.index",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/files/{file_id}/comments",
        limit: per_minute(100),
    },
    Row {
        op: Operation::CommentsShow,
        id: "comments.show",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/comments/{comment_id}",
        limit: per_minute(100),
    },
    Row {
        op: Operation::CommentsUpdate,
        id: "comments.update",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/comments/{comment_id}",
        limit: per_minute(10),
    },
    Row {
        op: Operation::CustomActionsActionsCreate,
        id: "custom_actions.actions_create",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/workspaces/{workspace_id}/actions",
        limit: per_minute(10),
    },
    Row {
        op: Operation::CustomActionsActionsDelete,
        id: "custom_actions.actions_delete",
        method: Method::Delete,
        path: "/v4/accounts/{account_id}/actions/{action_id}",
        limit: per_minute(60),
    },
    Row {
        op: Operation::CustomActionsActionsIndex,
        id: "custom_actions.actions_index",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/workspaces/{workspace_id}/actions",
        limit: per_minute(100),
    },
    Row {
        op: Operation::CustomActionsActionsShow,
        id: "custom_actions.actions_show",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/actions/{action_id}",
        limit: per_minute(100),
    },
    Row {
        op: Operation::CustomActionsActionsUpdate,
        id: "custom_actions.actions_update",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/actions/{action_id}",
        limit: per_minute(10),
    },
    Row {
        op: Operation::FilesBulkCopy,
        id: "files.bulk_copy",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/files/copy",
        limit: per_minute(60),
    },
    Row {
        op: Operation::FilesBulkMove,
        id: "files.bulk_move",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/files/move",
        limit: per_minute(60),
    },
    Row {
        op: Operation::FilesCopy,
        id: "files.copy",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/files/{file_id}/copy",
        limit: per_minute(100),
    },
    Row {
        op: Operation::FilesCreate,
        id: "files.create",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/folders/{folder_id}/files",
        limit: per_second(5),
    },
    Row {
        op: Operation::FilesCreateLocalUpload,
        id: "files.create_local_upload",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/folders/{folder_id}/files/local_upload",
        limit: per_second(5),
    },
    Row {
        op: Operation::FilesCreateRemoteUpload,
        id: "files.create_remote_upload",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/folders/{folder_id}/files/remote_upload",
        limit: per_second(5),
    },
    Row {
        op: Operation::FilesDelete,
        id: "files.delete",
        method: Method::Delete,
        path: "/v4/accounts/{account_id}/files/{file_id}",
        limit: per_minute(100),
    },
    Row {
        op: Operation::FilesImportFile,
        id: "files.import_file",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/folders/{folder_id}/files/import",
        limit: per_second(5),
    },
    Row {
        op: Operation::FilesList,
        id: "files.list",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/folders/{folder_id}/files",
        limit: per_second(5),
    },
    Row {
        op: Operation::FilesMove,
        id: "files.move",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/files/{file_id}/move",
        limit: per_minute(100),
    },
    Row {
        op: Operation::FilesShow,
        id: "files.show",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/files/{file_id}",
        limit: per_second(10),
    },
    Row {
        op: Operation::FilesShowFileUploadStatus,
        id: "files.show_file_upload_status",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/files/{file_id}/status",
        limit: per_second(5),
    },
    Row {
        op: Operation::FilesUpdate,
        id: "files.update",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/files/{file_id}",
        limit: per_minute(100),
    },
    Row {
        op: Operation::FolderPermissionsDelete,
        id: "folder_permissions.delete",
        method: Method::Delete,
        path: "/v4/accounts/{account_id}/folders/{folder_id}/users/{user_id}",
        limit: per_minute(60),
    },
    Row {
        op: Operation::FolderPermissionsFolderUserRolesIndex,
        id: "folder_permissions.folder_user_roles_index",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/folders/{folder_id}/users",
        limit: per_minute(100),
    },
    Row {
        op: Operation::FolderPermissionsFolderUserRolesUpdate,
        id: "folder_permissions.folder_user_roles_update",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/folders/{folder_id}/users/{user_id}",
        limit: per_minute(10),
    },
    Row {
        op: Operation::FoldersBulkCopy,
        id: "folders.bulk_copy",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/folders/copy",
        limit: per_minute(10),
    },
    Row {
        op: Operation::FoldersBulkMove,
        id: "folders.bulk_move",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/folders/move",
        limit: per_minute(10),
    },
    Row {
        op: Operation::FoldersCopy,
        id: "folders.copy",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/folders/{folder_id}/copy",
        limit: per_minute(10),
    },
    Row {
        op: Operation::FoldersCreate,
        id: "folders.create",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/folders/{folder_id}/folders",
        limit: per_second(3),
    },
    Row {
        op: Operation::FoldersDelete,
        id: "folders.delete",
        method: Method::Delete,
        path: "/v4/accounts/{account_id}/folders/{folder_id}",
        limit: per_minute(60),
    },
    Row {
        op: Operation::FoldersIndex,
        id: "folders.index",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/folders/{folder_id}/children",
        limit: per_minute(100),
    },
    Row {
        op: Operation::FoldersList,
        id: "folders.list",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/folders/{folder_id}/folders",
        limit: per_second(5),
    },
    Row {
        op: Operation::FoldersMove,
        id: "folders.move",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/folders/{folder_id}/move",
        limit: per_minute(10),
    },
    Row {
        op: Operation::FoldersShow,
        id: "folders.show",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/folders/{folder_id}",
        limit: per_minute(100),
    },
    Row {
        op: Operation::FoldersUpdate,
        id: "folders.update",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/folders/{folder_id}",
        limit: per_minute(10),
    },
    Row {
        op: Operation::GroupsCreate,
        id: "groups.create",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/groups",
        limit: per_minute(10),
    },
    Row {
        op: Operation::GroupsIndex,
        id: "groups.index",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/groups",
        limit: per_minute(100),
    },
    Row {
        op: Operation::GroupsShow,
        id: "groups.show",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/groups/{group_id}",
        limit: per_minute(100),
    },
    Row {
        op: Operation::GroupsUpdate,
        id: "groups.update",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/groups/{group_id}",
        limit: per_minute(10),
    },
    Row {
        op: Operation::MetadataBulkUpdate,
        id: "metadata.bulk_update",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/projects/{project_id}/metadata/values",
        limit: per_minute(10),
    },
    Row {
        op: Operation::MetadataShow,
        id: "metadata.show",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/files/{file_id}/metadata",
        limit: per_minute(100),
    },
    Row {
        op: Operation::MetadataFieldsMetadataFieldDefinitionsCreate,
        id: "metadata_fields.metadata_field_definitions_create",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/metadata/field_definitions",
        limit: per_minute(10),
    },
    Row {
        op: Operation::MetadataFieldsMetadataFieldDefinitionsDelete,
        id: "metadata_fields.metadata_field_definitions_delete",
        method: Method::Delete,
        path: "/v4/accounts/{account_id}/metadata/field_definitions/{field_definition_id}",
        limit: per_minute(60),
    },
    Row {
        op: Operation::MetadataFieldsMetadataFieldDefinitionsIndex,
        id: "metadata_fields.metadata_field_definitions_index",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/metadata/field_definitions",
        limit: per_minute(100),
    },
    Row {
        op: Operation::MetadataFieldsMetadataFieldDefinitionsUpdate,
        id: "metadata_fields.metadata_field_definitions_update",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/metadata/field_definitions/{field_definition_id}",
        limit: per_minute(10),
    },
    Row {
        op: Operation::ProjectPermissionsDelete,
        id: "project_permissions.delete",
        method: Method::Delete,
        path: "/v4/accounts/{account_id}/projects/{project_id}/users/{user_id}",
        limit: per_minute(60),
    },
    Row {
        op: Operation::ProjectPermissionsIndex,
        id: "project_permissions.index",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/projects/{project_id}/users",
        limit: per_minute(100),
    },
    Row {
        op: Operation::ProjectPermissionsProjectUserRolesUpdate,
        id: "project_permissions.project_user_roles_update",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/projects/{project_id}/users/{user_id}",
        limit: per_minute(10),
    },
    Row {
        op: Operation::ProjectsAccountProjectsIndex,
        id: "projects.account_projects_index",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/projects",
        limit: per_minute(100),
    },
    Row {
        op: Operation::ProjectsCreate,
        id: "projects.create",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/workspaces/{workspace_id}/projects",
        limit: per_minute(10),
    },
    Row {
        op: Operation::ProjectsDelete,
        id: "projects.delete",
        method: Method::Delete,
        path: "/v4/accounts/{account_id}/projects/{project_id}",
        limit: per_minute(60),
    },
    Row {
        op: Operation::ProjectsIndex,
        id: "projects.index",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/workspaces/{workspace_id}/projects",
        limit: per_minute(100),
    },
    Row {
        op: Operation::ProjectsInvitedProjectsIndex,
        id: "projects.invited_projects_index",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/invited_projects",
        limit: per_minute(100),
    },
    Row {
        op: Operation::ProjectsRecentlyDeleted,
        id: "projects.recently_deleted",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/projects/{project_id}/recently_deleted",
        limit: per_second(5),
    },
    Row {
        op: Operation::ProjectsShow,
        id: "projects.show",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/projects/{project_id}",
        limit: per_minute(100),
    },
    Row {
        op: Operation::ProjectsUpdate,
        id: "projects.update",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/projects/{project_id}",
        limit: per_minute(10),
    },
    Row {
        op: Operation::SearchSearch,
        id: "search.search",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/search",
        limit: per_minute(100),
    },
    Row {
        op: Operation::SharesAddAsset,
        id: "shares.add_asset",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/shares/{share_id}/assets",
        limit: per_minute(10),
    },
    Row {
        op: Operation::SharesAddReviewers,
        id: "shares.add_reviewers",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/shares/{share_id}/reviewers",
        limit: per_minute(10),
    },
    Row {
        op: Operation::SharesCreate,
        id: "shares.create",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/projects/{project_id}/shares",
        limit: per_minute(10),
    },
    Row {
        op: Operation::SharesDelete,
        id: "shares.delete",
        method: Method::Delete,
        path: "/v4/accounts/{account_id}/shares/{share_id}",
        limit: per_minute(60),
    },
    Row {
        op: Operation::SharesIndex,
        id: "shares.index",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/projects/{project_id}/shares",
        limit: per_minute(100),
    },
    Row {
        op: Operation::SharesListActivities,
        id: "shares.list_activities",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/shares/{share_id}/activities",
        limit: per_minute(100),
    },
    Row {
        op: Operation::SharesListAssets,
        id: "shares.list_assets",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/shares/{share_id}/assets",
        limit: per_minute(100),
    },
    Row {
        op: Operation::SharesListReviewers,
        id: "shares.list_reviewers",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/shares/{share_id}/reviewers",
        limit: per_minute(10),
    },
    Row {
        op: Operation::SharesRemoveAsset,
        id: "shares.remove_asset",
        method: Method::Delete,
        path: "/v4/accounts/{account_id}/shares/{share_id}/assets/{asset_id}",
        limit: per_minute(10),
    },
    Row {
        op: Operation::SharesRemoveReviewers,
        id: "shares.remove_reviewers",
        method: Method::Delete,
        path: "/v4/accounts/{account_id}/shares/{share_id}/reviewers",
        limit: per_minute(10),
    },
    Row {
        op: Operation::SharesShow,
        id: "shares.show",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/shares/{share_id}",
        limit: per_minute(100),
    },
    Row {
        op: Operation::SharesUpdate,
        id: "shares.update",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/shares/{share_id}",
        limit: per_minute(10),
    },
    Row {
        op: Operation::UsersAccountPermissionsIndex,
        id: "users.account_permissions_index",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/users",
        limit: per_minute(100),
    },
    Row {
        op: Operation::UsersShow,
        id: "users.show",
        method: Method::Get,
        path: "/v4/me",
        limit: per_minute(100),
    },
    Row {
        op: Operation::VersionStacksCopy,
        id: "version_stacks.copy",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/version_stacks/{version_stack_id}/copy",
        limit: per_minute(10),
    },
    Row {
        op: Operation::VersionStacksCreate,
        id: "version_stacks.create",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/folders/{folder_id}/version_stacks",
        limit: per_minute(10),
    },
    Row {
        op: Operation::VersionStacksIndex,
        id: "version_stacks.index",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/version_stacks/{version_stack_id}/children",
        limit: per_minute(100),
    },
    Row {
        op: Operation::VersionStacksList,
        id: "version_stacks.list",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/folders/{folder_id}/version_stacks",
        limit: per_second(5),
    },
    Row {
        op: Operation::VersionStacksMove,
        id: "version_stacks.move",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/version_stacks/{version_stack_id}/move",
        limit: per_minute(10),
    },
    Row {
        op: Operation::VersionStacksShow,
        id: "version_stacks.show",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/version_stacks/{version_stack_id}",
        limit: per_minute(100),
    },
    Row {
        op: Operation::WebhooksCreate,
        id: "webhooks.create",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/workspaces/{workspace_id}/webhooks",
        limit: per_minute(10),
    },
    Row {
        op: Operation::WebhooksDelete,
        id: "webhooks.delete",
        method: Method::Delete,
        path: "/v4/accounts/{account_id}/webhooks/{webhook_id}",
        limit: per_minute(60),
    },
    Row {
        op: Operation::WebhooksIndex,
        id: "webhooks.index",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/workspaces/{workspace_id}/webhooks",
        limit: per_minute(100),
    },
    Row {
        op: Operation::WebhooksShow,
        id: "webhooks.show",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/webhooks/{webhook_id}",
        limit: per_minute(100),
    },
    Row {
        op: Operation::WebhooksUpdate,
        id: "webhooks.update",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/webhooks/{webhook_id}",
        limit: per_minute(10),
    },
    Row {
        op: Operation::WorkspacePermissionsIndex,
        id: "workspace_permissions.index",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/workspaces/{workspace_id}/users",
        limit: per_minute(100),
    },
    Row {
        op: Operation::WorkspacePermissionsWorkspaceUserRolesDelete,
        id: "workspace_permissions.workspace_user_roles_delete",
        method: Method::Delete,
        path: "/v4/accounts/{account_id}/workspaces/{workspace_id}/users/{user_id}",
        limit: per_minute(60),
    },
    Row {
        op: Operation::WorkspacePermissionsWorkspaceUserRolesUpdate,
        id: "workspace_permissions.workspace_user_roles_update",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/workspaces/{workspace_id}/users/{user_id}",
        limit: per_minute(10),
    },
    Row {
        op: Operation::WorkspacesCreate,
        id: "workspaces.create",
        method: Method::Post,
        path: "/v4/accounts/{account_id}/workspaces",
        limit: per_minute(10),
    },
    Row {
        op: Operation::WorkspacesDelete,
        id: "workspaces.delete",
        method: Method::Delete,
        path: "/v4/accounts/{account_id}/workspaces/{workspace_id}",
        limit: per_minute(60),
    },
    Row {
        op: Operation::WorkspacesIndex,
        id: "workspaces.index",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/workspaces",
        limit: per_minute(100),
    },
    Row {
        op: Operation::WorkspacesShow,
        id: "workspaces.show",
        method: Method::Get,
        path: "/v4/accounts/{account_id}/workspaces/{workspace_id}",
        limit: per_minute(100),
    },
    Row {
        op: Operation::WorkspacesUpdate,
        id: "workspaces.update",
        method: Method::Patch,
        path: "/v4/accounts/{account_id}/workspaces/{workspace_id}",
        limit: per_minute(10),
    },
    Row {
        op: Operation::ImsToken,
        id: "ims.token",
        method: Method::Post,
        path: "/ims/token/v3",
        limit: None,
    },
    Row {
        op: Operation::UploadPart,
        id: "upload.part",
        method: Method::Put,
        path: "",
        limit: None,
    },
];

impl Operation {
    /// Every operation, in the order of the table.
    pub fn all() -> impl Iterator<Item = Operation> {
        TABLE.iter().map(|row| row.op)
    }

    /// Looks an operation up by its `operationId` (`files.show`, ...).
    pub fn from_id(id: &str) -> Option<Operation> {
        TABLE.iter().find(|row| row.id == id).map(|row| row.op)
    }

    fn row(self) -> &'static Row {
        // The table is ordered like the enum, so the discriminant is the index.
        &TABLE[self as usize]
    }

    /// The stable `operationId`, e.g. `files.show`; suitable as a metrics label.
    pub fn id(self) -> &'static str {
        self.row().id
    }

    /// The HTTP method.
    pub fn method(self) -> Method {
        self.row().method
    }

    /// The path template from the spec, e.g. `/v4/accounts/{account_id}/files/{file_id}`;
    /// empty for [`Operation::UploadPart`], whose URL comes from Frame.io.
    pub fn path_template(self) -> &'static str {
        self.row().path
    }

    /// The published rate limit, or `None` for calls outside the Frame.io V4 API.
    pub fn published_limit(self) -> Option<PublishedLimit> {
        self.row().limit
    }

    /// Whether this is an operation of the Frame.io V4 API (rather than IMS or storage).
    pub fn is_frameio_api(self) -> bool {
        self.row().limit.is_some()
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TSV: &str = include_str!("../../../spec/frameio/endpoints-v4.tsv");

    #[test]
    fn table_is_indexed_by_discriminant() {
        for (index, row) in TABLE.iter().enumerate() {
            assert_eq!(row.op as usize, index, "{} is out of place", row.id);
        }
    }

    #[test]
    fn table_matches_the_endpoint_file() {
        let mut seen = 0;
        for line in TSV.lines().skip(1).filter(|line| !line.trim().is_empty()) {
            let cols: Vec<&str> = line.split('\t').collect();
            let (method, path, limit, id) = (cols[1], cols[2], cols[3], cols[7]);
            let op = Operation::from_id(id).unwrap_or_else(|| panic!("{id} is missing"));
            assert_eq!(op.method().as_str(), method, "{id}");
            assert_eq!(op.path_template(), path, "{id}");

            let published = op.published_limit().expect("API operations have a limit");
            let words: Vec<&str> = limit.split_whitespace().collect();
            assert_eq!(published.requests.to_string(), words[0], "{id}");
            let per = if words[4].starts_with("minute") {
                60
            } else {
                1
            };
            assert_eq!(published.per, Duration::from_secs(per), "{id}");
            seen += 1;
        }
        assert_eq!(
            seen + 2,
            TABLE.len(),
            "the table has operations the file does not"
        );
    }

    #[test]
    fn ids_round_trip() {
        for op in Operation::all() {
            assert_eq!(Operation::from_id(op.id()), Some(op));
        }
        assert_eq!(Operation::FilesShow.to_string(), "files.show");
        assert!(!Operation::ImsToken.is_frameio_api());
    }
}
