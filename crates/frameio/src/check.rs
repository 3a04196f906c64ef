//! `fleet accounts check`: proves that a service account's credentials work and shows what
//! they reach.
//!
//! [`check_account`] never fails: every problem ends up, classified, in the [`CheckReport`],
//! whose `Display` is what the command prints.

use std::fmt;
use std::time::Duration;

use futures::TryStreamExt;

use crate::models::{Account, Workspace};
use crate::{Client, Error, ErrorClass, ListParams, Operation};

/// What a check of one service account found.
#[derive(Debug)]
pub struct CheckReport {
    /// The client id checked.
    pub client_id: String,
    /// Whether IMS issued a token.
    pub token_ok: bool,
    /// Whether IMS issued a token and Frame.io accepted it.
    pub credentials_ok: bool,
    /// Time left on the token.
    pub token_remaining: Option<Duration>,
    /// The service account user's name.
    pub user_name: Option<String>,
    /// The service account user's e-mail.
    pub user_email: Option<String>,
    /// Whether the e-mail matches the one expected; `None` when none was given.
    pub email_matches: Option<bool>,
    /// Accounts reachable, each with its workspaces.
    pub accounts: Vec<AccountReach>,
    /// The first error met, if any.
    pub error: Option<CheckError>,
}

/// One account and the workspaces the service account reaches in it.
#[derive(Debug, Clone)]
pub struct AccountReach {
    /// Account id.
    pub id: String,
    /// Account name.
    pub display_name: String,
    /// Workspaces as (id, name).
    pub workspaces: Vec<(String, String)>,
}

/// A classified error of a check, ready to print.
#[derive(Debug, Clone)]
pub struct CheckError {
    /// Transient or permanent.
    pub class: ErrorClass,
    /// The error's stable short name (see [`Error::kind`]).
    pub kind: &'static str,
    /// HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// The full message (never holds a secret).
    pub message: String,
}

impl From<&Error> for CheckError {
    fn from(error: &Error) -> Self {
        Self {
            class: error.class(),
            kind: error.kind(),
            status: error.status(),
            message: error.to_string(),
        }
    }
}

impl CheckReport {
    /// Whether everything worked and the e-mail (if expected) matched.
    pub fn is_ok(&self) -> bool {
        self.credentials_ok && self.error.is_none() && self.email_matches != Some(false)
    }
}

/// Fetches a token, calls `/v4/me`, lists accounts and their workspaces, and reports what
/// worked. `expected_email`, when given, is compared (ignoring case) with the user's e-mail.
pub async fn check_account(client: &Client, expected_email: Option<&str>) -> CheckReport {
    let mut check = CheckReport {
        client_id: client.tokens().client_id().to_owned(),
        token_ok: false,
        credentials_ok: false,
        token_remaining: None,
        user_name: None,
        user_email: None,
        email_matches: None,
        accounts: Vec::new(),
        error: None,
    };

    if let Err(error) = run(client, expected_email, &mut check).await {
        check.error = Some(CheckError::from(&error));
    }
    check.token_remaining = client.tokens().remaining();
    check
}

async fn run(
    client: &Client,
    expected_email: Option<&str>,
    check: &mut CheckReport,
) -> Result<(), Error> {
    // Asking for the token first tells an IMS failure apart from a Frame.io one.
    client.tokens().token().await.map_err(|source| Error::Ims {
        operation: Operation::ImsToken,
        source,
    })?;
    check.token_ok = true;

    let profile = client.me().await?;
    check.credentials_ok = true;
    check.email_matches = expected_email.map(|e| e.eq_ignore_ascii_case(&profile.email));
    check.user_name = Some(profile.name);
    check.user_email = Some(profile.email);

    let params = ListParams::new().page_size(100);
    let accounts: Vec<Account> = client.accounts(params.clone()).try_collect().await?;
    for account in accounts {
        let workspaces: Vec<Workspace> = client
            .workspaces(&account.id, params.clone())
            .try_collect()
            .await?;
        check.accounts.push(AccountReach {
            id: account.id,
            display_name: account.display_name,
            workspaces: workspaces.into_iter().map(|w| (w.id, w.name)).collect(),
        });
    }
    Ok(())
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.is_ok() { "OK" } else { "FAILED" };
        writeln!(f, "service account {}: {verdict}", self.client_id)?;
        let credentials = if self.credentials_ok {
            "accepted"
        } else {
            "not accepted"
        };
        let token = if self.token_ok {
            "issued"
        } else {
            "not issued"
        };
        writeln!(f, "  IMS token: {token}")?;
        writeln!(f, "  credentials: {credentials}")?;
        if let Some(remaining) = self.token_remaining {
            writeln!(f, "  token expires in: {}", format_duration(remaining))?;
        }
        if let (Some(name), Some(email)) = (&self.user_name, &self.user_email) {
            let matched = match self.email_matches {
                Some(true) => " (matches the expected e-mail)",
                Some(false) => " (DOES NOT match the expected e-mail)",
                None => "",
            };
            writeln!(f, "  user: {name} <{email}>{matched}")?;
        }
        for account in &self.accounts {
            writeln!(f, "  account {} ({})", account.display_name, account.id)?;
            for (id, name) in &account.workspaces {
                writeln!(f, "    workspace {name} ({id})")?;
            }
        }
        if let Some(error) = &self.error {
            let status = error
                .status
                .map(|s| format!(", HTTP {s}"))
                .unwrap_or_default();
            writeln!(
                f,
                "  error ({}, {}{status}): {}",
                error.class, error.kind, error.message
            )?;
        }
        Ok(())
    }
}

fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    format!(
        "{}h {:02}m {:02}s",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}
