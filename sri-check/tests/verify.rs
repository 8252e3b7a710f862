//! `sri-check verify` (the default) on fixture trees: clean, drifted, missing,
//! escaping, symlinked, unreadable entries, every SRI string form, malformed JSON.

mod common;

use common::{mkfifo, sri, sri384, sri_check, Tree};
use day2_core::Verdict::{Error, Fail, Pass, Warn};
use serde_json::json;

const APP: &[u8] = b"console.log('app');\n";
const CSS: &[u8] = b"body { color: #222 }\n";

fn write_manifest(tree: &Tree, rel: &str, manifest: serde_json::Value) {
    tree.file(
        rel,
        serde_json::to_string_pretty(&manifest).unwrap().as_bytes(),
    );
}

#[test]
fn a_clean_tree_passes_with_one_record_per_entry_and_a_summary() {
    let tree = Tree::new();
    tree.file("js/app.js", APP).file("css/site.css", CSS);
    write_manifest(
        &tree,
        "sri-manifest.json",
        json!({"js/app.js": {"sha384": sri384(APP)}, "css/site.css": {"sha384": sri384(CSS)}}),
    );
    // A bare `sri-check` in the site root is the guide's check.
    let run = sri_check(tree.path(), &[], b"");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.outcome("entry", "js/app.js"), (Pass, None));
    assert_eq!(run.outcome("entry", "css/site.css"), (Pass, None));
    let entry = run.record("entry", "js/app.js");
    assert_eq!(entry.data["actual"], sri384(APP));
    assert_eq!(entry.data["bytes"], APP.len());
    let summary = run.record("summary", "sri-manifest.json");
    assert_eq!(summary.reason.as_deref(), Some("summary"));
    assert_eq!(summary.data["entries"], 2);
    assert_eq!(summary.data["reasons"]["ok"], 2);
    // The explicit subcommand and --manifest from elsewhere say the same.
    let manifest = tree.join("sri-manifest.json");
    let run = sri_check(
        std::path::Path::new("/"),
        &["verify", "--manifest", manifest.to_str().unwrap()],
        b"",
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.of_check("entry").len(), 2);
}

#[test]
fn drift_and_missing_files_fail_with_exit_1() {
    let tree = Tree::new();
    tree.file("js/app.js", b"console.log('changed');\n")
        .file("css/site.css", CSS);
    write_manifest(
        &tree,
        "site.json",
        json!({
            "js/app.js": {"sha384": sri384(APP)},
            "css/site.css": {"sha384": sri384(CSS)},
            "gone.js": {"sha384": sri384(b"gone")},
        }),
    );
    let run = sri_check(tree.path(), &["--manifest", "site.json"], b"");
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.outcome("entry", "js/app.js"), (Fail, Some("drift")));
    let drift = run.record("entry", "js/app.js");
    assert_eq!(drift.data["expected"], json!([sri384(APP)]));
    assert_eq!(drift.data["actual"], sri384(b"console.log('changed');\n"));
    assert_eq!(run.outcome("entry", "gone.js"), (Fail, Some("missing")));
    assert_eq!(run.outcome("entry", "css/site.css"), (Pass, None));
    assert_eq!(
        run.record("summary", "site.json").data["reasons"],
        json!({"ok": 1, "drift": 1, "missing": 1})
    );
}

#[test]
fn entries_escaping_the_root_are_refused_without_being_read() {
    let outer = Tree::new();
    // Every escape leads to a FIFO: had the tool opened one, it would hang here.
    mkfifo(&outer.join("secret"));
    let site = outer.join("site");
    std::fs::create_dir(&site).unwrap();
    let tree = Tree {
        dir: tempfile::tempdir_in(&site).unwrap(),
    };
    let fifo = outer.join("secret");
    let fifo = fifo.to_str().unwrap();
    tree.file("ok.js", APP);
    tree.symlink("link-out", fifo);
    tree.symlink("dir-out", outer.path().to_str().unwrap());
    tree.symlink("link-in", "ok.js");
    tree.symlink("dangling", "nowhere.js");
    write_manifest(
        &tree,
        "sri-manifest.json",
        json!({
            "../../secret": {"sha384": sri384(b"")},
            "sub/../../../secret": {"sha384": sri384(b"")},
            fifo: {"sha384": sri384(b"")},
            "link-out": {"sha384": sri384(b"")},
            "dir-out/secret": {"sha384": sri384(b"")},
            "link-in": {"sha384": sri384(APP)},
            "dangling": {"sha384": sri384(APP)},
            "ok.js": {"sha384": sri384(APP)},
        }),
    );
    let run = sri_check(tree.path(), &[], b"");
    assert_eq!(run.code, 1, "{run:?}");
    for key in [
        "../../secret",
        "sub/../../../secret",
        fifo,
        "link-out",
        "dir-out/secret",
    ] {
        assert_eq!(
            run.outcome("entry", key),
            (Fail, Some("escapes_root")),
            "{key}"
        );
        let message = run.record("entry", key).message.clone().unwrap();
        assert!(message.contains("refused, not read"), "{message}");
    }
    assert!(run
        .record("entry", "link-out")
        .message
        .as_deref()
        .unwrap()
        .contains("symlink"));
    assert_eq!(run.outcome("entry", "link-in"), (Pass, None));
    assert_eq!(run.outcome("entry", "dangling"), (Fail, Some("missing")));
    assert_eq!(run.outcome("entry", "ok.js"), (Pass, None));
}

