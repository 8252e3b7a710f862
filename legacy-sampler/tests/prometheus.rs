//! `--format prometheus` and `--textfile`: the summary as the metrics the alerting
//! rules read, valid for the real promtool.

use day2_tests::process::Bin;

use day2_tests::process::promtool_check_metrics;

#[test]
fn live_counts_become_metrics_that_pass_promtool() {
    let stack = day2_tests::DemoStack::default_stack().expect("demo stack");
    let api = format!("{}/api/status/summary", stack.url());
    let legacy = format!("{}/status/summary", stack.url());
    let out = Bin::new(env!("CARGO_BIN_EXE_legacy-sampler"))
        .args([&api, &legacy, "-n", "10", "--format", "prometheus"])
        .run();
    out.assert_code(0);
    let text = &out.stdout;
    assert!(
        text.contains("legacy_sampler_responses{mode=\"live\",value=\"legacy\"} 5\n"),
        "{text}"
    );
    assert!(
        text.contains("legacy_sampler_responses{mode=\"live\",value=\"api\"} 5\n"),
        "{text}"
    );
    assert!(
        text.contains("legacy_sampler_legacy_ratio{mode=\"live\"} 0.5\n"),
        "{text}"
    );
    assert!(
        text.contains("legacy_sampler_last_legacy_timestamp_seconds{mode=\"live\"} "),
        "{text}"
    );
    assert!(
        text.contains("legacy_sampler_gate_ok{mode=\"live\"} 1\n"),
        "{text}"
    );
    assert!(!text.contains("\"v\":1"), "no records in prometheus format");
    promtool_check_metrics(text);
}

#[test]
fn a_failed_gate_and_the_textfile_beside_json_records() {
    let stack = day2_tests::DemoStack::default_stack().expect("demo stack");
    let legacy = format!("{}/status/summary", stack.url());
    let dir = tempfile::tempdir().unwrap();
    let textfile = dir.path().join("legacy.prom");
    let out = Bin::new(env!("CARGO_BIN_EXE_legacy-sampler"))
        .args([
            &legacy,
            "-n",
            "3",
            "--fail-on-legacy",
            "--textfile",
            textfile.to_str().unwrap(),
        ])
        .output();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.lines().all(|l| l.starts_with("{\"v\":1")),
        "stdout keeps its records:\n{stdout}"
    );
    let text = std::fs::read_to_string(&textfile).expect("textfile written");
    assert!(
        text.contains("legacy_sampler_gate_ok{mode=\"live\"} 0\n"),
        "{text}"
    );
    assert!(
        text.contains("legacy_sampler_responses{mode=\"live\",value=\"legacy\"} 1\n"),
        "{text}"
    );
    promtool_check_metrics(&text);
    let unwritable = Bin::new(env!("CARGO_BIN_EXE_legacy-sampler"))
        .args([&legacy, "-n", "1", "--textfile", "/nonexistent-dir/x.prom"])
        .output();
    assert_eq!(unwritable.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unwritable.stderr)
        .starts_with("legacy-sampler: cannot write the textfile"));
}
