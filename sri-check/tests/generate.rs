//! `sri-check generate` on fixture trees: files, globs and stdin lists, the exact
//! bytes written, `--check` and `--update`, and refusals that leave the manifest
//! untouched.

mod common;

use std::ffi::OsStr;

use common::{run_bin, sri, sri384, sri_check, Tree};
use day2_core::Verdict::{Error, Fail, Info, Pass, Warn};

const APP: &[u8] = b"console.log('app');\n";
const CSS: &[u8] = b"body { color: #222 }\n";

fn site() -> Tree {
    let tree = Tree::new();
    tree.file("js/app.js", APP)
        .file("js/vendor/lib.js", b"lib()\n")
        .file("css/site.css", CSS);
    tree
}

#[test]
fn writes_sorted_two_space_json_with_a_final_newline() {
    let tree = site();
    let run = sri_check(tree.path(), &["generate", "js/app.js", "css/site.css"], b"");
    assert_eq!(run.code, 0, "{run:?}");
    let expected = format!(
        "{{\n  \"css/site.css\": {{\n    \"sha384\": \"{}\"\n  }},\n  \"js/app.js\": {{\n    \"sha384\": \"{}\"\n  }}\n}}\n",
        sri384(CSS),
        sri384(APP)
    );
    assert_eq!(tree.read("sri-manifest.json"), expected);
    assert_eq!(run.outcome("entry", "js/app.js"), (Info, Some("added")));
    assert_eq!(
        run.record("entry", "js/app.js").data["integrity"],
        sri384(APP)
    );
    assert_eq!(
        run.outcome("manifest", "sri-manifest.json"),
        (Info, Some("written"))
    );
    // What was written verifies, and generating again changes nothing.
    assert_eq!(sri_check(tree.path(), &[], b"").code, 0);
    let again = sri_check(tree.path(), &["generate", "js/app.js", "css/site.css"], b"");
    assert_eq!(again.code, 0);
    assert_eq!(again.outcome("entry", "js/app.js"), (Pass, None));
    assert_eq!(again.outcome("manifest", "sri-manifest.json"), (Pass, None));
}

#[test]
fn globs_and_stdin_lists_select_files() {
    let tree = site();
    let run = sri_check(tree.path(), &["generate", "js/**/*.js"], b"");
    assert_eq!(run.code, 0, "{run:?}");
    let keys: Vec<&str> = run
        .of_check("entry")
        .iter()
        .map(|r| r.target.as_str())
        .collect();
    assert_eq!(keys, ["js/app.js", "js/vendor/lib.js"]);
    // `*` stays within a directory.
    let run = sri_check(tree.path(), &["generate", "--check", "js/*.js"], b"");
    assert_eq!(run.code, 1);
    assert_eq!(
        run.outcome("entry", "js/vendor/lib.js"),
        (Fail, Some("removed"))
    );
    // Paths from stdin, as from `find` or `git ls-files`, newline or NUL separated.
    let run = sri_check(
        tree.path(),
        &["generate", "-"],
        b"./css/site.css\njs/app.js\n\n",
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.outcome("entry", "css/site.css"), (Info, Some("added")));
    assert_eq!(
        run.outcome("entry", "js/vendor/lib.js"),
        (Info, Some("removed"))
    );
    let run = sri_check(
        tree.path(),
        &["generate", "--check", "-0", "-"],
        b"css/site.css\0js/app.js\0",
    );
    assert_eq!(run.code, 0, "{run:?}");
    // A list from `find` includes the manifest, which is not listed in itself.
    let run = sri_check(
        tree.path(),
        &["generate", "--check", "-"],
        b"./css/site.css\n./js/app.js\n./sri-manifest.json\n",
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.outcome("operand", "./sri-manifest.json"),
        (Info, Some("manifest_itself"))
    );
    // A glob that matches nothing is a warning, not a silent no-op.
    let run = sri_check(tree.path(), &["generate", "--update", "img/*.png"], b"");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.outcome("operand", "img/*.png"),
        (Warn, Some("no_match"))
    );
}

