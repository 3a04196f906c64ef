//! `fleet sim`: serves IMS and Frame.io on the port it prints, and stops cleanly on SIGTERM
//! and SIGINT.

use std::process::Stdio;

use frameio_sim::ALPHA;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

use crate::helpers::{account, at, fleet, run, signal, CHILD_TIMEOUT};

/// Starts `fleet sim` on a free port and returns the child and the base URL it printed.
async fn start_sim() -> (Child, String) {
    let mut command = fleet();
    command
        .args(["sim", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().expect("fleet sim starts");

    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(CHILD_TIMEOUT, stdout.read_line(&mut line))
        .await
        .expect("fleet sim printed its address in time")
        .unwrap();
    // Whatever else it prints is read too, so that it never writes into a closed pipe.
    tokio::spawn(async move {
        let mut rest = stdout.lines();
        while let Ok(Some(_)) = rest.next_line().await {}
    });
    let base_url = line
        .trim()
        .strip_prefix("Frame.io simulator listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    (child, base_url)
}

async fn exit_code(mut child: Child) -> Option<i32> {
    let status = tokio::time::timeout(CHILD_TIMEOUT, child.wait())
        .await
        .expect("fleet sim stopped in time")
        .unwrap();
    status.code()
}

#[tokio::test]
async fn fleet_sim_issues_tokens_answers_me_and_exits_0_on_sigterm() {
    let (child, base_url) = start_sim().await;
    let http = reqwest::Client::new();

    let grant: Value = http
        .post(format!("{base_url}/ims/token/v3"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", ALPHA.client_id),
            ("client_secret", ALPHA.client_secret),
            ("scope", "openid AdobeID frame.s2s.all"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = grant["access_token"].as_str().expect("a token");
    let me = http
        .get(format!("{base_url}/v4/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = me.status();
    let has_limit = me.headers().contains_key("x-ratelimit-limit");
    let me: Value = me.json().await.unwrap();
    signal(&child, "TERM").await;

    assert_eq!(status, 200);
    assert!(has_limit);
    assert_eq!(me["data"]["name"], ALPHA.user_name);
    assert_eq!(me["data"]["id"], ALPHA.user_id);
    assert_eq!(exit_code(child).await, Some(0));
    assert!(
        http.get(format!("{base_url}/v4/me")).send().await.is_err(),
        "nothing listens any more"
    );
}

#[tokio::test]
async fn accounts_check_passes_against_fleet_sim_which_exits_0_on_sigint() {
    let (child, base_url) = start_sim().await;
    let mut check = fleet();
    at(&mut check, &base_url);
    account(
        &mut check,
        "studio",
        ALPHA.client_id,
        ALPHA.client_secret,
        None,
    );
    check.args(["accounts", "check"]);

    let finished = run(check).await;
    signal(&child, "INT").await;

    assert_eq!(finished.code, Some(0), "{finished:#?}");
    assert!(finished.stdout.contains("Service Account User"));
    assert_eq!(exit_code(child).await, Some(0));
}
