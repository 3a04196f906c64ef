//! The user, accounts, workspaces and projects.

use futures::stream::BoxStream;

use crate::client::bare;
use crate::models::{Account, Profile, Project, Workspace};
use crate::{Client, Error, ListParams, Operation, Page};

use super::with_include;

impl Client {
    /// `users.show`: the current user, for S2S the service account user.
    pub async fn me(&self) -> Result<Profile, Error> {
        self.call(bare(Operation::UsersShow, self.url(&["me"])))
            .await
    }

    /// `accounts.index`: one page of the accounts the user can reach.
    pub async fn accounts_page(
        &self,
        params: &ListParams,
        after: Option<&str>,
    ) -> Result<Page<Account>, Error> {
        self.list_page(
            Operation::AccountsIndex,
            self.url(&["accounts"]),
            params,
            after,
        )
        .await
    }

    /// `accounts.index`: every account the user can reach.
    pub fn accounts(&self, params: ListParams) -> BoxStream<'static, Result<Account, Error>> {
        self.paginate(Operation::AccountsIndex, self.url(&["accounts"]), params)
    }

    /// `workspaces.index`: the workspaces of an account.
    pub fn workspaces(
        &self,
        account_id: &str,
        params: ListParams,
    ) -> BoxStream<'static, Result<Workspace, Error>> {
        let url = self.url(&["accounts", account_id, "workspaces"]);
        self.paginate(Operation::WorkspacesIndex, url, params)
    }

    /// `workspaces.show`: one workspace.
    pub async fn workspace(
        &self,
        account_id: &str,
        workspace_id: &str,
    ) -> Result<Workspace, Error> {
        let url = self.url(&["accounts", account_id, "workspaces", workspace_id]);
        self.call(bare(Operation::WorkspacesShow, url)).await
    }

    /// `projects.index`: the projects of a workspace.
    pub fn projects(
        &self,
        account_id: &str,
        workspace_id: &str,
        params: ListParams,
    ) -> BoxStream<'static, Result<Project, Error>> {
        let url = self.url(&[
            "accounts",
            account_id,
            "workspaces",
            workspace_id,
            "projects",
        ]);
        self.paginate(Operation::ProjectsIndex, url, params)
    }

    /// `projects.show`: one project (its `root_folder_id` is where uploads start).
    pub async fn project(
        &self,
        account_id: &str,
        project_id: &str,
        include: &[&str],
    ) -> Result<Project, Error> {
        let url = self.url(&["accounts", account_id, "projects", project_id]);
        self.call(bare(Operation::ProjectsShow, with_include(url, include)))
            .await
    }
}