#[test]
fn check_mode_names_what_would_change_and_writes_nothing() {
    let tree = site();
    assert_eq!(
        sri_check(tree.path(), &["generate", "js/app.js", "css/site.css"], b"").code,
        0
    );
    let before = tree.read("sri-manifest.json");
    let up_to_date = sri_check(
        tree.path(),
        &["generate", "--check", "js/app.js", "css/site.css"],
        b"",
    );
    assert_eq!(up_to_date.code, 0, "{up_to_date:?}");
    assert_eq!(
        up_to_date.outcome("manifest", "sri-manifest.json"),
        (Pass, None)
    );

    tree.file("js/app.js", b"console.log('v2');\n");
    let run = sri_check(
        tree.path(),
        &["generate", "--check", "js/app.js", "js/vendor/lib.js"],
        b"",
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.outcome("entry", "js/app.js"), (Fail, Some("changed")));
    assert_eq!(
        run.record("entry", "js/app.js").data["previous"],
        sri384(APP)
    );
    assert_eq!(
        run.outcome("entry", "js/vendor/lib.js"),
        (Fail, Some("added"))
    );
    assert_eq!(
        run.outcome("entry", "css/site.css"),
        (Fail, Some("removed"))
    );
    let manifest = run.record("manifest", "sri-manifest.json");
    assert_eq!(manifest.reason.as_deref(), Some("would_change"));
    assert_eq!(manifest.data["counts"]["changed"], 1);
    assert_eq!(tree.read("sri-manifest.json"), before);

    // Same entries written differently (one line, `algo` key) also count as a change.
    tree.file("js/app.js", APP);
    let compact = format!(
        "{{\"js/app.js\":{{\"algo\":\"{}\"}},\"css/site.css\":{{\"sha384\":\"{}\"}}}}",
        sri384(APP),
        sri384(CSS)
    );
    tree.file("sri-manifest.json", compact.as_bytes());
    let run = sri_check(tree.path(), &["generate", "--check"], b"");
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.outcome("entry", "js/app.js"), (Pass, None));
    let manifest = run.record("manifest", "sri-manifest.json");
    assert_eq!(manifest.reason.as_deref(), Some("would_change"));
    assert_eq!(manifest.data["reformatted"], true);
}

#[test]
fn update_keeps_existing_entries_and_refreshes_them() {
    let tree = site();
    assert_eq!(
        sri_check(tree.path(), &["generate", "js/app.js"], b"").code,
        0
    );
    tree.file("js/app.js", b"v2\n");
    let run = sri_check(tree.path(), &["generate", "--update", "css/site.css"], b"");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.outcome("entry", "js/app.js"), (Info, Some("changed")));
    assert_eq!(run.outcome("entry", "css/site.css"), (Info, Some("added")));
    // Without paths, generate re-hashes what the manifest lists.
    tree.file("css/site.css", b"v3\n");
    let run = sri_check(tree.path(), &["generate"], b"");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.outcome("entry", "css/site.css"),
        (Info, Some("changed"))
    );
    assert_eq!(sri_check(tree.path(), &[], b"").code, 0);
    // Without paths and without a manifest there is nothing to do.
    let empty = Tree::new();
    let run = sri_check(empty.path(), &["generate"], b"");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
}

