//! Issue 18: every number of `cargo xtask start-prod` and `cargo xtask demo` is
//! range-checked when parsed: exit 2 naming the flag and the allowed range, before
//! anything is started.

mod common;

fn xtask(args: &[&str]) -> (Option<i32>, String, String) {
    // A dead engine: were a flag accepted, nothing could be brought up anyway.
    let out = common::xtask(args)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .run();
    (Some(out.code), out.stdout, out.stderr)
}

#[test]
fn start_prod_and_demo_numbers_out_of_range_are_usage_errors() {
    let compose = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/start-prod/docker-compose.yml"
    );
    let cases: [(&[&str], &str); 8] = [
        (
            &["start-prod", "-f", compose, "--timeout", "1e300"],
            "for --timeout: a duration from 0 to ",
        ),
        (
            &[
                "start-prod",
                "-f",
                compose,
                "--timeout",
                "18446744073709551616",
            ],
            "for --timeout: a duration from 0 to ",
        ),
        (
            &["start-prod", "-f", compose, "--interval", "0s"],
            "for --interval: a duration from 1 millisecond to 1 day",
        ),
        (
            &["start-prod", "-f", compose, "--interval=-1s"],
            "for --interval: a duration from 1 millisecond to 1 day",
        ),
        (
            &["start-prod", "-f", compose, "--grace", "99999999999d"],
            "for --grace: a duration from 0 to ",
        ),
        (
            &["demo", "--serve", "--for", "1e300"],
            "for --for: a duration from 1 millisecond to ",
        ),
        (
            &["demo", "--serve", "--for", "0s"],
            "for --for: a duration from 1 millisecond to ",
        ),
        (
            &["demo", "--serve", "--for", "NaN"],
            "for --for: a duration from 1 millisecond to ",
        ),
    ];
    for (args, expected) in cases {
        let (code, stdout, stderr) = xtask(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
