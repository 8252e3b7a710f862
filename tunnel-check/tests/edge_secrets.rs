//! Issue 18: a credential in the edge or origin URL of `tunnel-check edge`
//! (userinfo password, token query value) reaches no output. The masking is
//! day2-core's record sink and stderr writer; this test is the only tunnel-check
//! file it needed.

mod common;

use common::run;

#[test]
fn url_credentials_never_reach_any_output() {
    // "secret" in the canary tells the harness that masks are expected.
    const CANARY: &str = "CANARY-secret-51d0";
    let closed = day2_tests::fake_edge::closed_url().expect("closed port");
    let with_secret = |url: &str| {
        format!(
            "{}/?access_token={CANARY}",
            url.replacen("http://", &format!("http://ops:{CANARY}@"), 1)
        )
    };
    let (edge, origin) = (with_secret(&closed), with_secret(&closed));
    let out = run(&["edge", "--edge", &edge, "--origin", &origin], "");
    assert!(!out.records.is_empty(), "{out:?}");
    assert!(
        !out.stdout.contains(CANARY) && !out.stderr.contains(CANARY),
        "{out:?}"
    );
    assert!(out.stdout.contains("ops:[REDACTED]@127.0.0.1"), "{out:?}");
}
