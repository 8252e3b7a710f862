//! The check that a path stays inside the root and the read must be one act: a
//! file swapped for a symlink to outside the root between the two must never be
//! hashed (issue 18, "Symlink races"). A thread flips `a.js` between a regular
//! file and a symlink to a secret outside the root, with atomic renames, while
//! `sri-check verify` opens it hundreds of times per run (under many spellings of
//! the same key). Bounded: at most 20 runs and 20 s.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{sri384, sri_check, Tree};
use serde_json::{Map, Value};

const INSIDE: &[u8] = b"console.log('inside the root');\n";
const SECRET: &[u8] = b"the secret outside the root\n";

/// Keeps replacing `target` by a regular file or a symlink to `secret`, each
/// prepared beside it and renamed over it (rename is atomic), until `stop`.
fn flip(dir: &Path, secret: &Path, stop: &AtomicBool, flips: &AtomicU64) {
    let target = dir.join("a.js");
    let file_tmp = dir.join(".a.js.file");
    let link_tmp = dir.join(".a.js.link");
    let deadline = Instant::now() + Duration::from_secs(30);
    // Both replacements are made ready first and each state is held for the same
    // short time, so a loaded machine still sees both (it once saw only the link).
    let hold = Duration::from_micros(200);
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        std::fs::write(&file_tmp, INSIDE).unwrap();
        let _ = std::fs::remove_file(&link_tmp);
        std::os::unix::fs::symlink(secret, &link_tmp).unwrap();
        std::fs::rename(&file_tmp, &target).unwrap();
        std::thread::sleep(hold);
        std::fs::rename(&link_tmp, &target).unwrap();
        flips.fetch_add(1, Ordering::Relaxed);
        std::thread::sleep(hold);
    }
}

#[test]
fn a_file_swapped_for_a_symlink_is_never_hashed_from_outside_the_root() {
    let outer = Tree::new();
    outer.file("secret.txt", SECRET);
    let site = Tree {
        dir: tempfile::tempdir_in(outer.path()).unwrap(),
    };
    site.file("a.js", INSIDE);
    // 400 spellings of one key: each is one open of a.js.
    let mut manifest = Map::new();
    for i in 0..400 {
        let key = format!("{}a.js", "./".repeat(i));
        manifest.insert(key, serde_json::json!({"sha384": sri384(INSIDE)}));
    }
    site.file(
        "sri-manifest.json",
        serde_json::to_string(&Value::Object(manifest))
            .unwrap()
            .as_bytes(),
    );

    let stop = Arc::new(AtomicBool::new(false));
    let flips = Arc::new(AtomicU64::new(0));
    let flipper = {
        let (dir, secret) = (site.path().to_owned(), outer.join("secret.txt"));
        let (stop, flips) = (Arc::clone(&stop), Arc::clone(&flips));
        std::thread::spawn(move || flip(&dir, &secret, &stop, &flips))
    };

    let leaked = sri384(SECRET);
    let started = Instant::now();
    let (mut opened_inside, mut refused, mut runs) = (0usize, 0usize, 0usize);
    let mut leaks = Vec::new();
    while runs < 20 && started.elapsed() < Duration::from_secs(20) {
        runs += 1;
        let run = sri_check(site.path(), &["verify", "--jobs", "2"], b"");
        for entry in run.of_check("entry") {
            match entry.reason.as_deref() {
                None => opened_inside += 1,
                Some("escapes_root") => refused += 1,
                _ => {}
            }
            if entry.data["actual"] == leaked.as_str() {
                leaks.push(entry.target.clone());
            }
        }
        if !leaks.is_empty() {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    flipper.join().unwrap();
    assert!(
        leaks.is_empty(),
        "hashed the file outside the root through {} of {} opens",
        leaks.len(),
        runs * 400
    );
    // The race was really run: both states were seen by the tool.
    assert!(flips.load(Ordering::Relaxed) > 0);
    assert!(
        opened_inside > 0 && refused > 0,
        "{opened_inside} opened inside, {refused} refused in {runs} runs"
    );
}

/// Opening beneath the root follows a symlink only while it stays inside: a
/// relative one to a file inside is followed, one whose absolute target lies
/// inside is refused as `openat2`'s `RESOLVE_BENEATH` refuses it, and one that
/// climbs out with `..` is refused, all without reading the target.
#[test]
fn symlinks_are_followed_only_beneath_the_root() {
    let outer = Tree::new();
    outer.file("secret.txt", SECRET);
    let site = Tree {
        dir: tempfile::tempdir_in(outer.path()).unwrap(),
    };
    site.file("js/a.js", INSIDE)
        .symlink("rel-in.js", "js/a.js")
        .symlink("js/up-in.js", "../js/a.js")
        .symlink("abs-in.js", site.join("js/a.js").to_str().unwrap())
        .symlink("up-out.js", "../secret.txt")
        .symlink("js/loop.js", "loop.js");
    let keys = [
        "rel-in.js",
        "js/up-in.js",
        "abs-in.js",
        "up-out.js",
        "js/loop.js",
    ];
    let manifest: Map<String, Value> = keys
        .iter()
        .map(|k| (k.to_string(), serde_json::json!({"sha384": sri384(INSIDE)})))
        .collect();
    site.file(
        "sri-manifest.json",
        serde_json::to_string(&Value::Object(manifest))
            .unwrap()
            .as_bytes(),
    );
    let run = sri_check(site.path(), &[], b"");
    assert_eq!(run.code, 1, "{run:?}");
    use day2_core::Verdict::{Error, Fail, Pass};
    assert_eq!(run.outcome("entry", "rel-in.js"), (Pass, None));
    assert_eq!(run.outcome("entry", "js/up-in.js"), (Pass, None));
    assert_eq!(
        run.outcome("entry", "abs-in.js"),
        (Fail, Some("escapes_root"))
    );
    assert_eq!(
        run.outcome("entry", "up-out.js"),
        (Fail, Some("escapes_root"))
    );
    assert_eq!(
        run.outcome("entry", "js/loop.js"),
        (Error, Some("unreadable"))
    );
    for entry in run.of_check("entry") {
        assert_ne!(entry.data["actual"], sri384(SECRET).as_str());
    }
}
