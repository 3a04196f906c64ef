//! `fleet accounts check` against the simulator's built-in service accounts.

use std::time::Duration;

use frameio_sim::{SimHandle, ALPHA, BETA};

use crate::helpers::{account, at, fleet, holds_sim_token, run, spawn_sim, Finished};

const ALPHA_EMAIL: &str = "sim-client-alpha@techacct.adobe.com";
const WRONG_SECRET: &str = "wrong-secret-7f3a9c1d";

/// Token requests the simulator received for one client id.
fn ims_requests(sim: &SimHandle, client_id: &str) -> u64 {
    let stats = sim.stats();
    stats
        .ims
        .requests_by_client
        .get(client_id)
        .copied()
        .unwrap_or(0)
}

fn assert_no_secret_or_token(finished: &Finished, secrets: &[&str]) {
    let all = finished.all();
    for secret in secrets {
        assert!(!all.contains(secret), "a secret leaked:\n{all}");
    }
    assert!(!holds_sim_token(&all), "an access token leaked:\n{all}");
}

#[tokio::test]
async fn a_working_account_passes_and_shows_its_user_accounts_and_workspaces() {
    let sim = spawn_sim().await;
    let mut command = fleet();
    at(&mut command, &sim.base_url());
    account(
        &mut command,
        "studio",
        ALPHA.client_id,
        ALPHA.client_secret,
        Some(ALPHA_EMAIL),
    );
    command.args(["accounts", "check"]);

    let finished = run(command).await;

    assert_eq!(finished.code, Some(0), "{finished:#?}");
    let out = &finished.stdout;
    assert!(
        out.contains("[studio] service account sim-client-alpha: OK"),
        "{out}"
    );
    assert!(out.contains("credentials: accepted"), "{out}");
    assert!(
        out.contains(&format!(
            "user: Service Account User <{ALPHA_EMAIL}> (matches the expected e-mail)"
        )),
        "{out}"
    );
    assert!(out.contains("token expires in: 23h 59m"), "{out}");
    assert!(
        out.contains(&format!("account Alpha Studio ({})", ALPHA.account_id)),
        "{out}"
    );
    assert!(
        out.contains(&format!("workspace Main ({})", ALPHA.workspace_id)),
        "{out}"
    );
    assert!(out.contains("1 account checked: 1 OK, 0 FAILED"), "{out}");
    assert!(!out.contains("Beta Post"), "another user's account: {out}");
    assert_no_secret_or_token(&finished, &[ALPHA.client_secret]);
    assert_eq!(ims_requests(&sim, ALPHA.client_id), 1);
}

#[tokio::test]
async fn a_wrong_secret_fails_fast_with_a_classified_error_that_never_shows_it() {
    let sim = spawn_sim().await;
    let mut command = fleet();
    at(&mut command, &sim.base_url());
    account(&mut command, "studio", ALPHA.client_id, WRONG_SECRET, None);
    command.args(["accounts", "check", "studio"]);

    let finished = run(command).await;

    assert_eq!(finished.code, Some(1), "{finished:#?}");
    let out = &finished.stdout;
    assert!(
        out.contains("[studio] service account sim-client-alpha: FAILED"),
        "{out}"
    );
    assert!(out.contains("IMS token: not issued"), "{out}");
    assert!(
        out.contains("error (permanent, ims_rejected, HTTP 401)"),
        "{out}"
    );
    assert!(out.contains("invalid_client"), "{out}");
    assert!(out.contains("hint: IMS refused the credential"), "{out}");
    assert!(out.contains("1 account checked: 0 OK, 1 FAILED"), "{out}");
    // A rejection is not retried although IMS retries are configured.
    assert_eq!(ims_requests(&sim, ALPHA.client_id), 1);
    assert!(
        finished.elapsed < Duration::from_secs(15),
        "{:?}",
        finished.elapsed
    );
    assert_no_secret_or_token(&finished, &[WRONG_SECRET]);
}

#[tokio::test]
async fn an_email_that_differs_from_the_configured_one_fails_the_check() {
    let sim = spawn_sim().await;
    let mut command = fleet();
    at(&mut command, &sim.base_url());
    account(
        &mut command,
        "studio",
        ALPHA.client_id,
        ALPHA.client_secret,
        Some("editor@studio.example"),
    );
    command.args(["accounts", "check"]);

    let finished = run(command).await;

    assert_eq!(finished.code, Some(1), "{finished:#?}");
    let out = &finished.stdout;
    assert!(out.contains("credentials: accepted"), "{out}");
    assert!(
        out.contains(&format!(
            "user: Service Account User <{ALPHA_EMAIL}> (DOES NOT match the expected e-mail)"
        )),
        "{out}"
    );
    assert!(out.contains("hint: the credential acts as another user; set accounts.studio.email"));
    assert!(out.contains("0 OK, 1 FAILED"), "{out}");
    assert_no_secret_or_token(&finished, &[ALPHA.client_secret]);
}