#[test]
fn directories_fifos_and_unreadable_files_give_error_records() {
    let tree = Tree::new();
    tree.file("dir/inner.js", APP);
    mkfifo(&tree.join("pipe"));
    write_manifest(
        &tree,
        "sri-manifest.json",
        json!({"dir": {"sha384": sri384(b"")}, "pipe": {"sha384": sri384(b"")}}),
    );
    let run = sri_check(tree.path(), &[], b"");
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.outcome("entry", "dir"), (Error, Some("not_a_file")));
    assert_eq!(run.outcome("entry", "pipe"), (Error, Some("not_a_file")));

    // A regular file that cannot be read, even by root: /proc/<pid>/clear_refs is
    // write-only (reading it fails with EACCES for users and EINVAL for root).
    write_manifest(
        &tree,
        "proc.json",
        json!({"clear_refs": {"sha384": sri384(b"")}}),
    );
    let run = sri_check(
        tree.path(),
        &["--manifest", "proc.json", "--root", "/proc/self"],
        b"",
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.outcome("entry", "clear_refs"),
        (Error, Some("unreadable"))
    );
}

#[test]
fn every_sri_string_form_is_understood() {
    let tree = Tree::new();
    tree.file("a.js", APP);
    let s256 = sri("sha256", APP);
    let s384 = sri384(APP);
    let s512 = sri("sha512", APP);
    let wrong384 = sri384(b"other");
    let wrong512 = sri("sha512", b"other");
    let url_safe = s384
        .replace('+', "-")
        .replace('/', "_")
        .trim_end_matches('=')
        .to_owned();
    let cases = json!({
        "sha384": {"sha384": s384},
        "algo-field": {"algo": s384},
        "integrity-field": {"integrity": s384},
        "empty-falls-through": {"sha384": "", "algo": null, "integrity": s384},
        "sha512": {"integrity": s512},
        "sha256-is-weak": {"integrity": s256},
        "strongest-wins": {"integrity": format!("{} {s384}", sri("sha256", b"other"))},
        "strongest-wrong": {"integrity": format!("{wrong512} {s384}")},
        "any-of-strongest": {"integrity": format!("{wrong384} {s384}")},
        "options-ignored": {"integrity": format!("{s384}?ct=application/javascript")},
        "url-safe-unpadded": {"integrity": url_safe},
        "upper-case-algo": {"integrity": s384.replacen("sha384", "SHA384", 1)},
        "whitespace": {"integrity": format!("\t {s384}\n ")},
        "unknown-algo-only": {"integrity": "md5-1B2M2Y8AsgTpgAmY7PhCfg=="},
        "no-hash": {"other": s384},
        "not-an-object": s384,
        "not-a-string": {"sha384": 42},
    });
    let mut manifest = serde_json::Map::new();
    for (name, entry) in cases.as_object().unwrap() {
        std::fs::copy(tree.join("a.js"), tree.join(name)).unwrap();
        manifest.insert(name.clone(), entry.clone());
    }
    write_manifest(&tree, "sri-manifest.json", manifest.into());
    let run = sri_check(tree.path(), &[], b"");
    assert_eq!(run.code, 1, "{run:?}");
    for name in [
        "sha384",
        "algo-field",
        "integrity-field",
        "empty-falls-through",
        "sha512",
        "strongest-wins",
        "any-of-strongest",
        "options-ignored",
        "url-safe-unpadded",
        "upper-case-algo",
        "whitespace",
    ] {
        assert_eq!(run.outcome("entry", name), (Pass, None), "{name}");
    }
    assert_eq!(run.record("entry", "sha512").data["algo"], "sha512");
    assert_eq!(
        run.outcome("entry", "sha256-is-weak"),
        (Warn, Some("weak_hash"))
    );
    assert_eq!(
        run.outcome("entry", "strongest-wrong"),
        (Fail, Some("drift"))
    );
    for name in [
        "unknown-algo-only",
        "no-hash",
        "not-an-object",
        "not-a-string",
    ] {
        assert_eq!(
            run.outcome("entry", name),
            (Fail, Some("invalid_entry")),
            "{name}"
        );
    }
}

