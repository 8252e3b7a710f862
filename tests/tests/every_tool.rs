//! Every binary of the workspace honours the shared command-line contract.

use day2_tests::process::Bin;

use day2_tests::bins::{bin, ALL};

#[test]
fn every_binary_has_help_version_and_rejects_a_bad_flag_with_2() {
    for name in ALL {
        let help = Bin::new(bin(name)).arg("--help").output();
        assert_eq!(help.status.code(), Some(0), "{name} --help");
        let text = String::from_utf8_lossy(&help.stdout);
        assert!(
            text.contains("Usage:"),
            "{name} --help prints usage:\n{text}"
        );
        for code in ["  0 ", "  1 ", "  2 ", "  124 "] {
            assert!(
                text.contains(code),
                "{name} --help documents exit code {code}:\n{text}"
            );
        }

        let version = Bin::new(bin(name)).arg("--version").output();
        assert_eq!(version.status.code(), Some(0), "{name} --version");
        let text = String::from_utf8_lossy(&version.stdout);
        assert!(
            text.starts_with(&format!("{name} ")),
            "{name} --version: {text}"
        );

        let bad = Bin::new(bin(name)).arg("--no-such-flag").output();
        assert_eq!(bad.status.code(), Some(2), "{name} --no-such-flag");
        assert!(
            bad.stdout.is_empty(),
            "{name}: usage errors go to stderr only"
        );
        let err = String::from_utf8_lossy(&bad.stderr);
        assert!(
            err.contains("--no-such-flag") && !err.contains("panicked"),
            "{name}: {err}"
        );
    }
}
