//! Folders, files and version stacks.

use futures::stream::BoxStream;

use crate::client::{bare, request};
use crate::models::{
    Asset, BulkFileCopyResult, BulkFileParams, File, FileIdsParams, FileUploadStatus, Folder,
    NameParams, ParentParams, VersionStack,
};
use crate::{Client, Error, ListParams, Operation};

use super::{check_ids, with_include};

impl Client {
    /// `folders.show`: one folder.
    pub async fn folder(
        &self,
        account_id: &str,
        folder_id: &str,
        include: &[&str],
    ) -> Result<Folder, Error> {
        let url = self.url(&["accounts", account_id, "folders", folder_id]);
        self.call(bare(Operation::FoldersShow, with_include(url, include)))
            .await
    }

    /// `folders.index`: the files, folders and version stacks in a folder.
    pub fn folder_children(
        &self,
        account_id: &str,
        folder_id: &str,
        params: ListParams,
    ) -> BoxStream<'static, Result<Asset, Error>> {
        let url = self.url(&["accounts", account_id, "folders", folder_id, "children"]);
        self.paginate(Operation::FoldersIndex, url, params)
    }

    /// `folders.create`: a folder named `name` inside `parent_id`.
    pub async fn create_folder(
        &self,
        account_id: &str,
        parent_id: &str,
        name: &str,
    ) -> Result<Folder, Error> {
        let op = Operation::FoldersCreate;
        let url = self.url(&["accounts", account_id, "folders", parent_id, "folders"]);
        self.call(request(op, url, Some(&NameParams { name }))?)
            .await
    }

    /// `folders.update`: renames a folder.
    pub async fn rename_folder(
        &self,
        account_id: &str,
        folder_id: &str,
        name: &str,
    ) -> Result<Folder, Error> {
        let op = Operation::FoldersUpdate;
        let url = self.url(&["accounts", account_id, "folders", folder_id]);
        self.call(request(op, url, Some(&NameParams { name }))?)
            .await
    }

    /// `folders.delete`: deletes a folder and what it holds.
    pub async fn delete_folder(&self, account_id: &str, folder_id: &str) -> Result<(), Error> {
        let url = self.url(&["accounts", account_id, "folders", folder_id]);
        self.call_empty(bare(Operation::FoldersDelete, url)).await
    }

    /// `folders.move`: moves a folder into `parent_id`.
    pub async fn move_folder(
        &self,
        account_id: &str,
        folder_id: &str,
        parent_id: &str,
    ) -> Result<Folder, Error> {
        let op = Operation::FoldersMove;
        let url = self.url(&["accounts", account_id, "folders", folder_id, "move"]);
        let body = ParentParams {
            parent_id: Some(parent_id),
        };
        self.call(request(op, url, Some(&body))?).await
    }

    /// `folders.copy`: copies a folder into `parent_id` (its own parent when `None`).
    pub async fn copy_folder(
        &self,
        account_id: &str,
        folder_id: &str,
        parent_id: Option<&str>,
    ) -> Result<Folder, Error> {
        let op = Operation::FoldersCopy;
        let url = self.url(&["accounts", account_id, "folders", folder_id, "copy"]);
        self.call(request(op, url, Some(&ParentParams { parent_id }))?)
            .await
    }

    /// `files.show`: one file, with related data named in `include` (e.g.
    /// `media_links.original`, `creator`, `metadata`).
    pub async fn file(
        &self,
        account_id: &str,
        file_id: &str,
        include: &[&str],
    ) -> Result<File, Error> {
        let url = self.url(&["accounts", account_id, "files", file_id]);
        self.call(bare(Operation::FilesShow, with_include(url, include)))
            .await
    }

    /// `files.update`: renames a file.
    pub async fn rename_file(
        &self,
        account_id: &str,
        file_id: &str,
        name: &str,
    ) -> Result<File, Error> {
        let op = Operation::FilesUpdate;
        let url = self.url(&["accounts", account_id, "files", file_id]);
        self.call(request(op, url, Some(&NameParams { name }))?)
            .await
    }

    /// `files.delete`: deletes a file.
    pub async fn delete_file(&self, account_id: &str, file_id: &str) -> Result<(), Error> {
        let url = self.url(&["accounts", account_id, "files", file_id]);
        self.call_empty(bare(Operation::FilesDelete, url)).await
    }

    /// `files.move`: moves a file into a folder or version stack.
    pub async fn move_file(
        &self,
        account_id: &str,
        file_id: &str,
        parent_id: &str,
    ) -> Result<File, Error> {
        let op = Operation::FilesMove;
        let url = self.url(&["accounts", account_id, "files", file_id, "move"]);
        let body = ParentParams {
            parent_id: Some(parent_id),
        };
        self.call(request(op, url, Some(&body))?).await
    }

    /// `files.copy`: copies a file into `parent_id` (its own folder when `None`).
    pub async fn copy_file(
        &self,
        account_id: &str,
        file_id: &str,
        parent_id: Option<&str>,
    ) -> Result<File, Error> {
        let op = Operation::FilesCopy;
        let url = self.url(&["accounts", account_id, "files", file_id, "copy"]);
        self.call(request(op, url, Some(&ParentParams { parent_id }))?)
            .await
    }

    /// `files.bulk_move`: moves 1 to 100 files into `parent_id`.
    pub async fn bulk_move_files(
        &self,
        account_id: &str,
        file_ids: &[String],
        parent_id: &str,
    ) -> Result<Vec<File>, Error> {
        let op = Operation::FilesBulkMove;
        check_ids(op, file_ids)?;
        let url = self.url(&["accounts", account_id, "files", "move"]);
        let body = BulkFileParams {
            file_ids,
            parent_id,
        };
        self.call(request(op, url, Some(&body))?).await
    }

    /// `files.bulk_copy`: copies 1 to 100 files into `parent_id`.
    pub async fn bulk_copy_files(
        &self,
        account_id: &str,
        file_ids: &[String],
        parent_id: &str,
    ) -> Result<Vec<BulkFileCopyResult>, Error> {
        let op = Operation::FilesBulkCopy;
        check_ids(op, file_ids)?;
        let url = self.url(&["accounts", account_id, "files", "copy"]);
        let body = BulkFileParams {
            file_ids,
            parent_id,
        };
        self.call(request(op, url, Some(&body))?).await
    }

    /// `files.show_file_upload_status`: whether every part of an upload arrived.
    pub async fn file_upload_status(
        &self,
        account_id: &str,
        file_id: &str,
    ) -> Result<FileUploadStatus, Error> {
        let url = self.url(&["accounts", account_id, "files", file_id, "status"]);
        self.call(bare(Operation::FilesShowFileUploadStatus, url))
            .await
    }

    /// `version_stacks.create`: stacks files (first is the oldest version) in a folder.
    pub async fn create_version_stack(
        &self,
        account_id: &str,
        folder_id: &str,
        file_ids: &[String],
    ) -> Result<VersionStack, Error> {
        let op = Operation::VersionStacksCreate;
        check_ids(op, file_ids)?;
        let url = self.url(&[
            "accounts",
            account_id,
            "folders",
            folder_id,
            "version_stacks",
        ]);
        self.call(request(op, url, Some(&FileIdsParams { file_ids }))?)
            .await
    }

    /// `version_stacks.show`: one version stack.
    pub async fn version_stack(
        &self,
        account_id: &str,
        version_stack_id: &str,
        include: &[&str],
    ) -> Result<VersionStack, Error> {
        let url = self.url(&["accounts", account_id, "version_stacks", version_stack_id]);
        self.call(bare(
            Operation::VersionStacksShow,
            with_include(url, include),
        ))
        .await
    }

    /// `version_stacks.index`: the versions in a stack.
    pub fn version_stack_children(
        &self,
        account_id: &str,
        version_stack_id: &str,
        params: ListParams,
    ) -> BoxStream<'static, Result<Asset, Error>> {
        let url = self.url(&[
            "accounts",
            account_id,
            "version_stacks",
            version_stack_id,
            "children",
        ]);
        self.paginate(Operation::VersionStacksIndex, url, params)
    }

    /// `version_stacks.move`: moves a version stack into the folder `parent_id`.
    pub async fn move_version_stack(
        &self,
        account_id: &str,
        version_stack_id: &str,
        parent_id: &str,
    ) -> Result<VersionStack, Error> {
        let op = Operation::VersionStacksMove;
        let url = self.url(&[
            "accounts",
            account_id,
            "version_stacks",
            version_stack_id,
            "move",
        ]);
        let body = ParentParams {
            parent_id: Some(parent_id),
        };
        self.call(request(op, url, Some(&body))?).await
    }

    /// `version_stacks.copy`: copies a version stack into `parent_id` (its own folder when
    /// `None`).
    pub async fn copy_version_stack(
        &self,
        account_id: &str,
        version_stack_id: &str,
        parent_id: Option<&str>,
    ) -> Result<VersionStack, Error> {
        let op = Operation::VersionStacksCopy;
        let url = self.url(&[
            "accounts",
            account_id,
            "version_stacks",
            version_stack_id,
            "copy",
        ]);
        self.call(request(op, url, Some(&ParentParams { parent_id }))?)
            .await
    }
}
