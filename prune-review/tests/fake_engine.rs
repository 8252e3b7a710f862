//! Both `/system/df` shapes end to end, and the engine answers the real engine
//! cannot be made to give on demand (a 500 on delete, a 409 after the re-check),
//! against a fake Docker Engine on a unix socket. Also the usage errors, which
//! never reach any engine.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{run_with, FakeEngine};
use day2_core::Verdict;
use serde_json::{json, Value};

const OLD: &str = include_str!("../../day2-docker/tests/fixtures/df-old.json");
const NEW: &str = include_str!("../../day2-docker/tests/fixtures/df-new.json");

/// The volumes of a fixture's `/system/df`, as `/volumes` lists them, each
/// labelled into the scope `fake`.
fn volumes_of(df: &Value) -> Vec<Value> {
    let list = df
        .get("Volumes")
        .or_else(|| df["VolumeUsage"].get("Items"))
        .and_then(Value::as_array)
        .unwrap();
    list.iter()
        .map(|v| {
            let mut v = v.clone();
            v["Labels"] = json!({"org.day2.test.scope": "fake"});
            v.as_object_mut().unwrap().remove("UsageData");
            v
        })
        .collect()
}

/// A fake engine serving a fixture; `delete` is the status for DELETE /volumes/..
fn engine(api: &'static str, fixture: &'static str, delete: u16) -> FakeEngine {
    let df: Value = serde_json::from_str(fixture).unwrap();
    let volumes = volumes_of(&df);
    FakeEngine::start(
        api,
        Arc::new(move |method, path| match (method, path) {
            ("GET", "/system/df") => (200, fixture.to_owned()),
            ("GET", "/volumes") => (
                200,
                json!({"Volumes": volumes, "Warnings": null}).to_string(),
            ),
            ("GET", "/containers/json" | "/networks" | "/images/json") => (200, "[]".to_owned()),
            ("POST", "/build/prune") => (
                200,
                r#"{"CachesDeleted":["k1"],"SpaceReclaimed":700}"#.to_owned(),
            ),
            ("GET", p) if p.starts_with("/volumes/") => {
                let name = &p["/volumes/".len()..];
                match volumes.iter().find(|v| v["Name"] == name) {
                    Some(v) => (200, v.to_string()),
                    None => (404, r#"{"message":"no such volume"}"#.to_owned()),
                }
            }
            ("DELETE", p) if p.starts_with("/volumes/") => match delete {
                409 => (
                    409,
                    r#"{"message":"remove x: volume is in use - [abc]"}"#.to_owned(),
                ),
                500 => (500, r#"{"message":"driver failed"}"#.to_owned()),
                s => (s, String::new()),
            },
            _ => (404, r#"{"message":"page not found"}"#.to_owned()),
        }),
    )
}

#[test]
fn the_older_df_shape_is_read_through_the_raw_fallback() {
    let fake = engine("1.41", OLD, 204);
    let out = run_with(fake.command(&["review"]), "");
    assert_eq!(out.code, 0, "{out:#?}");
    let disk = out.find("disk", "engine");
    assert_eq!(disk.data["shape"], "old");
    assert_eq!(disk.data["api_version"], "1.41");
    assert_eq!(disk.data["volumes"]["count"], 3);
    assert_eq!(disk.data["volumes"]["reclaimable_bytes"], 4096);
    assert_eq!(disk.data["images"]["reclaimable_bytes"], 29_000_000);
    let orphan = out.find("volume", "orphan");
    assert_eq!(orphan.reason.as_deref(), Some("orphan_named"));
    assert_eq!(out.find("volume.size", "orphan").data["size_bytes"], 4096);
    // -1 from the daemon is an unknown size, not zero.
    assert_eq!(
        out.find("volume.size", "unsized").data["size_bytes"],
        Value::Null
    );
    // The default protection, end to end, on a model volume of 12 GB.
    let model = out.find("volume", "deploy_ollama-data");
    assert_eq!(model.reason.as_deref(), Some("protected"));
    assert_eq!(model.data["protected_by"], "name:deploy_ollama-data");
    assert_eq!(
        out.find("volume.size", "deploy_ollama-data").data["size_bytes"],
        12_000_000_000u64
    );
    let summary = out.find("review.summary", "volumes");
    assert_eq!(summary.data["size_bytes"]["protected"], 12_000_000_000u64);
}

/// The engine's `/system/df` walks every volume and container layer (35–40 s on a
/// busy fuse-overlayfs engine): the review shows the classes before it answers, the
/// sizes after, and `--no-sizes` does not ask for them at all.
#[test]
fn the_classes_come_before_a_slow_disk_use_and_no_sizes_skips_it() {
    let df_asked = Arc::new(AtomicUsize::new(0));
    let df: Value = serde_json::from_str(OLD).unwrap();
    let volumes = volumes_of(&df);
    let asked = Arc::clone(&df_asked);
    let fake = FakeEngine::start(
        "1.41",
        Arc::new(move |method, path| match (method, path) {
            ("GET", "/system/df") => {
                asked.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(1500));
                (200, OLD.to_owned())
            }
            ("GET", "/volumes") => (
                200,
                json!({"Volumes": volumes, "Warnings": null}).to_string(),
            ),
            ("GET", "/containers/json") => (200, "[]".to_owned()),
            _ => (404, r#"{"message":"page not found"}"#.to_owned()),
        }),
    );
    // Read the records as they come, with the time each line arrived.
    let mut child = fake
        .command(&["review", "--timeout", "30s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let stdout = child.stdout.take().unwrap();
    let mut lines = Vec::new();
    for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).take(100) {
        let record: Value = serde_json::from_str(&line.unwrap()).unwrap();
        lines.push((started.elapsed(), record));
    }
    assert!(child.wait().unwrap().success());
    let checks: Vec<&str> = lines
        .iter()
        .map(|(_, r)| r["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        checks,
        [
            "volume",
            "volume",
            "volume",
            "disk",
            "volume.size",
            "volume.size",
            "volume.size",
            "review.summary"
        ],
        "{lines:#?}"
    );
    // The classes came while /system/df was still working, the sizes after it.
    let first_class = lines[0].0;
    let disk = lines[3].0;
    assert!(disk >= std::time::Duration::from_millis(1500), "{lines:#?}");
    assert!(
        disk - first_class >= std::time::Duration::from_millis(1000),
        "the classes waited for /system/df: {lines:#?}"
    );
    // The older shape is asked twice: bollard first, then the raw request.
    let asked = df_asked.load(Ordering::SeqCst);
    assert!(asked >= 1);

    let out = run_with(fake.command(&["review", "--no-sizes"]), "");
    assert_eq!(out.code, 0, "{out:#?}");
    assert_eq!(
        df_asked.load(Ordering::SeqCst),
        asked,
        "--no-sizes asked /system/df"
    );
    assert!(out.checks("disk").is_empty() && out.checks("volume.size").is_empty());
    assert_eq!(out.checks("volume").len(), 3);
    let summary = out.find("review.summary", "volumes");
    assert_eq!(summary.data["size_bytes"]["orphan_named"], Value::Null);
}

#[test]
fn the_newer_df_shape_is_read_through_bollard() {
    let fake = engine("1.52", NEW, 204);
    let out = run_with(fake.command(&["review"]), "");
    assert_eq!(out.code, 0, "{out:#?}");
    let disk = out.find("disk", "engine");
    assert_eq!(disk.data["shape"], "new");
    assert_eq!(disk.data["volumes"]["count"], 2);
    assert_eq!(disk.data["reclaimable_bytes"], 123 + 1000 + 50);
    assert_eq!(
        out.find("volume.size", "old-cache").data["size_bytes"],
        1000
    );
    assert_eq!(
        out.find("volume.size", "no-usage").data["size_bytes"],
        Value::Null
    );
    let summary = out.find("review.summary", "volumes");
    assert_eq!(summary.data["counts"]["orphan_named"], 2);
}

fn plan_for(fake: &FakeEngine) -> String {
    let out = run_with(
        fake.command(&[
            "plan",
            "--include-named",
            "--filter",
            "label=org.day2.test.scope=fake",
        ]),
        "",
    );
    assert_eq!(out.code, 0, "{out:#?}");
    common::plan_text(&out)
}

#[test]
fn an_engine_refusal_after_the_recheck_is_a_skip_and_other_failures_are_errors() {
    let refusing = engine("1.41", OLD, 409);
    let plan = plan_for(&refusing);
    assert_eq!(plan.lines().count(), 2, "{plan}");
    let args = [
        "apply",
        "--yes",
        "--filter",
        "label=org.day2.test.scope=fake",
    ];
    let out = run_with(refusing.command(&args), &plan);
    assert_eq!(out.code, 0, "{out:#?}");
    let r = out.find("delete", "orphan");
    assert_eq!(
        (r.verdict, r.reason.as_deref()),
        (Verdict::Warn, Some("engine_refused"))
    );
    assert!(
        r.message.as_deref().unwrap_or("").contains("in use"),
        "{r:?}"
    );

    let failing = engine("1.41", OLD, 500);
    let out = run_with(failing.command(&args), &plan);
    assert_eq!(out.code, 1, "{out:#?}");
    let r = out.find("delete", "unsized");
    assert_eq!(
        (r.verdict, r.reason.as_deref()),
        (Verdict::Error, Some("delete_failed"))
    );
    let summary = out.find("apply.summary", "plan");
    assert_eq!(
        (
            summary.data["deleted"].clone(),
            summary.data["skipped"].clone()
        ),
        (json!(0), json!(2))
    );
}

#[test]
fn the_build_cache_is_planned_and_pruned_as_a_whole_without_a_filter() {
    let fake = engine("1.41", OLD, 204);
    let plan = run_with(fake.command(&["plan", "--caches"]), "");
    assert_eq!(plan.code, 0, "{plan:#?}");
    let line = plan.find("plan.build_cache", "build-cache");
    assert_eq!(line.reason.as_deref(), Some("reclaimable"));
    assert_eq!(line.data["size_bytes"], 700);
    let cache_only: String = common::plan_text(&plan)
        .lines()
        .filter(|l| l.contains("plan.build_cache"))
        .collect();
    // An unfiltered apply is only ever aimed at this fake engine: the harness's
    // guard is lifted for it alone.
    let mut cmd = fake.command(&["apply", "--yes"]);
    cmd.env_remove("PRUNE_REVIEW_REQUIRE_FILTER");
    let out = run_with(cmd, &cache_only);
    assert_eq!(out.code, 0, "{out:#?}");
    let r = out.find("delete", "build-cache");
    assert_eq!(
        (r.verdict, r.data["bytes"].clone()),
        (Verdict::Pass, json!(700))
    );
    assert_eq!(
        out.find("apply.summary", "plan").data["bytes_reclaimed"],
        700
    );
}

#[test]
fn a_hand_written_plan_line_for_the_model_volume_is_never_deleted() {
    let deletes = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&deletes);
    let df: Value = serde_json::from_str(OLD).unwrap();
    let volumes = volumes_of(&df);
    let fake = FakeEngine::start(
        "1.41",
        Arc::new(move |method, path| match (method, path) {
            ("GET", "/system/df") => (200, OLD.to_owned()),
            ("GET", "/containers/json") => (200, "[]".to_owned()),
            ("GET", "/volumes/deploy_ollama-data") => (200, volumes[0].to_string()),
            ("DELETE", _) => {
                seen.fetch_add(1, Ordering::SeqCst);
                (204, String::new())
            }
            _ => (404, r#"{"message":"page not found"}"#.to_owned()),
        }),
    );
    let line = json!({
        "v": 1, "tool": "prune-review", "check": "plan.volume", "target": "deploy_ollama-data",
        "verdict": "info", "reason": "orphan_named", "ts": "2026-11-28T00:00:00Z",
        "data": {"kind": "volume", "id": "deploy_ollama-data", "name": "deploy_ollama-data",
                 "created": "2026-11-27T10:00:00Z", "size_bytes": 12_000_000_000u64,
                 "labels": {"org.day2.test.scope": "fake"}, "driver": "local", "options": {}}
    });
    let out = run_with(
        fake.command(&[
            "apply",
            "--yes",
            "--filter",
            "label=org.day2.test.scope=fake",
        ]),
        &format!("{line}\n"),
    );
    assert_eq!(out.code, 0, "{out:#?}");
    let r = out.find("delete", "deploy_ollama-data");
    assert_eq!(
        (r.verdict, r.reason.as_deref()),
        (Verdict::Warn, Some("protected"))
    );
    assert_eq!(r.data["protected_by"], "name:deploy_ollama-data");
    assert_eq!(
        deletes.load(Ordering::SeqCst),
        0,
        "no DELETE ever reached the engine"
    );
}

#[test]
fn an_unreachable_engine_is_an_error_record() {
    let dir = tempfile::tempdir().unwrap();
    let host = format!("unix://{}", dir.path().join("nothing.sock").display());
    let mut cmd = common::command(&["review"]);
    cmd.env("DOCKER_HOST", &host);
    let out = run_with(cmd, "");
    assert_eq!(out.code, 1, "{out:#?}");
    let r = out.find("engine", "docker");
    assert_eq!(
        (r.verdict, r.reason.as_deref()),
        (Verdict::Error, Some("engine_unreachable"))
    );
}

fn usage(args: &[&str], stdin: &str, expect: &str) {
    let mut cmd = common::command(args);
    // Usage errors are found before any engine is contacted.
    cmd.env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    let out = run_with(cmd, stdin);
    assert_eq!(out.code, 2, "{args:?}: {out:#?}");
    assert!(out.records.is_empty(), "{out:#?}");
    assert_eq!(
        out.stderr.trim().lines().count(),
        1,
        "one line: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains(expect),
        "{args:?}: {:?} lacks {expect:?}",
        out.stderr
    );
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let f = "label=k=v";
    usage(
        &["apply", "--yes", "--filter", f],
        "\n{oops\n",
        "stdin:2: not a day2 record",
    );
    usage(
        &[
            "apply",
            "--yes",
            "--filter",
            f,
            "--plan",
            "/nonexistent/plan",
        ],
        "",
        "--plan /nonexistent/plan",
    );
    let foreign = r#"{"v":1,"tool":"sri-check","check":"entry","target":"a","verdict":"pass","ts":"2026-11-28T00:00:00Z","data":{}}"#;
    usage(
        &["apply", "--yes", "--filter", f],
        foreign,
        "stdin:1: a record of \"sri-check\"",
    );
    usage(
        &["apply", "--yes"],
        "",
        "PRUNE_REVIEW_REQUIRE_FILTER is set",
    );
    usage(&["review", "--filter", "name=x"], "", "--filter");
    usage(&["review", "--protect", "label:"], "", "--protect");
    // A bad flag value: one line naming the flag and what it takes.
    let out = run_with(common::command(&["plan", "--older-than", "soon"]), "");
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("invalid value \"soon\" for --older-than: a duration from 0 to 3650 days"),
        "{}",
        out.stderr
    );
}

#[test]
fn help_is_complete() {
    let out = day2_tests::process::Bin::from(common::command(&["--help"])).output();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for word in [
        "review",
        "plan",
        "apply",
        "caches",
        "inspect",
        "--protect",
        "--filter",
        "Exit codes",
    ] {
        assert!(text.contains(word), "help lacks {word}:\n{text}");
    }
}

/// Issue 18: a stalled engine held a run for up to 300 s (bollard's timeout). Every
/// engine call now ends by the run's `--timeout`: an `engine_timeout` error, exit 1.
#[test]
fn a_stalled_engine_ends_the_run_at_its_deadline() {
    use std::time::{Duration, Instant};
    let stall = |method: &str, path: &str| {
        // Bounded: long enough to outlive every deadline below, short enough to end.
        std::thread::sleep(Duration::from_secs(40));
        (404, format!("{{\"message\":\"{method} {path} stalled\"}}"))
    };
    let fake = FakeEngine::start("1.41", Arc::new(stall));
    let started = Instant::now();
    let out = common::run_within(
        fake.command(&["review", "--timeout", "2s"]),
        "",
        Duration::from_secs(30),
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.code, 1, "{out:#?}");
    let engine = out.find("engine", "docker");
    assert_eq!(
        (engine.verdict, engine.reason.as_deref()),
        (Verdict::Error, Some("engine_timeout"))
    );
    assert!(
        engine
            .message
            .as_deref()
            .unwrap_or("")
            .contains("within the run's --timeout of 2 seconds"),
        "{engine:?}"
    );

    // A delete that stalls: that item is an error, the rest is not attempted.
    let deletes = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&deletes);
    let df: Value = serde_json::from_str(OLD).unwrap();
    let volumes = volumes_of(&df);
    let fake = FakeEngine::start(
        "1.41",
        Arc::new(move |method, path| match (method, path) {
            ("GET", "/system/df") => (200, OLD.to_owned()),
            ("GET", "/volumes") => (
                200,
                json!({"Volumes": volumes, "Warnings": null}).to_string(),
            ),
            ("GET", "/containers/json" | "/networks" | "/images/json") => (200, "[]".to_owned()),
            ("GET", p) if p.starts_with("/volumes/") => {
                let name = &p["/volumes/".len()..];
                match volumes.iter().find(|v| v["Name"] == name) {
                    Some(v) => (200, v.to_string()),
                    None => (404, r#"{"message":"no such volume"}"#.to_owned()),
                }
            }
            ("DELETE", _) => {
                seen.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_secs(40));
                (204, String::new())
            }
            _ => (404, r#"{"message":"page not found"}"#.to_owned()),
        }),
    );
    let plan = plan_for(&fake);
    assert_eq!(plan.lines().count(), 2, "{plan}");
    let args = [
        "apply",
        "--yes",
        "--timeout",
        "3s",
        "--filter",
        "label=org.day2.test.scope=fake",
    ];
    let started = Instant::now();
    let out = common::run_within(fake.command(&args), &plan, Duration::from_secs(30));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.code, 1, "{out:#?}");
    assert_eq!(
        deletes.load(Ordering::SeqCst),
        1,
        "one delete tried, then the run ended"
    );
    let failed: Vec<_> = out
        .checks("delete")
        .into_iter()
        .filter(|r| r.reason.as_deref() == Some("delete_failed"))
        .collect();
    assert_eq!(failed.len(), 1, "{out:#?}");
    assert_eq!(out.reason("engine", "docker"), "engine_timeout");
}

/// A plan nested deeper than serde_json's recursion limit (128) is a one-line usage
/// error naming the file and line, before any engine is asked; so is a plan that
/// never ends (`/dev/zero`), at its 64 MiB cap.
#[test]
fn hostile_plans_are_one_line_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let deep = dir.path().join("deep.jsonl");
    let depth = 50_000;
    let line = format!(
        "{{\"v\":1,\"tool\":\"prune-review\",\"check\":\"plan.volume\",\"target\":\"x\",\"verdict\":\"info\",\"reason\":\"r\",\"ts\":\"t\",\"data\":{}{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    std::fs::write(&deep, format!("\n{line}\n")).unwrap();
    let nowhere = "unix:///nonexistent/docker.sock";
    for (plan, expected) in [
        (
            deep.to_str().unwrap(),
            format!(
                "{}:2: not a day2 record: recursion limit exceeded",
                deep.display()
            ),
        ),
        (
            "/dev/zero",
            "cannot read --plan /dev/zero: larger than 64 MiB".to_owned(),
        ),
    ] {
        let mut cmd = common::command(&["apply", "--yes", "--plan", plan, "--filter", "label=x"]);
        cmd.env("DOCKER_HOST", nowhere);
        let out = common::run_within(cmd, "", std::time::Duration::from_secs(60));
        assert_eq!(out.code, 2, "{out:#?}");
        assert!(out.records.is_empty());
        assert!(
            out.stderr.starts_with(&format!("prune-review: {expected}")),
            "{}",
            out.stderr
        );
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    }
}

#[test]
fn numbers_out_of_range_are_usage_errors() {
    for (args, expected) in [
        (
            &["review", "--timeout", "0s"][..],
            "for --timeout: a duration from 1 second to 1 day",
        ),
        (&["review", "--timeout", "1e300"][..], "for --timeout:"),
        (
            &["plan", "--older-than", "99999999999d"][..],
            "for --older-than: a duration from 0 to 3650 days",
        ),
        (
            &["inspect", "v", "--top", "0"][..],
            "for --top: a whole number from 1 to 1000",
        ),
        (
            &["inspect", "v", "--top", "18446744073709551616"][..],
            "for --top:",
        ),
    ] {
        let mut cmd = common::command(args);
        cmd.env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
        let out = common::run_within(cmd, "", std::time::Duration::from_secs(30));
        assert_eq!(out.code, 2, "{args:?}: {out:#?}");
        assert!(out.stderr.contains(expected), "{args:?}: {}", out.stderr);
    }
}

/// A canary credential in DOCKER_HOST appears in no output.
#[test]
fn docker_host_credentials_never_reach_any_output() {
    const CANARY: &str = "CANARY-b7e4";
    let host = format!("tcp://admin:{CANARY}@127.0.0.1:1");
    for args in [
        &["review"][..],
        &["plan"][..],
        &["apply", "--yes", "--filter", "label=x"][..],
    ] {
        let mut cmd = common::command(args);
        cmd.env("DOCKER_HOST", &host);
        let out = day2_tests::process::Bin::from(cmd)
            .deadline(std::time::Duration::from_secs(30))
            .run();
        let (stdout, stderr) = (&out.stdout, &out.stderr);
        assert!(
            !stdout.contains(CANARY) && !stderr.contains(CANARY),
            "{args:?}\n{stdout}\n{stderr}"
        );
    }
}

/// A plan larger than any pipe (over 1 MiB on stdin, and as many records back on
/// stdout) is applied whole: the runner feeds stdin while it reads the records, so
/// neither side can block the other (the harness used to write all of stdin first).
#[test]
fn a_plan_larger_than_a_pipe_is_applied_without_a_deadlock() {
    const VOLUMES: usize = 1500;
    let volumes: Vec<Value> = (0..VOLUMES)
        .map(|i| {
            let name = format!("orphan-{i:05}-{}", "x".repeat(300));
            json!({
                "CreatedAt": "2026-11-27T10:00:00Z", "Driver": "local", "Labels": {},
                "Mountpoint": format!("/var/lib/docker/volumes/{name}/_data"), "Name": name,
                "Options": null, "Scope": "local", "UsageData": {"RefCount": 0, "Size": 1000}
            })
        })
        .collect();
    let df = json!({"LayersSize": 0, "Images": [], "Containers": [], "Volumes": volumes, "BuildCache": []});
    let fake = engine("1.41", Box::leak(df.to_string().into_boxed_str()), 204);
    let plan = plan_for(&fake);
    assert_eq!(plan.lines().count(), VOLUMES);
    assert!(plan.len() > 1 << 20, "{} bytes of plan", plan.len());
    let out = run_with(
        fake.command(&[
            "apply",
            "--yes",
            "--filter",
            "label=org.day2.test.scope=fake",
        ]),
        &plan,
    );
    out.assert_code(0);
    assert_eq!(out.deleted().len(), VOLUMES, "{out:?}");
    assert!(
        out.stdout.len() > 1 << 20,
        "{} bytes of records",
        out.stdout.len()
    );
}
