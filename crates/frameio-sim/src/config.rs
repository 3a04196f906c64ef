//! Configuration of the simulator and the seed it starts from.
//!
//! A seed lists the IMS service accounts (credentials, the user each acts as, the accounts it
//! may use) and the accounts with their workspaces and projects. [`Seed::default`] gives two
//! service accounts with one account, workspace and project each, so tests and demos need no
//! file. A seed file is JSON; `examples/seed.json` in this crate documents every field.

use std::path::Path;

use secrecy::SecretString;
use serde::Deserialize;

use crate::faults::FaultConfig;

/// Default target size of one local-upload part: 20 MiB. With it a 50,645,990-byte file is
/// split into the same three parts Frame.io hands out for it.
pub const DEFAULT_PART_SIZE: u64 = 20 * 1024 * 1024;

/// Everything the simulator needs to start.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Service accounts, accounts, workspaces and projects present at start.
    pub seed: Seed,
    /// Lifetime of issued IMS access tokens in seconds (`expires_in`).
    pub token_lifetime_secs: u64,
    /// Factor applied to every published rate limit: 10.0 allows ten times the requests
    /// in the same window. Tests use it to reach limits quickly.
    pub rate_scale: f64,
    /// How admissions are counted against a limit.
    pub rate_limit_mode: RateLimitMode,
    /// Faults injected from the start; they can be changed at runtime.
    pub faults: FaultConfig,
    /// Target size of one local-upload part in bytes; the part count is
    /// `ceil(file_size / upload_part_size)` and every part but the last has
    /// `ceil(file_size / part_count)` bytes.
    pub upload_part_size: u64,
    /// Largest JSON request body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: Seed::default(),
            token_lifetime_secs: 86_399,
            rate_scale: 1.0,
            rate_limit_mode: RateLimitMode::default(),
            faults: FaultConfig::default(),
            upload_part_size: DEFAULT_PART_SIZE,
            max_body_bytes: 4 * 1024 * 1024,
        }
    }
}

/// How the simulator decides whether a request fits its operation's limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateLimitMode {
    /// Frame.io's documented algorithm: a leaky bucket holding `limit` requests that drains
    /// continuously at `limit` per window. A full bucket followed by a steady stream admits
    /// up to `2 * limit - 1` requests in the busiest window.
    #[default]
    LeakyBucket,
    /// A stricter limiter: at most `limit` admissions in any window of the limit's length.
    SlidingWindow,
}

/// Errors raised while reading a seed file.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The file could not be read.
    #[error("cannot read seed file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid seed.
    #[error("invalid seed file {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The seed is inconsistent, e.g. a service account names an unknown account.
    #[error("inconsistent seed: {0}")]
    Invalid(String),
}

/// The world the simulator starts with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// IMS server-to-server credentials, each acting as one Frame.io user.
    pub service_accounts: Vec<ServiceAccountSeed>,
    /// Frame.io accounts with their workspaces and projects.
    pub accounts: Vec<AccountSeed>,
}

/// One IMS server-to-server credential and the Frame.io user it acts as.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccountSeed {
    /// The IMS client id.
    pub client_id: String,
    /// The IMS client secret.
    pub client_secret: SecretString,
    /// Id of the Frame.io user; generated when absent.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Display name of the user, e.g. "Service Account User".
    pub name: String,
    /// E-mail address of the user.
    pub email: String,
    /// Ids of the accounts this user belongs to.
    pub accounts: Vec<String>,
    /// Scopes the credential may request; the default is Frame.io's S2S set.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
}

/// One Frame.io account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSeed {
    /// The account id.
    pub id: String,
    /// The account's display name.
    pub display_name: String,
    /// Workspaces of the account.
    #[serde(default)]
    pub workspaces: Vec<WorkspaceSeed>,
}

/// One workspace of an account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceSeed {
    /// The workspace id; generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// The workspace name.
    pub name: String,
    /// Projects of the workspace.
    #[serde(default)]
    pub projects: Vec<ProjectSeed>,
}

/// One project of a workspace; it gets a root folder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSeed {
    /// The project id; generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// The id of the project's root folder; generated when absent.
    #[serde(default)]
    pub root_folder_id: Option<String>,
    /// The project name.
    pub name: String,
}

/// The scopes of a Frame.io server-to-server credential.
pub fn default_scopes() -> Vec<String> {
    ["openid", "AdobeID", "frame.s2s.all"]
        .into_iter()
        .map(String::from)
        .collect()
}