#[test]
fn a_manifest_that_cannot_be_read_or_parsed_exits_2_naming_file_and_line() {
    let tree = Tree::new();
    tree.file("a.js", APP);
    tree.file(
        "trailing.json",
        format!("{{\n  \"a.js\": {{\"sha384\": \"{}\"}},\n}}\n", sri384(APP)).as_bytes(),
    );
    let run = sri_check(tree.path(), &["--manifest", "trailing.json"], b"");
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.records.is_empty());
    assert!(
        run.stderr
            .starts_with("sri-check: trailing.json:3:1: invalid JSON"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);

    tree.file("array.json", b"[]\n");
    let run = sri_check(tree.path(), &["--manifest", "array.json"], b"");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("array.json:1:1: the manifest must be a JSON object"),
        "{}",
        run.stderr
    );

    let run = sri_check(tree.path(), &["--manifest", "absent.json"], b"");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot read manifest absent.json"),
        "{}",
        run.stderr
    );

    let run = sri_check(
        tree.path(),
        &["--root", "no-such-dir", "--manifest", "array.json"],
        b"",
    );
    assert_eq!(run.code, 2);

    // Bad flags are usage errors too, and --help documents the exit codes.
    assert_eq!(sri_check(tree.path(), &["--bogus"], b"").code, 2);
    let help = sri_check(tree.path(), &["--help"], b"");
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("Exit codes"));
}

/// Issue 18: a manifest without entries verified nothing, so its summary is an
/// error (exit 1), never the clean exit 0 it used to be.
#[test]
fn an_empty_manifest_is_no_clean_verification() {
    let tree = Tree::new();
    tree.file("sri-manifest.json", b"{}\n");
    let run = sri_check(tree.path(), &["-j", "1"], b"");
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.records.len(), 1);
    assert_eq!(
        run.outcome("summary", "sri-manifest.json"),
        (Error, Some("no_entries"))
    );
}

#[test]
fn many_entries_come_back_in_key_order_from_parallel_workers() {
    let tree = Tree::new();
    let mut manifest = serde_json::Map::new();
    for i in 0..300 {
        let content = format!("file {i}\n").repeat(i);
        let key = format!("f/{i:04}.js");
        tree.file(&key, content.as_bytes());
        manifest.insert(key, json!({"sha384": sri384(content.as_bytes())}));
    }
    write_manifest(&tree, "sri-manifest.json", manifest.into());
    let run = sri_check(tree.path(), &["--jobs", "4"], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let targets: Vec<&str> = run
        .of_check("entry")
        .iter()
        .map(|r| r.target.as_str())
        .collect();
    let mut sorted = targets.clone();
    sorted.sort();
    assert_eq!(targets.len(), 300);
    assert_eq!(targets, sorted);
}

#[test]
fn a_reader_that_goes_away_ends_the_run_cleanly() {
    // `sri-check | head -1`: the first failed write stops the workers and the run
    // ends with exit 0, whatever the entries would have said.
    struct Gone;
    impl std::io::Write for Gone {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let tree = Tree::new();
    let mut manifest = serde_json::Map::new();
    for i in 0..50 {
        manifest.insert(format!("missing-{i}.js"), json!({"sha384": sri384(b"")}));
    }
    write_manifest(&tree, "sri-manifest.json", manifest.into());
    let path = tree.join("sri-manifest.json");
    let args = ["sri-check", "--manifest", path.to_str().unwrap()];
    let (mut stdin, mut stdout, mut stderr) = (&b""[..], Gone, Vec::new());
    let mut io = day2_core::Io {
        stdin: &mut stdin,
        stdout: &mut stdout,
        stderr: &mut stderr,
        interactive: false,
    };
    let exit = sri_check::run(args.iter().map(std::ffi::OsString::from).collect(), &mut io);
    assert_eq!(exit, day2_core::Exit::Ok);
    assert!(stderr.is_empty(), "{}", String::from_utf8_lossy(&stderr));
}