#[tokio::test]
async fn an_unknown_alias_is_a_clear_error_without_any_ims_call() {
    let sim = spawn_sim().await;
    let mut command = fleet();
    at(&mut command, &sim.base_url());
    account(
        &mut command,
        "studio",
        ALPHA.client_id,
        ALPHA.client_secret,
        None,
    );
    account(
        &mut command,
        "agency",
        BETA.client_id,
        BETA.client_secret,
        None,
    );
    command.args(["accounts", "check", "nosuch"]);

    let finished = run(command).await;

    assert_eq!(finished.code, Some(1), "{finished:#?}");
    assert!(
        finished
            .stderr
            .contains("unknown account alias `nosuch`; configured: agency, studio"),
        "{}",
        finished.stderr
    );
    assert!(finished.stdout.is_empty(), "{}", finished.stdout);
    assert_eq!(sim.stats().ims.token_requests, 0);
}

#[tokio::test]
async fn naming_an_alias_checks_only_that_account() {
    let sim = spawn_sim().await;
    let mut command = fleet();
    at(&mut command, &sim.base_url());
    account(
        &mut command,
        "studio",
        ALPHA.client_id,
        ALPHA.client_secret,
        None,
    );
    account(&mut command, "agency", BETA.client_id, WRONG_SECRET, None);
    command.args(["accounts", "check", "studio"]);

    let finished = run(command).await;

    assert_eq!(finished.code, Some(0), "{finished:#?}");
    assert!(!finished.stdout.contains("[agency]"), "{}", finished.stdout);
    assert_eq!(ims_requests(&sim, ALPHA.client_id), 1);
    assert_eq!(ims_requests(&sim, BETA.client_id), 0);
}

#[tokio::test]
async fn one_failing_account_fails_the_check_of_all() {
    let sim = spawn_sim().await;
    let mut command = fleet();
    at(&mut command, &sim.base_url());
    account(
        &mut command,
        "studio",
        ALPHA.client_id,
        ALPHA.client_secret,
        Some(ALPHA_EMAIL),
    );
    account(&mut command, "agency", BETA.client_id, WRONG_SECRET, None);
    command.args(["accounts", "check"]);

    let finished = run(command).await;

    assert_eq!(finished.code, Some(1), "{finished:#?}");
    let out = &finished.stdout;
    assert!(
        out.contains("[agency] service account sim-client-beta: FAILED"),
        "{out}"
    );
    assert!(
        out.contains("[studio] service account sim-client-alpha: OK"),
        "{out}"
    );
    assert!(
        out.find("[agency]") < out.find("[studio]"),
        "alias order: {out}"
    );
    assert!(out.contains("2 accounts checked: 1 OK, 1 FAILED"), "{out}");
    assert_no_secret_or_token(&finished, &[ALPHA.client_secret, WRONG_SECRET]);
}

#[tokio::test]
async fn an_unreachable_frameio_is_reported_as_transient() {
    let sim = spawn_sim().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let mut command = fleet();
    command
        .env("FLEET__FRAMEIO__API_BASE_URL", &closed)
        .env("FLEET__FRAMEIO__IMS_BASE_URL", sim.base_url());
    account(
        &mut command,
        "studio",
        ALPHA.client_id,
        ALPHA.client_secret,
        None,
    );
    command.args(["accounts", "check"]);

    let finished = run(command).await;

    assert_eq!(finished.code, Some(1), "{finished:#?}");
    let out = &finished.stdout;
    assert!(out.contains("IMS token: issued"), "{out}");
    assert!(out.contains("credentials: not accepted"), "{out}");
    assert!(out.contains("error (transient, connect)"), "{out}");
    assert!(out.contains("hint: Frame.io is unreachable"), "{out}");
    assert_no_secret_or_token(&finished, &[ALPHA.client_secret]);
}

#[tokio::test]
async fn without_accounts_the_check_fails_and_says_how_to_add_one() {
    let finished = run({
        let mut command = fleet();
        command.args(["accounts", "check"]);
        command
    })
    .await;

    assert_eq!(finished.code, Some(1), "{finished:#?}");
    assert!(
        finished.stderr.contains("no service account is configured"),
        "{}",
        finished.stderr
    );
}

#[tokio::test]
async fn a_bad_frameio_url_is_refused_naming_its_key() {
    let mut command = fleet();
    command.env("FLEET__FRAMEIO__IMS_BASE_URL", "ftp://ims.example");
    account(
        &mut command,
        "studio",
        ALPHA.client_id,
        ALPHA.client_secret,
        None,
    );
    command.args(["accounts", "check"]);

    let finished = run(command).await;

    assert_eq!(finished.code, Some(1), "{finished:#?}");
    assert!(
        finished.stderr.contains("frameio.ims_base_url"),
        "{}",
        finished.stderr
    );
}
