//! Comments, metadata, shares and webhooks.

use futures::stream::BoxStream;

use crate::client::{bare, request};
use crate::models::{
    AddReviewers, Asset, AssetIdParams, Comment, CommentUpdate, CreatedWebhook, FieldDefinition,
    FieldDefinitionUpdate, FileMetadata, MetadataBulkUpdate, NewComment, NewFieldDefinition,
    NewShare, NewWebhook, RemoveReviewers, Share, User, Webhook, WebhookUpdate,
};
use crate::{Client, Error, ListParams, Operation};

use super::{check_ids, with_include};

impl Client {
    /// `comments.create`: a comment on a file.
    pub async fn create_comment(
        &self,
        account_id: &str,
        file_id: &str,
        comment: &NewComment,
    ) -> Result<Comment, Error> {
        let op = Operation::CommentsCreate;
        let url = self.url(&["accounts", account_id, "files", file_id, "comments"]);
        self.call(request(op, url, Some(comment))?).await
    }

    /// `comments.index`: the comments on a file.
    pub fn comments(
        &self,
        account_id: &str,
        file_id: &str,
        params: ListParams,
    ) -> BoxStream<'static, Result<Comment, Error>> {
        let url = self.url(&["accounts", account_id, "files", file_id, "comments"]);
        self.paginate(Operation::CommentsIndex, url, params)
    }

    /// `comments.show`: one comment.
    pub async fn comment(
        &self,
        account_id: &str,
        comment_id: &str,
        include: &[&str],
    ) -> Result<Comment, Error> {
        let url = self.url(&["accounts", account_id, "comments", comment_id]);
        self.call(bare(Operation::CommentsShow, with_include(url, include)))
            .await
    }

    /// `comments.update`: changes the fields set in `update`.
    pub async fn update_comment(
        &self,
        account_id: &str,
        comment_id: &str,
        update: &CommentUpdate,
    ) -> Result<Comment, Error> {
        let op = Operation::CommentsUpdate;
        let url = self.url(&["accounts", account_id, "comments", comment_id]);
        self.call(request(op, url, Some(update))?).await
    }

    /// `comments.delete`: deletes a comment.
    pub async fn delete_comment(&self, account_id: &str, comment_id: &str) -> Result<(), Error> {
        let url = self.url(&["accounts", account_id, "comments", comment_id]);
        self.call_empty(bare(Operation::CommentsDelete, url)).await
    }

    /// `metadata.show`: the metadata fields of a file.
    pub async fn file_metadata(
        &self,
        account_id: &str,
        file_id: &str,
    ) -> Result<FileMetadata, Error> {
        let url = self.url(&["accounts", account_id, "files", file_id, "metadata"]);
        self.call(bare(Operation::MetadataShow, url)).await
    }

    /// `metadata.bulk_update`: sets the same values on up to 100 files of a project.
    pub async fn bulk_update_metadata(
        &self,
        account_id: &str,
        project_id: &str,
        update: &MetadataBulkUpdate,
    ) -> Result<(), Error> {
        let op = Operation::MetadataBulkUpdate;
        check_ids(op, &update.file_ids)?;
        if update.values.is_empty() {
            let reason = "a metadata update needs at least one value".to_owned();
            return Err(Error::InvalidRequest {
                operation: op,
                reason,
            });
        }
        let url = self.url(&[
            "accounts", account_id, "projects", project_id, "metadata", "values",
        ]);
        self.call_empty(request(op, url, Some(update))?).await
    }

    /// `metadata_fields.metadata_field_definitions_index`: the account's field definitions.
    pub fn field_definitions(
        &self,
        account_id: &str,
        params: ListParams,
    ) -> BoxStream<'static, Result<FieldDefinition, Error>> {
        let url = self.url(&["accounts", account_id, "metadata", "field_definitions"]);
        self.paginate(
            Operation::MetadataFieldsMetadataFieldDefinitionsIndex,
            url,
            params,
        )
    }

    /// `metadata_fields.metadata_field_definitions_create`: a new field definition.
    pub async fn create_field_definition(
        &self,
        account_id: &str,
        definition: &NewFieldDefinition,
    ) -> Result<FieldDefinition, Error> {
        let op = Operation::MetadataFieldsMetadataFieldDefinitionsCreate;
        let url = self.url(&["accounts", account_id, "metadata", "field_definitions"]);
        self.call(request(op, url, Some(definition))?).await
    }

    /// `metadata_fields.metadata_field_definitions_update`: changes a field definition.
    pub async fn update_field_definition(
        &self,
        account_id: &str,
        field_definition_id: &str,
        update: &FieldDefinitionUpdate,
    ) -> Result<FieldDefinition, Error> {
        let op = Operation::MetadataFieldsMetadataFieldDefinitionsUpdate;
        let url = self.url(&[
            "accounts",
            account_id,
            "metadata",
            "field_definitions",
            field_definition_id,
        ]);
        self.call(request(op, url, Some(update))?).await
    }

    /// `metadata_fields.metadata_field_definitions_delete`: deletes a field definition.
    pub async fn delete_field_definition(
        &self,
        account_id: &str,
        field_definition_id: &str,
    ) -> Result<(), Error> {
        let op = Operation::MetadataFieldsMetadataFieldDefinitionsDelete;
        let url = self.url(&[
            "accounts",
            account_id,
            "metadata",
            "field_definitions",
            field_definition_id,
        ]);
        self.call_empty(bare(op, url)).await
    }

    /// `shares.index`: the shares of a project.
    pub fn shares(
        &self,
        account_id: &str,
        project_id: &str,
        params: ListParams,
    ) -> BoxStream<'static, Result<Share, Error>> {
        let url = self.url(&["accounts", account_id, "projects", project_id, "shares"]);
        self.paginate(Operation::SharesIndex, url, params)
    }

    /// `shares.delete`: deletes a share.
    pub async fn delete_share(&self, account_id: &str, share_id: &str) -> Result<(), Error> {
        let url = self.url(&["accounts", account_id, "shares", share_id]);
        self.call_empty(bare(Operation::SharesDelete, url)).await
    }

    /// `shares.create`: a share of assets in a project.
    pub async fn create_share(
        &self,
        account_id: &str,
        project_id: &str,
        share: &NewShare,
    ) -> Result<Share, Error> {
        let op = Operation::SharesCreate;
        let url = self.url(&["accounts", account_id, "projects", project_id, "shares"]);
        self.call(request(op, url, Some(share))?).await
    }

    /// `shares.show`: one share.
    pub async fn share(&self, account_id: &str, share_id: &str) -> Result<Share, Error> {
        let url = self.url(&["accounts", account_id, "shares", share_id]);
        self.call(bare(Operation::SharesShow, url)).await
    }

    /// `shares.list_assets`: the assets of a share.
    pub fn share_assets(
        &self,
        account_id: &str,
        share_id: &str,
        params: ListParams,
    ) -> BoxStream<'static, Result<Asset, Error>> {
        let url = self.url(&["accounts", account_id, "shares", share_id, "assets"]);
        self.paginate(Operation::SharesListAssets, url, params)
    }

    /// `shares.add_asset`: adds a file or folder to a share.
    pub async fn add_share_asset(
        &self,
        account_id: &str,
        share_id: &str,
        asset_id: &str,
    ) -> Result<Share, Error> {
        let op = Operation::SharesAddAsset;
        let url = self.url(&["accounts", account_id, "shares", share_id, "assets"]);
        self.call(request(op, url, Some(&AssetIdParams { asset_id }))?)
            .await
    }

    /// `shares.remove_asset`: takes a file or folder out of a share.
    pub async fn remove_share_asset(
        &self,
        account_id: &str,
        share_id: &str,
        asset_id: &str,
    ) -> Result<Share, Error> {
        let url = self.url(&[
            "accounts", account_id, "shares", share_id, "assets", asset_id,
        ]);
        self.call(bare(Operation::SharesRemoveAsset, url)).await
    }

    /// `shares.add_reviewers`: invites reviewers to a share.
    pub async fn add_share_reviewers(
        &self,
        account_id: &str,
        share_id: &str,
        reviewers: &AddReviewers,
    ) -> Result<(), Error> {
        let op = Operation::SharesAddReviewers;
        let url = self.url(&["accounts", account_id, "shares", share_id, "reviewers"]);
        self.call_empty(request(op, url, Some(reviewers))?).await
    }

    /// `shares.list_reviewers`: the reviewers of a share.
    pub fn share_reviewers(
        &self,
        account_id: &str,
        share_id: &str,
        params: ListParams,
    ) -> BoxStream<'static, Result<User, Error>> {
        let url = self.url(&["accounts", account_id, "shares", share_id, "reviewers"]);
        self.paginate(Operation::SharesListReviewers, url, params)
    }

    /// `shares.remove_reviewers`: removes reviewers from a share.
    pub async fn remove_share_reviewers(
        &self,
        account_id: &str,
        share_id: &str,
        reviewers: &RemoveReviewers,
    ) -> Result<(), Error> {
        let op = Operation::SharesRemoveReviewers;
        let url = self.url(&["accounts", account_id, "shares", share_id, "reviewers"]);
        self.call_empty(request(op, url, Some(reviewers))?).await
    }

    /// `webhooks.create`: a webhook of a workspace; the answer holds its signing secret.
    pub async fn create_webhook(
        &self,
        account_id: &str,
        workspace_id: &str,
        webhook: &NewWebhook,
    ) -> Result<CreatedWebhook, Error> {
        let op = Operation::WebhooksCreate;
        let url = self.url(&[
            "accounts",
            account_id,
            "workspaces",
            workspace_id,
            "webhooks",
        ]);
        self.call(request(op, url, Some(webhook))?).await
    }

    /// `webhooks.index`: the webhooks of a workspace.
    pub fn webhooks(
        &self,
        account_id: &str,
        workspace_id: &str,
        params: ListParams,
    ) -> BoxStream<'static, Result<Webhook, Error>> {
        let url = self.url(&[
            "accounts",
            account_id,
            "workspaces",
            workspace_id,
            "webhooks",
        ]);
        self.paginate(Operation::WebhooksIndex, url, params)
    }

    /// `webhooks.show`: one webhook.
    pub async fn webhook(&self, account_id: &str, webhook_id: &str) -> Result<Webhook, Error> {
        let url = self.url(&["accounts", account_id, "webhooks", webhook_id]);
        self.call(bare(Operation::WebhooksShow, url)).await
    }

    /// `webhooks.update`: changes the fields set in `update`.
    pub async fn update_webhook(
        &self,
        account_id: &str,
        webhook_id: &str,
        update: &WebhookUpdate,
    ) -> Result<Webhook, Error> {
        let op = Operation::WebhooksUpdate;
        let url = self.url(&["accounts", account_id, "webhooks", webhook_id]);
        self.call(request(op, url, Some(update))?).await
    }

    /// `webhooks.delete`: deletes a webhook.
    pub async fn delete_webhook(&self, account_id: &str, webhook_id: &str) -> Result<(), Error> {
        let url = self.url(&["accounts", account_id, "webhooks", webhook_id]);
        self.call_empty(bare(Operation::WebhooksDelete, url)).await
    }
}
