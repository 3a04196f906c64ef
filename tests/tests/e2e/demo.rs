//! `fleet demo`, the first command of the README, runs end to end on a test vhost.

use fleet_tests::workers::fleet_command;
use fleet_tests::TestBed;

/// The demo checks its service accounts against the simulator, runs its sample jobs and
/// prints a summary in which the results and the worker's metrics agree.
#[test]
fn the_demo_runs_end_to_end_and_its_summary_adds_up() {
    let bed = TestBed::new("demo");
    let env = [("FLEET__BROKER__URL".to_owned(), bed.url.clone())].into();

    let output = fleet_command(&["demo", "--jobs", "40"], &env)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);

    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("2 accounts checked: 2 OK, 0 FAILED"),
        "{stdout}"
    );
    // 40 quick + 20 slow + 5 flaky per account succeed: 130 in all, as results and metrics.
    let line = |label: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.split_whitespace().last()?.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no line {label:?} in {stdout}"))
    };
    assert_eq!(line("succeeded"), 130);
    assert_eq!(line("jobs succeeded"), 130);
    assert_eq!(line("failed: not_json"), 1);
    assert_eq!(line("dead-lettered"), 13);
}
