//! `sri-check html` on fixture sites: every tag kind, every finding, pages in
//! subdirectories, the comparison with the manifest, and pages that cannot be read.

mod common;

use common::{mkfifo, sri, sri384, sri_check, Run, Tree};
use day2_core::record::Record;
use day2_core::Verdict::{self, Error, Fail, Info, Pass, Warn};

const APP: &[u8] = b"console.log('app');\n";
const CSS: &[u8] = b"body { color: #222 }\n";
const MODULE: &[u8] = b"export const x = 1;\n";
const FONT: &[u8] = b"wOF2 pretend font";

/// The asset record of the tag on `line` of `page`.
fn at<'a>(run: &'a Run, page: &str, line: u64) -> &'a Record {
    let found: Vec<&Record> = run
        .of_check("asset")
        .into_iter()
        .filter(|r| r.data["page"] == page && r.data["line"] == line)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one asset at {page}:{line} expected in\n{}",
        run.stdout
    );
    found[0]
}

fn outcome(run: &Run, page: &str, line: u64) -> (Verdict, Option<String>) {
    let r = at(run, page, line);
    (r.verdict, r.reason.clone())
}

fn some(reason: &str) -> Option<String> {
    Some(reason.to_owned())
}

#[test]
fn every_tag_kind_and_every_finding() {
    let outer = Tree::new();
    mkfifo(&outer.join("secret.js"));
    let tree = Tree {
        dir: tempfile::tempdir_in(outer.path()).unwrap(),
    };
    tree.file("js/app.js", APP)
        .file("css/site.css", CSS)
        .file("js/mod.js", MODULE)
        .file("fonts/a.woff2", FONT)
        .file("js/stale.js", b"new content\n")
        .file("js/plain.js", b"plain\n")
        .file("js/dup.js", b"dup\n")
        .file("js/empty.js", b"empty\n")
        .file("js/weak.js", b"weak\n")
        .file("js/md5.js", b"md5\n");
    tree.symlink("js/out.js", outer.join("secret.js").to_str().unwrap());
    let lines = [
        "<!doctype html>".to_owned(),
        "<html><head>".to_owned(),
        format!(r#"<script src="/js/app.js" integrity="{}" crossorigin="anonymous"></script>"#, sri384(APP)),
        format!(r#"<link rel="stylesheet" href="css/site.css" integrity="{}">"#, sri384(CSS)),
        format!(r#"<link rel="preload" as="script" href="js/app.js?v=2#top" integrity="{}">"#, sri384(APP)),
        format!(r#"<link rel="modulepreload" href="/js/mod.js" integrity="{}">"#, sri("sha512", MODULE)),
        format!(r#"<SCRIPT TYPE="module" SRC="js/mod.js" INTEGRITY="{}"></SCRIPT>"#, sri384(MODULE)),
        format!(r#"<link rel="preload" as="font" href="fonts/a.woff2" integrity="{}">"#, sri384(FONT)),
        format!(r#"<script src="js/stale.js" integrity="{}"></script>"#, sri384(b"old content\n")),
        r#"<script src="js/plain.js"></script>"#.to_owned(),
        format!(r#"<script src="js/dup.js" integrity="{}" integrity=""></script>"#, sri384(b"dup\n")),
        r#"<script src="js/empty.js" integrity=""></script>"#.to_owned(),
        format!(r#"<script src="js/weak.js" integrity="{}"></script>"#, sri("sha256", b"weak\n")),
        r#"<script src="js/md5.js" integrity="md5-WZ0lmE0D3NKs1z7uZ0JRRw=="></script>"#.to_owned(),
        format!(r#"<script src="js/gone.js" integrity="{}"></script>"#, sri384(b"gone")),
        format!(r#"<script src="js/out.js" integrity="{}"></script>"#, sri384(b"")),
        format!(r#"<script src="https://cdn.example/lib.js" integrity="{}"></script>"#, sri384(b"lib")),
        r#"<script src="//cdn.example/x.js"></script>"#.to_owned(),
        format!(r#"<script src="https://cdn.example/ok.js" integrity="{}" crossorigin></script>"#, sri384(b"ok")),
        r#"<script src="data:text/javascript,1"></script><script>var a = "<script src=x.js>";</script>"#.to_owned(),
        r#"<!-- <script src="js/commented.js"></script> --><link rel="icon" href="favicon.ico">"#.to_owned(),
        "</head></html>".to_owned(),
    ];
    tree.file("index.html", lines.join("\n").as_bytes());
    let run = sri_check(tree.path(), &["html", "--no-manifest", "index.html"], b"");
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.outcome("page", "index.html"), (Pass, None));
    assert_eq!(run.record("page", "index.html").data["assets"], 17);
    assert_eq!(run.of_check("asset").len(), 17, "{}", run.stdout);

    for line in [3, 4, 5, 6, 7, 19] {
        assert_eq!(
            outcome(&run, "index.html", line),
            (Pass, None),
            "line {line}"
        );
    }
    assert_eq!(at(&run, "index.html", 3).target, "js/app.js");
    assert_eq!(at(&run, "index.html", 4).data["kind"], "stylesheet");
    assert_eq!(at(&run, "index.html", 5).data["kind"], "preload");
    assert_eq!(at(&run, "index.html", 6).data["kind"], "modulepreload");
    assert_eq!(at(&run, "index.html", 7).data["tag"], "script");
    assert_eq!(
        outcome(&run, "index.html", 8),
        (Warn, some("missing_crossorigin"))
    );
    assert_eq!(outcome(&run, "index.html", 9), (Fail, some("drift")));
    assert_eq!(
        at(&run, "index.html", 9).data["actual"],
        sri384(b"new content\n")
    );
    assert_eq!(
        outcome(&run, "index.html", 10),
        (Fail, some("missing_integrity"))
    );
    assert_eq!(
        at(&run, "index.html", 10).data["suggested"],
        sri384(b"plain\n")
    );
    assert_eq!(
        outcome(&run, "index.html", 11),
        (Fail, some("duplicate_integrity"))
    );
    assert_eq!(
        at(&run, "index.html", 11).data["integrity"],
        serde_json::json!([sri384(b"dup\n"), ""])
    );
    assert_eq!(
        outcome(&run, "index.html", 12),
        (Fail, some("empty_integrity"))
    );
    assert_eq!(outcome(&run, "index.html", 13), (Warn, some("weak_hash")));
    assert_eq!(
        outcome(&run, "index.html", 14),
        (Fail, some("no_supported_hash"))
    );
    assert_eq!(outcome(&run, "index.html", 15), (Fail, some("missing")));
    assert_eq!(
        outcome(&run, "index.html", 16),
        (Fail, some("escapes_root"))
    );
    assert_eq!(
        outcome(&run, "index.html", 17),
        (Fail, some("missing_crossorigin"))
    );
    assert_eq!(
        at(&run, "index.html", 17).target,
        "https://cdn.example/lib.js"
    );
    assert_eq!(
        outcome(&run, "index.html", 18),
        (Warn, some("remote_without_integrity"))
    );
    let summary = run.of_check("summary");
    assert_eq!(summary.len(), 1);
    assert_eq!(
        (summary[0].verdict, summary[0].reason.as_deref()),
        (Info, Some("summary"))
    );
    assert_eq!(summary[0].data["assets"], 17);
}

#[test]
fn pages_in_subdirectories_and_the_manifest() {
    let tree = Tree::new();
    tree.file("js/app.js", APP)
        .file("js/fresh.js", b"fresh v2\n")
        .file("js/unlisted.js", b"u\n");
    tree.file("js/weak.js", b"weak\n");
    tree.file(
        "sri-manifest.json",
        serde_json::to_string_pretty(&serde_json::json!({
            "js/app.js": {"sha384": sri384(APP)},
            "./js/fresh.js": {"sha384": sri384(b"fresh v2\n")},
            "js/weak.js": {"sha384": sri384(b"weak\n")},
        }))
        .unwrap()
        .as_bytes(),
    );
    let page = [
        format!(
            r#"<script src="../js/app.js" integrity="{}"></script>"#,
            sri384(APP)
        ),
        format!(
            r#"<script src="../js/fresh.js" integrity="{}"></script>"#,
            sri384(b"fresh v1\n")
        ),
        format!(
            r#"<script src="/js/unlisted.js" integrity="{}"></script>"#,
            sri384(b"u\n")
        ),
        format!(
            r#"<script src="../js/weak.js" integrity="{}"></script>"#,
            sri("sha256", b"weak\n")
        ),
    ];
    tree.file("blog/post.html", page.join("\n").as_bytes());
    // The root's sri-manifest.json is used without being named.
    let run = sri_check(tree.path(), &["html", "blog/*.html"], b"");
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(outcome(&run, "blog/post.html", 1), (Pass, None));
    assert_eq!(at(&run, "blog/post.html", 1).target, "js/app.js");
    assert_eq!(outcome(&run, "blog/post.html", 2), (Fail, some("drift")));
    assert_eq!(
        at(&run, "blog/post.html", 2).data["findings"],
        serde_json::json!(["drift", "manifest_mismatch"])
    );
    assert_eq!(
        outcome(&run, "blog/post.html", 3),
        (Warn, some("not_in_manifest"))
    );
    // A weaker hash that still matches the file does not disagree with the manifest.
    assert_eq!(
        at(&run, "blog/post.html", 4).data["findings"],
        serde_json::json!(["weak_hash"])
    );
    assert!(run.of_check("summary")[0].data["manifest"]
        .as_str()
        .unwrap()
        .ends_with("sri-manifest.json"));

    // A page with the right hashes but a stale manifest: the mismatch alone.
    tree.file("js/fresh.js", b"fresh v1\n");
    let run = sri_check(
        tree.path(),
        &["html", "--manifest", "sri-manifest.json", "blog/post.html"],
        b"",
    );
    assert_eq!(
        outcome(&run, "blog/post.html", 2),
        (Fail, some("manifest_mismatch"))
    );

    // Pages from stdin, and without the manifest the comparison is off.
    let run = sri_check(
        tree.path(),
        &["html", "--no-manifest", "-"],
        b"blog/post.html\n",
    );
    assert_eq!(outcome(&run, "blog/post.html", 2), (Pass, None));
    assert_eq!(outcome(&run, "blog/post.html", 3), (Pass, None));
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn pages_that_cannot_be_checked_and_bad_input() {
    let outer = Tree::new();
    outer.file("outside.html", b"<script src=x.js></script>");
    let tree = Tree {
        dir: tempfile::tempdir_in(outer.path()).unwrap(),
    };
    tree.file("ok.html", b"<p>no assets</p>");
    tree.file("sub/index.html", b"");
    let run = sri_check(
        tree.path(),
        &[
            "html",
            "ok.html",
            "gone.html",
            "../outside.html",
            "sub",
            "nothing/*.html",
        ],
        b"",
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.outcome("page", "ok.html"), (Pass, None));
    assert_eq!(run.outcome("page", "gone.html"), (Fail, Some("missing")));
    assert_eq!(
        run.outcome("page", "../outside.html"),
        (Fail, Some("escapes_root"))
    );
    assert_eq!(run.outcome("page", "sub"), (Error, Some("not_a_file")));
    assert_eq!(
        run.outcome("operand", "nothing/*.html"),
        (Warn, Some("no_match"))
    );

    // A page that cannot be read: /proc/<pid>/clear_refs is write-only, even for root.
    let run = sri_check(
        tree.path(),
        &["html", "--root", "/proc/self", "/proc/self/clear_refs"],
        b"",
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.outcome("page", "/proc/self/clear_refs"),
        (Error, Some("unreadable"))
    );

    // An asset URL naming a directory.
    tree.file("js/a.js", b"a");
    tree.file(
        "dir.html",
        b"<script src=\"/js/\" integrity=\"sha384-AAAA\"></script>",
    );
    let run = sri_check(tree.path(), &["html", "dir.html"], b"");
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(outcome(&run, "dir.html", 1), (Error, some("not_a_file")));

    // A page with nothing to check passes.
    let run = sri_check(tree.path(), &["html", "ok.html"], b"");
    assert_eq!(run.code, 0, "{run:?}");

    // No pages at all, or a malformed manifest: usage errors.
    assert_eq!(sri_check(tree.path(), &["html"], b"").code, 2);
    tree.file("bad.json", b"{\"a\": [}");
    let run = sri_check(
        tree.path(),
        &["html", "--manifest", "bad.json", "ok.html"],
        b"",
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("bad.json:1:"), "{}", run.stderr);
}

/// The corpus case, copied unchanged: a font and an image preload cannot usefully
/// carry `integrity` (`@font-face` and `<img>` have no way to ask for it), so
/// their lack of one is no finding; the stylesheet preloads are checked as before.
#[test]
fn corpus_preload_font_image() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus/preload-font-image");
    let run = sri_check(&root, &["html", "--no-manifest", "index.html"], b"");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.of_check("asset").len(), 6, "{}", run.stdout);
    let by_target = |target: &str| run.outcome("asset", target);
    assert_eq!(by_target("assets/fonts/figtree.woff2"), (Pass, None));
    assert_eq!(by_target("images/hero.webp"), (Pass, None));
    // `rel="preload stylesheet" as="style"` with a matching sha256: checked.
    assert_eq!(
        by_target("assets/css/stylesheet.fc220c15.css"),
        (Warn, Some("weak_hash"))
    );
    assert_eq!(
        by_target(
            "https://cdnjs.cloudflare.com/ajax/libs/highlight.js/10.1.1/styles/github.min.css"
        ),
        (Warn, Some("remote_without_integrity"))
    );
    assert_eq!(
        by_target("https://cdn.jsdelivr.net/npm/bootstrap@5.3.3/dist/css/bootstrap.min.css"),
        (Pass, None)
    );
    assert_eq!(run.record("asset", "images/hero.webp").data["as"], "image");
}

/// Which preloads need `integrity`: those whose consumer carries it itself —
/// `<script>` (as=script), `<link rel=stylesheet>` (as=style), `fetch()`
/// (as=fetch) — the destinations Chromium honours it for on preloads
/// (chromestatus 4967277059375104), and every modulepreload. Other destinations
/// need none, local or remote; one that is present is still checked, since a
/// mismatch fails the preload's own fetch.
#[test]
fn preloads_need_integrity_only_where_the_consumer_can_carry_it() {
    let tree = Tree::new();
    tree.file("a.js", APP)
        .file("a.css", CSS)
        .file("data.json", b"{}")
        .file("m.js", MODULE)
        .file("f.woff2", FONT)
        .file("i.png", b"png")
        .file("v.mp4", b"mp4")
        .file("t.vtt", b"WEBVTT");
    let page = [
        r#"<link rel="preload" as="script" href="a.js">"#.to_owned(),
        r#"<link rel="preload" as="style" href="a.css">"#.to_owned(),
        r#"<link rel="preload" as="fetch" href="data.json" crossorigin>"#.to_owned(),
        r#"<link rel="modulepreload" href="m.js">"#.to_owned(),
        r#"<link rel="preload" as="font" href="f.woff2" crossorigin>"#.to_owned(),
        r#"<link rel="preload" as="image" href="i.png">"#.to_owned(),
        r#"<link rel="preload" as="video" href="v.mp4">"#.to_owned(),
        r#"<link rel="preload" as="track" href="t.vtt">"#.to_owned(),
        r#"<link rel="preload" as="font" href="https://fonts.example/f.woff2" crossorigin>"#
            .to_owned(),
        r#"<link rel="preload" as="SCRIPT" href="https://cdn.example/x.js">"#.to_owned(),
        format!(
            r#"<link rel="preload" as="font" href="f.woff2" crossorigin integrity="{}">"#,
            sri384(b"other font")
        ),
    ];
    tree.file("index.html", page.join("\n").as_bytes());
    let run = sri_check(tree.path(), &["html", "--no-manifest", "index.html"], b"");
    assert_eq!(run.code, 1, "{run:?}");
    for line in 1..=4 {
        assert_eq!(
            outcome(&run, "index.html", line),
            (Fail, some("missing_integrity")),
            "line {line}"
        );
    }
    for line in 5..=9 {
        assert_eq!(
            outcome(&run, "index.html", line),
            (Pass, None),
            "line {line}"
        );
    }
    assert_eq!(
        outcome(&run, "index.html", 10),
        (Warn, some("remote_without_integrity"))
    );
    assert_eq!(outcome(&run, "index.html", 11), (Fail, some("drift")));
}

/// Every engine compares the whole digest, so a hash whose decoded length is not
/// its algorithm's (Gecko SRICheck.cpp: `InvalidIntegrityLength`) or that is not
/// base64 at all can never match: a failure found offline, remote or not. The
/// spec blocks such an asset; Chromium, Firefox and Safari skip an unparsable
/// token, so with no other one the asset loads unchecked. A good hash of the same
/// algorithm beside a bad one still matches: the bad one is then a warning.
#[test]
fn digests_that_can_never_match_fail_offline() {
    let tree = Tree::new();
    tree.file("a.js", APP);
    let b64 =
        |bytes: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes);
    let sha384_bytes = &sri384(APP)["sha384-".len()..];
    let page = [
        format!(
            r#"<script src="https://cdn.example/a.js" integrity="sha256-{}" crossorigin></script>"#,
            b64(&[7; 48])
        ),
        r#"<script src="https://cdn.example/b.js" integrity="sha256-%" crossorigin></script>"#
            .to_owned(),
        format!(r#"<script src="a.js" integrity="sha512-{sha384_bytes}"></script>"#),
        r#"<script src="a.js" integrity="sha384-"></script>"#.to_owned(),
        format!(
            r#"<script src="a.js" integrity="{} sha384-{}"></script>"#,
            sri384(APP),
            b64(&[1; 32])
        ),
        format!(
            r#"<script src="a.js" integrity="sha256-{} {}"></script>"#,
            b64(&[1; 3]),
            sri384(APP)
        ),
    ];
    tree.file("index.html", page.join("\n").as_bytes());
    let run = sri_check(tree.path(), &["html", "--no-manifest", "index.html"], b"");
    assert_eq!(run.code, 1, "{run:?}");
    for line in 1..=4 {
        let record = at(&run, "index.html", line);
        assert_eq!(
            (record.verdict, record.reason.as_deref()),
            (Fail, Some("bad_digest")),
            "line {line}: {}",
            run.stdout
        );
        assert!(
            !record.data["findings"].to_string().contains("drift"),
            "{}",
            run.stdout
        );
    }
    let message = at(&run, "index.html", 1)
        .message
        .clone()
        .unwrap_or_default();
    assert!(
        message.contains("decodes to 48 bytes, but a sha256 digest has 32"),
        "{message}"
    );
    let message = at(&run, "index.html", 2)
        .message
        .clone()
        .unwrap_or_default();
    assert!(message.contains("not base64"), "{message}");
    assert_eq!(outcome(&run, "index.html", 5), (Warn, some("bad_digest")));
    // A bad hash of a weaker algorithm is never compared: nothing to report.
    assert_eq!(outcome(&run, "index.html", 6), (Pass, None));
}

/// Hashes that only some engines accept (sources in sri-check/src/sri.rs): the
/// SRI spec compares the standard padded base64 string (index.bs, "Do bytes match
/// metadataList?"), so base64url and missing padding never match there (nor in
/// Ladybird), while Chromium, Firefox and Safari decode them; a mix of both
/// alphabets only Chromium decodes; an upper-case algorithm Chromium and Firefox
/// do not recognise (the asset loads unchecked). Each is a warning naming them.
#[test]
fn digests_only_some_engines_accept_are_warnings_naming_them() {
    let tree = Tree::new();
    // Contents chosen so that the digests hold '+' or '/' (so '-' or '_' in
    // base64url), the sha384 one at least twice (for the mixed spelling).
    let mut content = b"x".to_vec();
    let special = |s: String| s.matches(['+', '/']).count();
    while special(sri384(&content)) < 2 || special(sri("sha512", &content)) < 1 {
        content.push(b'x');
    }
    tree.file("a.js", &content);
    let url384 = sri384(&content).replace('+', "-").replace('/', "_");
    let unpadded512 = sri("sha512", &content).trim_end_matches('=').to_owned();
    let upper = sri384(&content).replacen("sha384", "SHA384", 1);
    let standard = sri384(&content);
    let (head, tail) = standard.split_at(standard.find(['+', '/']).unwrap() + 1);
    let mixed = format!("{head}{}", tail.replace('+', "-").replace('/', "_"));
    let page = [
        format!(r#"<script src="a.js" integrity="{url384}"></script>"#),
        format!(r#"<script src="a.js" integrity="{unpadded512}"></script>"#),
        format!(r#"<script src="a.js" integrity="{upper}"></script>"#),
        format!(r#"<script src="a.js" integrity="{mixed}"></script>"#),
        format!(r#"<script src="a.js" integrity="{standard}"></script>"#),
    ];
    tree.file("index.html", page.join("\n").as_bytes());
    let run = sri_check(tree.path(), &["html", "--no-manifest", "index.html"], b"");
    assert_eq!(run.code, 0, "{run:?}");
    for (line, says) in [
        (1, ["base64url", "SRI spec"]),
        (2, ["padding", "SRI spec"]),
        (3, ["lower case", "Chromium and Firefox"]),
        (4, ["mixes", "Firefox and Safari"]),
    ] {
        let record = at(&run, "index.html", line);
        assert_eq!(
            (record.verdict, record.reason.as_deref()),
            (Warn, Some("unportable_digest")),
            "line {line}: {}",
            run.stdout
        );
        let notes = record.data["notes"].to_string();
        for word in says {
            assert!(notes.contains(word), "line {line}: {word} in {notes}");
        }
    }
    assert_eq!(outcome(&run, "index.html", 5), (Pass, None));
}
