//! Compatibility with the reference checker: `tests/reference-check.mjs` (node:crypto
//! sha384, compare, exit 0/1/2) and sri-check run on the same trees must give the
//! same verdict per entry and the same exit code, and `generate` must write the
//! same bytes as `JSON.stringify(obj, null, 2) + "\n"`, odd file names included.

mod common;

use day2_tests::process::Bin;
use std::path::{Path, PathBuf};

use common::{sri384, sri_check, Tree};
use day2_core::Verdict;
use serde_json::json;

fn reference_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference-check.mjs")
}

/// Runs the reference checker; returns its exit code and key -> OK?.
fn reference_check(dir: &Path, manifest: &str) -> (i32, Vec<(String, bool)>) {
    let node = day2_tests::require::program("node", "nodejs");
    let out = Bin::new(node)
        .arg(reference_script())
        .args(["check", manifest])
        .current_dir(dir)
        .output();
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let verdicts = stdout
        .lines()
        .filter_map(|line| {
            let (ok, key) = match line.strip_prefix("OK  ") {
                Some(key) => (true, key),
                None => (false, line.strip_prefix("ERR ")?),
            };
            Some((
                serde_json::from_str::<String>(key).expect("a JSON-quoted key"),
                ok,
            ))
        })
        .collect();
    (out.status.code().expect("exit code"), verdicts)
}

/// Runs both on the same tree and asserts they agree; returns the exit code.
fn agree(tree: &Tree, manifest: &str) -> i32 {
    let (node_code, mut node) = reference_check(tree.path(), manifest);
    let ours = sri_check(tree.path(), &["--manifest", manifest], b"");
    assert_eq!(
        ours.code, node_code,
        "exit codes differ\nours: {}{}\nnode: {node:?}",
        ours.stdout, ours.stderr
    );
    let mut mine: Vec<(String, bool)> = ours
        .of_check("entry")
        .iter()
        .map(|r| (r.target.clone(), r.verdict == Verdict::Pass))
        .collect();
    node.sort();
    mine.sort();
    assert_eq!(mine, node, "verdicts differ");
    ours.code
}

fn write_json(tree: &Tree, rel: &str, value: serde_json::Value) {
    tree.file(
        rel,
        serde_json::to_string_pretty(&value).unwrap().as_bytes(),
    );
}

#[test]
fn same_verdicts_and_exit_codes_as_the_reference_checker() {
    let tree = Tree::new();
    let files: [(&str, &[u8]); 4] = [
        ("js/app.js", b"console.log('app');\n"),
        ("css/site.css", b"body{}\n"),
        ("fonts/Inter Var \u{e9}.woff2", b"font"),
        ("10", b"ten"),
    ];
    let mut clean = serde_json::Map::new();
    for (name, content) in files {
        tree.file(name, content);
        clean.insert(name.to_owned(), json!({"sha384": sri384(content)}));
    }
    write_json(&tree, "clean.json", clean.clone().into());
    assert_eq!(agree(&tree, "clean.json"), 0);

    // The other field names the reference accepts, and its fall-through on "".
    write_json(
        &tree,
        "fields.json",
        json!({
            "js/app.js": {"algo": sri384(b"console.log('app');\n")},
            "css/site.css": {"sha384": "", "integrity": sri384(b"body{}\n")},
        }),
    );
    assert_eq!(agree(&tree, "fields.json"), 0);

    let mut drifted = clean.clone();
    drifted.insert("js/app.js".into(), json!({"sha384": sri384(b"old")}));
    write_json(&tree, "drifted.json", drifted.into());
    assert_eq!(agree(&tree, "drifted.json"), 1);

    let mut missing = clean.clone();
    missing.insert("js/gone.js".into(), json!({"sha384": sri384(b"gone")}));
    write_json(&tree, "missing.json", missing.into());
    assert_eq!(agree(&tree, "missing.json"), 1);

    // An escaping entry whose target does not exist: the reference would try to
    // read it and fail; sri-check refuses it unread. Same verdict, same exit.
    let mut escaping = clean;
    escaping.insert("../nowhere.js".into(), json!({"sha384": sri384(b"")}));
    write_json(&tree, "escaping.json", escaping.into());
    assert_eq!(agree(&tree, "escaping.json"), 1);

    // The one deliberate difference: the reference passes an empty manifest (it
    // checked nothing and found nothing wrong); sri-check says nothing was verified
    // (issue 18: a check that asked nothing is never a pass).
    tree.file("empty.json", b"{}\n");
    let (node_code, node) = reference_check(tree.path(), "empty.json");
    assert_eq!((node_code, node.len()), (0, 0));
    let ours = sri_check(tree.path(), &["--manifest", "empty.json"], b"");
    assert_eq!(ours.code, 1, "{ours:?}");

    tree.file(
        "malformed.json",
        b"{\n  \"js/app.js\": {\"sha384\": \"x\"},\n}\n",
    );
    assert_eq!(agree(&tree, "malformed.json"), 2);
    assert_eq!(agree(&tree, "absent.json"), 2);
}

#[test]
fn generate_writes_the_same_bytes_as_json_stringify() {
    let tree = Tree::new();
    // Names where serde_json, naive sorting and JavaScript would part ways:
    // integer-like keys (JS puts array indices first), code points above U+FFFF
    // (JS sorts UTF-16 units), control characters, quotes, backslashes, '/',
    // U+2028, DEL and non-ASCII text.
    let names = [
        "10",
        "9",
        "0",
        "01",
        "4294967295",
        "a.js",
        "B.js",
        "sub dir/x y.js",
        "sub dir/n\u{e9}e.css",
        "q\"uote.js",
        "back\\slash.js",
        "tab\there.js",
        "new\nline.js",
        "ctl\u{1}\u{1f}\u{7f}.js",
        "sep\u{2028}\u{2029}.js",
        "\u{ff61}half.js",
        "\u{1f600}emoji.js",
        "<&>.html",
    ];
    let mut list = Vec::new();
    for (i, name) in names.iter().enumerate() {
        tree.file(name, format!("content {i}\n").as_bytes());
        list.extend_from_slice(name.as_bytes());
        list.push(0);
    }
    let node = day2_tests::require::program("node", "nodejs");
    Bin::new(node)
        .arg(reference_script())
        .args(["generate", ".", "reference.json"])
        .args(names)
        .current_dir(tree.path())
        .run()
        .assert_success();
    let run = sri_check(tree.path(), &["generate", "-0", "-"], &list);
    assert_eq!(run.code, 0, "{run:?}");
    let reference = std::fs::read(tree.join("reference.json")).unwrap();
    let ours = std::fs::read(tree.join("sri-manifest.json")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&reference),
        "generated manifest differs from JSON.stringify"
    );
    assert_eq!(ours, reference);
    // And each side accepts the other's manifest.
    assert_eq!(agree(&tree, "reference.json"), 0);
    assert_eq!(agree(&tree, "sri-manifest.json"), 0);
}
