//! `cargo xtask dist` writes completions and a man page for every binary.

use day2_tests::process::Bin;

#[test]
fn dist_writes_completions_and_man_pages_for_every_binary() {
    let out_dir = tempfile::tempdir().expect("temp dir");
    let out = Bin::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["dist", "--out-dir"])
        .arg(out_dir.path())
        .run();
    out.assert_code(0);
    for name in day2_tests::bins::ALL {
        // The xtask is completed as people call it: `cargo xtask` (cargo-xtask).
        let called = if name == "xtask" { "cargo-xtask" } else { name };
        let bash = out_dir.path().join(format!("completions/{called}.bash"));
        let script =
            std::fs::read_to_string(&bash).unwrap_or_else(|e| panic!("{}: {e}", bash.display()));
        assert!(
            script.contains(&format!("complete -F _{} ", called.replace('-', "_"))),
            "{script}"
        );
        // The completion script is valid bash.
        Bin::new("bash").arg("-n").arg(&bash).run().assert_success();
        for file in [
            format!("completions/_{called}"),
            format!("completions/{called}.fish"),
        ] {
            assert!(out_dir.path().join(&file).is_file(), "{file}");
        }
        let page = std::fs::read_to_string(out_dir.path().join(format!("man/{name}.1")))
            .expect("man page");
        assert!(
            page.contains(".TH") && page.contains(name),
            "{name}.1 is a man page"
        );
    }
}

#[test]
fn an_unwritable_output_directory_is_an_error_record_per_binary() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let out = Bin::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["dist", "--out-dir"])
        .arg(file.path().join("below-a-file"))
        .output();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), day2_tests::bins::ALL.len());
    assert!(stdout
        .lines()
        .all(|l| l.contains("\"verdict\":\"error\"") && l.contains("\"reason\":\"write_failed\"")));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("xtask: "));
}