impl Seed {
    /// Reads a JSON seed file.
    pub fn from_file(path: &Path) -> Result<Seed, SeedError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: shown.clone(),
            source,
        })?;
        let seed: Seed = serde_json::from_str(&text).map_err(|source| SeedError::Parse {
            path: shown,
            source,
        })?;
        seed.check()?;
        Ok(seed)
    }

    /// Checks that every service account names known accounts and client ids are unique.
    pub fn check(&self) -> Result<(), SeedError> {
        let mut seen = std::collections::HashSet::new();
        for sa in &self.service_accounts {
            if !seen.insert(&sa.client_id) {
                return Err(SeedError::Invalid(format!(
                    "client_id {} appears twice",
                    sa.client_id
                )));
            }
            for account in &sa.accounts {
                if !self.accounts.iter().any(|a| &a.id == account) {
                    return Err(SeedError::Invalid(format!(
                        "service account {} names unknown account {account}",
                        sa.client_id
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The fixed ids of one of the default seed's service accounts and its world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedIds {
    /// The IMS client id.
    pub client_id: &'static str,
    /// The IMS client secret (a test credential, not a secret).
    pub client_secret: &'static str,
    /// The Frame.io user the credential acts as.
    pub user_id: &'static str,
    /// The user's display name.
    pub user_name: &'static str,
    /// The only account of the user.
    pub account_id: &'static str,
    /// The account's display name.
    pub account_name: &'static str,
    /// The account's workspace.
    pub workspace_id: &'static str,
    /// The workspace's project.
    pub project_id: &'static str,
    /// The project's root folder.
    pub root_folder_id: &'static str,
}

/// The first default service account, "Service Account User" of "Alpha Studio".
pub const ALPHA: SeedIds = SeedIds {
    client_id: "sim-client-alpha",
    client_secret: "sim-secret-alpha",
    user_id: "a0000000-0000-4000-8000-000000000001",
    user_name: "Service Account User",
    account_id: "a1000000-0000-4000-8000-000000000001",
    account_name: "Alpha Studio",
    workspace_id: "a2000000-0000-4000-8000-000000000001",
    project_id: "a3000000-0000-4000-8000-000000000001",
    root_folder_id: "a4000000-0000-4000-8000-000000000001",
};

/// The second default service account, "Service Account User 2" of "Beta Post".
pub const BETA: SeedIds = SeedIds {
    client_id: "sim-client-beta",
    client_secret: "sim-secret-beta",
    user_id: "b0000000-0000-4000-8000-000000000001",
    user_name: "Service Account User 2",
    account_id: "b1000000-0000-4000-8000-000000000001",
    account_name: "Beta Post",
    workspace_id: "b2000000-0000-4000-8000-000000000001",
    project_id: "b3000000-0000-4000-8000-000000000001",
    root_folder_id: "b4000000-0000-4000-8000-000000000001",
};

impl Default for Seed {
    /// Two service accounts ([`ALPHA`] and [`BETA`]), each the only user of its own account
    /// with one workspace and one project. Ids are fixed so that tests and demos can name
    /// them.
    fn default() -> Self {
        let service_account = |ids: &SeedIds| ServiceAccountSeed {
            client_id: ids.client_id.to_owned(),
            client_secret: SecretString::from(ids.client_secret),
            user_id: Some(ids.user_id.to_owned()),
            name: ids.user_name.to_owned(),
            email: format!("{}@techacct.adobe.com", ids.client_id),
            accounts: vec![ids.account_id.to_owned()],
            scopes: default_scopes(),
        };
        let account = |ids: &SeedIds| AccountSeed {
            id: ids.account_id.to_owned(),
            display_name: ids.account_name.to_owned(),
            workspaces: vec![WorkspaceSeed {
                id: Some(ids.workspace_id.to_owned()),
                name: "Main".to_owned(),
                projects: vec![ProjectSeed {
                    id: Some(ids.project_id.to_owned()),
                    root_folder_id: Some(ids.root_folder_id.to_owned()),
                    name: "Dailies".to_owned(),
                }],
            }],
        };
        Seed {
            service_accounts: vec![service_account(&ALPHA), service_account(&BETA)],
            accounts: vec![account(&ALPHA), account(&BETA)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_seed_is_consistent() {
        let seed = Seed::default();
        seed.check().expect("default seed is consistent");
        assert_eq!(seed.service_accounts.len(), 2);
        assert!(seed
            .accounts
            .iter()
            .all(|a| a.workspaces[0].projects.len() == 1));
    }

    #[test]
    fn example_seed_file_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed.json");
        let seed = Seed::from_file(&path).expect("example seed parses");
        assert!(!seed.service_accounts.is_empty());
    }

    #[test]
    fn unknown_account_is_rejected() {
        let mut seed = Seed::default();
        seed.service_accounts[0].accounts.push("nope".to_owned());
        assert!(matches!(seed.check(), Err(SeedError::Invalid(_))));
    }
}