#[test]
fn other_algorithms_are_written_under_integrity() {
    let tree = site();
    let run = sri_check(
        tree.path(),
        &["generate", "--algo", "sha512", "js/app.js"],
        b"",
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(tree
        .read("sri-manifest.json")
        .contains(&format!("\"integrity\": \"{}\"", sri("sha512", APP))));
    let run = sri_check(tree.path(), &[], b"");
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn refusals_are_recorded_and_leave_the_manifest_untouched() {
    let outer = Tree::new();
    outer.file("outside.js", b"secret\n");
    let tree = Tree {
        dir: tempfile::tempdir_in(outer.path()).unwrap(),
    };
    tree.file("js/app.js", APP);
    tree.symlink("out.js", outer.join("outside.js").to_str().unwrap());
    tree.file("sri-manifest.json", b"{}\n");
    let outside = outer.join("outside.js");
    let run = sri_check(
        tree.path(),
        &[
            "generate",
            "js/app.js",
            "../outside.js",
            outside.to_str().unwrap(),
            "out.js",
            "js",
            "nope.js",
        ],
        b"",
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.outcome("entry", "../outside.js"),
        (Fail, Some("escapes_root"))
    );
    assert_eq!(
        run.outcome("entry", outside.to_str().unwrap()),
        (Fail, Some("escapes_root"))
    );
    assert_eq!(run.outcome("entry", "out.js"), (Fail, Some("escapes_root")));
    assert_eq!(run.outcome("entry", "js"), (Error, Some("not_a_file")));
    assert_eq!(run.outcome("entry", "nope.js"), (Fail, Some("missing")));
    assert_eq!(
        run.outcome("manifest", "sri-manifest.json"),
        (Fail, Some("not_written"))
    );
    assert_eq!(tree.read("sri-manifest.json"), "{}\n");
}

#[test]
fn non_utf8_names_are_recorded_not_fatal() {
    use std::os::unix::ffi::OsStrExt;
    let tree = site();
    let name = OsStr::from_bytes(b"bad-\xff.js");
    std::fs::write(tree.path().join(name), b"x").unwrap();
    // From stdin (find prints raw bytes) and from argv.
    let run = sri_check(tree.path(), &["generate", "-"], b"js/app.js\nbad-\xff.js\n");
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.outcome("entry", "bad-\u{fffd}.js"),
        (Error, Some("non_utf8_name"))
    );
    assert_eq!(
        run.outcome("manifest", "sri-manifest.json"),
        (Fail, Some("not_written"))
    );
    let run = run_bin(tree.path(), [OsStr::new("generate"), name], b"");
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.outcome("entry", "bad-\u{fffd}.js"),
        (Error, Some("non_utf8_name"))
    );
}

#[test]
fn a_malformed_existing_manifest_stops_generate_with_exit_2() {
    let tree = site();
    tree.file("sri-manifest.json", b"{\n  \"js/app.js\": \n");
    let run = sri_check(tree.path(), &["generate", "js/app.js"], b"");
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("sri-manifest.json:3:"),
        "{}",
        run.stderr
    );
    // So does a glob that cannot be compiled.
    tree.file("sri-manifest.json", b"{}\n");
    let run = sri_check(tree.path(), &["generate", "js/[unclosed"], b"");
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("bad glob"), "{}", run.stderr);
}

#[test]
fn a_manifest_that_cannot_be_written_is_an_error_record() {
    let tree = site();
    // Nothing can be created in /proc, not even by root.
    let root = tree.path().to_str().unwrap();
    let run = sri_check(
        tree.path(),
        &[
            "generate",
            "--root",
            root,
            "--manifest",
            "/proc/self/sri-manifest.json",
            "js/app.js",
        ],
        b"",
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.outcome("manifest", "/proc/self/sri-manifest.json"),
        (Error, Some("write_failed"))
    );
}

#[test]
fn a_reader_that_goes_away_does_not_stop_the_write() {
    struct Gone;
    impl std::io::Write for Gone {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let tree = site();
    let manifest = tree.join("sri-manifest.json");
    let app = tree.join("js/app.js");
    let args = [
        "sri-check",
        "generate",
        "--manifest",
        manifest.to_str().unwrap(),
        app.to_str().unwrap(),
    ];
    let (mut stdin, mut stdout, mut stderr) = (&b""[..], Gone, Vec::new());
    let mut io = day2_core::Io {
        stdin: &mut stdin,
        stdout: &mut stdout,
        stderr: &mut stderr,
        interactive: false,
    };
    let exit = sri_check::run(args.iter().map(std::ffi::OsString::from).collect(), &mut io);
    assert_eq!(exit, day2_core::Exit::Ok);
    assert!(tree.read("sri-manifest.json").contains(&sri384(APP)));
}
