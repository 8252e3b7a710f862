//! Issue 18 for sri-check: hostile inputs end in a clear error, never a panic, a
//! stack overflow, unbounded memory or a pass without an answer; credentials in URLs
//! never reach any output; control characters from inputs never reach the terminal.

mod common;

use common::{mkfifo, sri384, sri_check, Tree};
use day2_core::Verdict::{Error, Pass, Warn};

/// serde_json stops at 128 levels ("recursion limit exceeded"): a manifest nested
/// far deeper is a one-line usage error naming file, line and column.
#[test]
fn a_deeply_nested_manifest_is_a_one_line_error_not_a_stack_overflow() {
    let tree = Tree::new();
    let depth = 100_000;
    let mut text = String::from("{\"a.js\": ");
    text.push_str(&"[".repeat(depth));
    text.push_str(&"]".repeat(depth));
    text.push('}');
    tree.file("deep.json", text.as_bytes());
    for args in [
        vec!["--manifest", "deep.json"],
        vec!["generate", "--manifest", "deep.json"],
        vec!["html", "--manifest", "deep.json", "x.html"],
    ] {
        let run = sri_check(tree.path(), &args, b"");
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(
            run.stderr
                .starts_with("sri-check: deep.json:1:136: invalid JSON: recursion limit exceeded"),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
}

/// `/dev/zero` as the manifest is refused at the cap; a FIFO (`<(…)`) is read.
#[test]
fn manifests_are_read_as_capped_streams() {
    let tree = Tree::new();
    let run = sri_check(
        tree.path(),
        &["--manifest", "/dev/zero", "--root", "."],
        b"",
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        run.stderr,
        "sri-check: cannot read manifest /dev/zero: larger than 64 MiB\n"
    );

    tree.file("a.js", b"a\n");
    mkfifo(&tree.join("m.fifo"));
    let writer = {
        let fifo = tree.join("m.fifo");
        let manifest = format!("{{\"a.js\": {{\"sha384\": \"{}\"}}}}", sri384(b"a\n"));
        std::thread::spawn(move || std::fs::write(fifo, manifest).unwrap())
    };
    let run = sri_check(tree.path(), &["--manifest", "m.fifo", "--root", "."], b"");
    writer.join().unwrap();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.outcome("entry", "a.js"), (Pass, None));

    // An endless path list on stdin stops at its cap too.
    let endless = vec![b'x'; 65 * 1024 * 1024];
    let run = sri_check(tree.path(), &["generate", "--check", "-"], &endless);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("more than 64 MiB of paths"),
        "{}",
        run.stderr
    );
}

/// Issue 18: a run that checked nothing is never a pass.
#[test]
fn runs_that_check_nothing_are_not_passes() {
    let tree = Tree::new();
    tree.file("sri-manifest.json", b"{\"a.js\": {\"sha384\": \"x\"}}\n");
    let before = tree.read("sri-manifest.json");
    // generate over globs that match nothing would have written `{}` over the
    // manifest, which `verify` then passed.
    let run = sri_check(tree.path(), &["generate", "dist/*.js"], b"");
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.outcome("manifest", "sri-manifest.json"),
        (Error, Some("no_entries"))
    );
    assert_eq!(tree.read("sri-manifest.json"), before);
    let run = sri_check(tree.path(), &["generate", "--check", "dist/*.js"], b"");
    assert_eq!(run.code, 1, "{run:?}");

    // html over pages that are not there, and over pages that load nothing.
    let run = sri_check(tree.path(), &["html", "--no-manifest", "site/*.html"], b"");
    assert_eq!(run.code, 1, "{run:?}");
    let summary = run.of_check("summary");
    assert_eq!(summary.len(), 1);
    assert_eq!(
        (summary[0].verdict, summary[0].reason.as_deref()),
        (Error, Some("no_pages"))
    );
    tree.file("plain.html", b"<!doctype html><p>nothing to load</p>\n");
    let run = sri_check(tree.path(), &["html", "--no-manifest", "plain.html"], b"");
    assert_eq!(run.code, 0, "{run:?}");
    let summary = run.of_check("summary");
    assert_eq!(
        (summary[0].verdict, summary[0].reason.as_deref()),
        (Warn, Some("no_subresources"))
    );
}

#[test]
fn jobs_out_of_range_are_usage_errors() {
    let tree = Tree::new();
    for value in ["0", "1025", "99999999999999999999999", "-1"] {
        let flag = format!("--jobs={value}");
        for args in [vec![flag.as_str()], vec!["html", flag.as_str(), "x.html"]] {
            let run = sri_check(tree.path(), &args, b"");
            assert_eq!(run.code, 2, "{run:?}");
            assert!(
                run.stderr
                    .contains("for --jobs: a whole number from 1 to 1024"),
                "{}",
                run.stderr
            );
        }
    }
}

/// A canary credential in page URLs (userinfo password, token-like query values)
/// appears in no output; the records still name the assets.
#[test]
fn credentials_in_page_urls_never_reach_any_output() {
    const CANARY: &str = "CANARY-d2c1";
    let tree = Tree::new();
    let page = format!(
        "<script src=\"https://user:{CANARY}@cdn.example/app.js\" integrity=\"sha384-x\" crossorigin></script>\n\
         <link rel=\"stylesheet\" href=\"https://cdn.example/site.css?v=1&token={CANARY}\">\n"
    );
    tree.file("index.html", page.as_bytes());
    let run = sri_check(tree.path(), &["html", "--no-manifest", "index.html"], b"");
    assert!(run.records.len() >= 3, "{run:?}");
    let leaked: Vec<&str> = run
        .stdout
        .lines()
        .chain(run.stderr.lines())
        .filter(|l| l.contains(CANARY))
        .collect();
    assert!(leaked.is_empty(), "{leaked:#?}");
    assert!(
        run.stdout
            .contains("https://user:[REDACTED]@cdn.example/app.js"),
        "{}",
        run.stdout
    );
}

/// A manifest path carrying terminal controls is shown escaped on stderr.
#[test]
fn control_characters_in_names_do_not_reach_the_terminal() {
    let tree = Tree::new();
    let name = "evil\u{1b}[2J\rname.json";
    tree.file(name, b"{ broken");
    let run = sri_check(tree.path(), &["--manifest", name], b"");
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        !run.stderr.contains('\u{1b}') && !run.stderr.contains('\r'),
        "{:?}",
        run.stderr
    );
    assert!(
        run.stderr.contains("evil\\u001b[2J\\rname.json"),
        "{:?}",
        run.stderr
    );
}

/// html5gum is a tokenizer (a state machine) and the scan builds no tree, so depth
/// costs nothing: 200,000 nested elements are scanned like any page.
#[test]
fn deeply_nested_html_is_scanned_without_recursion() {
    let tree = Tree::new();
    let depth = 200_000;
    let mut page = String::from("<!doctype html>");
    page.push_str(&"<div><span>".repeat(depth));
    page.push_str("<script src=\"/a.js\"></script>");
    page.push_str(&"</span></div>".repeat(depth));
    tree.file("deep.html", page.as_bytes()).file("a.js", b"a\n");
    let run = sri_check(tree.path(), &["html", "--no-manifest", "deep.html"], b"");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.of_check("asset").len(), 1);
    assert_eq!(run.outcome("page", "deep.html"), (Pass, None));
}
