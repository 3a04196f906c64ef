//! `fleet accounts check [ALIAS]`: proves that configured service accounts work.
//!
//! For every configured account, or the one named, it builds a Frame.io client from the
//! settings (`[frameio]` and `[accounts.<alias>]`), fetches an IMS token, calls `/v4/me` and
//! lists the accounts and workspaces the service account reaches ([`frameio::check`]). One
//! report per account goes to standard output, then a summary line. The exit code is
//! non-zero when any account fails, an e-mail differs from the configured one included.
//!
//! Nothing printed holds a secret or a token: the reports carry none by construction, and
//! the configured secrets are scrubbed from the text before it is printed all the same.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use fleet_worker::Settings;
use frameio::check::{check_account, CheckReport};
use frameio::Client;
use futures::future::join_all;
use secrecy::ExposeSecret;

/// What replaces a configured secret found in the output.
const REDACTED: &str = "[REDACTED]";

/// Arguments of `fleet accounts check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The alias of one configured account (`[accounts.<alias>]`); all accounts when absent.
    alias: Option<String>,
}

/// Checks the selected accounts at the same time and prints a report for each, in alias
/// order. Fails when any of them fails.
pub async fn check(config: Option<&Path>, args: CheckArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(config).context("invalid configuration")?;
    fleet_worker::logging::init(&settings.log);
    let aliases = selected_aliases(&settings, args.alias.as_deref())?;

    let failed = check_and_print(&settings, &aliases).await?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Checks `aliases` at the same time, prints their reports and a summary line, and returns
/// how many failed. `fleet demo` uses it too.
pub async fn check_and_print(settings: &Settings, aliases: &[String]) -> anyhow::Result<usize> {
    let clients = account_clients(settings, aliases)?;
    let reports = join_all(clients.iter().map(|c| account_report(settings, c))).await;

    Ok(print_reports(settings, &reports))
}

/// One account's client, labelled with its alias.
struct AccountClient {
    alias: String,
    client: Client,
}

/// One account's report, labelled with its alias.
struct AliasReport {
    alias: String,
    report: CheckReport,
}

impl std::fmt::Display for AliasReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.alias, self.report)?;
        if let Some(hint) = hint(&self.alias, &self.report) {
            writeln!(f, "  hint: {hint}")?;
        }
        Ok(())
    }
}

/// What an operator can do about a failed check, when the failure says it.
fn hint(alias: &str, report: &CheckReport) -> Option<String> {
    let Some(error) = &report.error else {
        return (report.email_matches == Some(false)).then(|| {
            format!(
                "the credential acts as another user; set accounts.{alias}.email to the \
                 technical account e-mail of the Developer Console, or use that credential"
            )
        });
    };

    let text = match error.kind {
        "ims_rejected" => format!(
            "IMS refused the credential; check accounts.{alias}.client_id, client_secret and \
             scope against the OAuth server-to-server credential in the Developer Console"
        ),
        "ims_throttled" | "ims_unavailable" => {
            "IMS is busy or unreachable; check frameio.ims_base_url and try again later".into()
        }
        "connect" | "timeout" | "transport" => {
            "Frame.io is unreachable; check frameio.api_base_url and the network path".into()
        }
        "http_401" | "http_403" => "IMS issued a token but Frame.io refused it; check that the \
             Developer Console project has the Frame.io API and that the service account was \
             added to the Frame.io account"
            .into(),
        _ => return None,
    };
    Some(text)
}

/// The aliases to check: the one named, or every configured one.
fn selected_aliases(settings: &Settings, alias: Option<&str>) -> anyhow::Result<Vec<String>> {
    let configured: Vec<String> = settings.accounts.keys().cloned().collect();
    if configured.is_empty() {
        bail!(
            "no service account is configured; add [accounts.<alias>] with client_id and \
             client_secret (or FLEET__ACCOUNTS__<ALIAS>__CLIENT_ID and __CLIENT_SECRET)"
        );
    }

    match alias {
        None => Ok(configured),
        Some(alias) if settings.accounts.contains_key(alias) => Ok(vec![alias.to_owned()]),
        Some(alias) => bail!(
            "unknown account alias `{alias}`; configured: {}",
            configured.join(", ")
        ),
    }
}

/// One client per alias, all sharing one connection pool.
fn account_clients(settings: &Settings, aliases: &[String]) -> anyhow::Result<Vec<AccountClient>> {
    let http = frameio::http_client(&settings.frameio).context("cannot build the HTTP client")?;
    aliases
        .iter()
        .map(|alias| account_client(settings, &http, alias))
        .collect()
}

fn account_client(
    settings: &Settings,
    http: &reqwest::Client,
    alias: &str,
) -> anyhow::Result<AccountClient> {
    let credentials = settings
        .credentials(alias)
        .with_context(|| format!("account `{alias}` has no client secret"))?;
    let client = Client::with_http(http.clone(), settings.frameio.clone(), credentials)
        .with_context(|| format!("cannot build the Frame.io client of account `{alias}`"))?;
    Ok(AccountClient {
        alias: alias.to_owned(),
        client,
    })
}

async fn account_report(settings: &Settings, account: &AccountClient) -> AliasReport {
    let expected_email = settings
        .accounts
        .get(&account.alias)
        .and_then(|a| a.email.as_deref());

    let report = check_account(&account.client, expected_email).await;

    tracing::debug!(account = %account.alias, ok = report.is_ok(),
        error = ?report.error.as_ref().map(|e| e.kind), "account checked");
    AliasReport {
        alias: account.alias.clone(),
        report,
    }
}

/// Prints the reports, secrets scrubbed, and a summary line; returns how many failed.
fn print_reports(settings: &Settings, reports: &[AliasReport]) -> usize {
    let secrets = configured_secrets(settings);
    for report in reports {
        println!("{}", redact(&report.to_string(), &secrets));
    }

    let failed = reports.iter().filter(|r| !r.report.is_ok()).count();
    println!(
        "{} checked: {} OK, {failed} FAILED",
        plural(reports.len(), "account"),
        reports.len() - failed
    );
    failed
}

/// Every configured client secret, longest first so that a secret containing another is
/// replaced whole.
fn configured_secrets(settings: &Settings) -> Vec<String> {
    let mut secrets: Vec<String> = settings
        .accounts
        .values()
        .filter_map(|a| a.client_secret.as_ref())
        .map(|s| s.expose_secret().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
}

/// Replaces every occurrence of a secret in `text`.
fn redact(text: &str, secrets: &[String]) -> String {
    secrets.iter().fold(text.to_owned(), |text, secret| {
        text.replace(secret, REDACTED)
    })
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_replaces_every_secret_whole() {
        let secrets = vec!["abc-secret-long".to_owned(), "abc-secret".to_owned()];

        let text = redact("x abc-secret-long y abc-secret z", &secrets);

        assert_eq!(text, "x [REDACTED] y [REDACTED] z");
    }

    #[test]
    fn plural_counts_accounts() {
        assert_eq!(plural(1, "account"), "1 account");
        assert_eq!(plural(3, "account"), "3 accounts");
    }
}
