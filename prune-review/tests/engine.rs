//! Against the real Docker Engine: every object a test creates carries its scope's
//! label, every read uses `--filter` with that label, and every `apply` goes
//! through `common::apply`, which is scoped (and the binary refuses an unscoped
//! apply under the harness's environment).

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{anonymous_volume, apply, container, plan_text, scoped, volume_exists};
use day2_core::Verdict;
use day2_tests::docker::{docker, docker_stdout, test_image, TestScope};
use serde_json::Value;

#[test]
fn every_class_is_found_with_sizes_holders_and_protection() {
    let scope = TestScope::new("classes");
    let running = scope.volume("running", &[]);
    let stopped = scope.volume("stopped", &[]);
    let created = scope.volume("created", &[]);
    let project = scope.name("proj");
    let compose_label = format!("com.docker.compose.project={project}");
    let gone = scope.volume("gone", &[&compose_label]);
    let named = scope.volume("named", &[]);
    let anon = anonymous_volume(&scope);
    let exact = scope.volume("keep-exact", &[]);
    let globbed = scope.volume("keep-glob-1", &[]);
    let labelled = scope.volume("keep-label", &["org.day2.keep=yes"]);
    let held_protected = scope.volume("keep-held", &[]);
    container(&scope, "c-run", &[&running, &held_protected], true);
    let c_stop = container(&scope, "c-stop", &[&stopped], true);
    docker(&["stop", "-t", "0", &c_stop]);
    container(&scope, "c-created", &[&created], false);
    // Some content, so sizes are real.
    docker(&[
        "run",
        "--rm",
        "--label",
        &scope.label(),
        "-v",
        &format!("{named}:/d"),
        test_image(),
        "sh",
        "-c",
        "dd if=/dev/zero of=/d/blob bs=1024 count=300 2>/dev/null",
    ]);

    let glob = format!("{}-keep-glob-*", scope.id);
    let out = scoped(
        &scope,
        &[
            "review",
            "--protect",
            &exact,
            "--protect",
            &glob,
            "--protect",
            "label:org.day2.keep=yes",
            "--protect",
            &held_protected,
        ],
    );
    assert_eq!(out.code, 0, "{out:#?}");
    let expect = [
        (&running, "in_use_running"),
        (&stopped, "in_use_stopped"),
        (&created, "in_use_stopped"),
        (&gone, "compose_project_gone"),
        (&named, "orphan_named"),
        (&anon, "orphan_anonymous"),
        (&exact, "protected"),
        (&globbed, "protected"),
        (&labelled, "protected"),
        (&held_protected, "protected"),
    ];
    for (name, class) in expect {
        assert_eq!(out.reason("volume", name), class, "{name}");
        assert_eq!(out.find("volume", name).data["class"], class);
    }
    assert_eq!(
        out.checks("volume").len(),
        expect.len(),
        "only the scope's volumes are reviewed"
    );
    let r = out.find("volume", &stopped);
    assert_eq!(r.data["holders"][0]["state"], "exited", "{r:?}");
    assert!(
        r.data["created_at"]
            .as_str()
            .is_some_and(|t| t.starts_with("20")),
        "{r:?}"
    );
    assert_eq!(
        out.find("volume", &held_protected).data["holders"][0]["state"],
        "running"
    );
    assert_eq!(
        out.find("volume", &gone).data["compose_project"],
        project.as_str()
    );
    assert_eq!(
        out.find("volume", &labelled).data["protected_by"],
        "label:org.day2.keep=yes"
    );
    assert_eq!(
        out.find("volume", &globbed).data["protected_by"],
        format!("glob:{glob}")
    );
    assert!(
        out.find("volume.size", &named).data["size_bytes"]
            .as_u64()
            .unwrap_or(0)
            >= 300 * 1024
    );
    let disk = out.find("disk", "engine");
    assert_eq!(
        disk.data["shape"], "old",
        "this engine speaks the older /system/df shape"
    );
    assert!(disk.data["volumes"]["count"].as_u64().unwrap_or(0) >= expect.len() as u64);
    let summary = out.find("review.summary", "volumes");
    assert_eq!(summary.data["counts"]["protected"], 4);
    assert_eq!(summary.data["counts"]["in_use_stopped"], 2);

    // A compose project that still has a container keeps its spare volume out of
    // compose_project_gone: it is only an orphan named volume.
    let live = scope.volume("live", &[&compose_label]);
    let label = scope.label();
    docker(&[
        "create",
        "--label",
        &label,
        "--label",
        &compose_label,
        test_image(),
        "true",
    ]);
    let out = scoped(&scope, &["review"]);
    assert_eq!(out.reason("volume", &live), "orphan_named");
    assert_eq!(out.reason("volume", &gone), "orphan_named");
}

#[test]
fn plan_proposes_only_orphans_and_apply_deletes_exactly_the_plan() {
    let scope = TestScope::new("happy");
    let anon1 = anonymous_volume(&scope);
    let anon2 = anonymous_volume(&scope);
    let named = scope.volume("named", &[]);
    let gone = scope.volume(
        "gone",
        &[&format!("com.docker.compose.project={}", scope.name("p"))],
    );
    let held = scope.volume("held", &[]);
    let kept = scope.volume("kept", &[]);
    container(&scope, "holder", &[&held], false);

    let default = scoped(&scope, &["plan", "--protect", &kept]);
    assert_eq!(default.code, 0, "{default:#?}");
    let mut targets: Vec<&str> = default.records.iter().map(|r| r.target.as_str()).collect();
    targets.sort();
    let mut anons = vec![anon1.as_str(), anon2.as_str()];
    anons.sort();
    assert_eq!(targets, anons, "by default only orphan anonymous volumes");
    let line = &default.records[0];
    assert_eq!(line.check, "plan.volume");
    assert_eq!(line.reason.as_deref(), Some("orphan_anonymous"));
    assert!(line.data["created"].is_string() && line.data["kind"] == "volume");

    let wide = scoped(
        &scope,
        &[
            "plan",
            "--include-named",
            "--include-compose",
            "--protect",
            &kept,
        ],
    );
    let mut wide_targets: Vec<String> = wide.records.iter().map(|r| r.target.clone()).collect();
    wide_targets.sort();
    let mut expect = vec![anon1.clone(), anon2.clone(), named.clone(), gone.clone()];
    expect.sort();
    assert_eq!(wide_targets, expect, "never held, never protected");
    let young = scoped(&scope, &["plan", "--include-named", "--older-than", "1h"]);
    assert!(
        young.records.is_empty(),
        "nothing is an hour old: {young:#?}"
    );

    // A person edits the plan: keeps only the named volume and one anonymous one.
    let edited: String = plan_text(&wide)
        .lines()
        .filter(|l| l.contains(&named) || l.contains(&anon1))
        .map(|l| format!("{l}\n"))
        .collect();
    let out = apply(&scope, &edited, &["--protect", &kept]);
    assert_eq!(out.code, 0, "{out:#?}");
    let mut want = vec![named.clone(), anon1.clone()];
    want.sort();
    assert_eq!(out.deleted(), want);
    assert!(!volume_exists(&named) && !volume_exists(&anon1));
    for survivor in [&anon2, &gone, &held, &kept] {
        assert!(volume_exists(survivor), "{survivor} must survive");
    }
    let phases: Vec<&Value> = out
        .checks("disk")
        .iter()
        .map(|r| &r.data["phase"])
        .collect();
    assert_eq!(phases, ["before", "after"]);
    let summary = out.find("apply.summary", "plan");
    assert_eq!(summary.reason.as_deref(), Some("done"));
    assert_eq!(summary.data["deleted"], 2);
    assert!(summary.data["bytes_reclaimed"].is_u64());

    // Applying the same plan again deletes nothing and says why.
    let again = apply(&scope, &edited, &[]);
    assert_eq!(again.code, 0);
    assert!(again.deleted().is_empty());
    for r in again.checks("delete") {
        assert_eq!(
            (r.verdict, r.reason.as_deref()),
            (Verdict::Info, Some("already_gone"))
        );
    }
}

#[test]
fn apply_needs_a_terminal_or_yes_and_honours_the_filter() {
    let scope = TestScope::new("guard");
    let victim = scope.volume("victim", &[]);
    let plan = plan_text(&scoped(&scope, &["plan", "--include-named"]));
    assert!(plan.contains(&victim));
    let filter = format!("label={}", scope.label());

    // No terminal, no --yes: refused before anything is touched.
    let out = common::run_with(common::command(&["apply", "--filter", &filter]), &plan);
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(out.records.is_empty(), "not even a snapshot: {out:#?}");
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert!(volume_exists(&victim));

    // A filter the object does not match: skipped.
    let other = scope.name("other");
    let out = common::run_with(
        common::command(&["apply", "--yes", "--filter", &format!("label={other}")]),
        &plan,
    );
    assert_eq!(out.code, 0, "{out:#?}");
    assert_eq!(out.reason("delete", &victim), "outside_filter");
    assert!(volume_exists(&victim));

    // The build cache carries no labels: a filtered apply never prunes it.
    let line = format!(
        r#"{{"v":1,"tool":"prune-review","check":"plan.build_cache","target":"build-cache","verdict":"info","reason":"reclaimable","ts":"2026-11-28T00:00:00Z","data":{{"kind":"build_cache","id":"build-cache","name":"build-cache","created":null,"size_bytes":1}}}}{}"#,
        "\n"
    );
    let out = apply(&scope, &line, &[]);
    assert_eq!(out.reason("delete", "build-cache"), "outside_filter");
}

/// Runs `apply` on a terminal (through `script`), answering `answer`.
fn apply_on_terminal(
    scope: &TestScope,
    plan_file: &std::path::Path,
    answer: &str,
) -> (Vec<day2_core::Record>, String) {
    let cmd = format!(
        "{} apply --plan {} --filter label={}",
        common::BIN,
        plan_file.display(),
        scope.label()
    );
    let out = day2_tests::process::Bin::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("PRUNE_REVIEW_REQUIRE_FILTER", "1")
        .stdin(answer)
        .deadline(Duration::from_secs(120))
        .run();
    let text = out.stdout.replace('\r', "");
    let records = text
        .lines()
        .filter_map(|l| l.find('{').map(|i| &l[i..]))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    (records, text)
}

#[test]
fn a_terminal_confirmation_is_asked_and_honoured() {
    let scope = TestScope::new("confirm");
    let victim = scope.volume("victim", &[]);
    let dir = tempfile::tempdir().unwrap();
    let plan_file = dir.path().join("plan.jsonl");
    std::fs::write(
        &plan_file,
        plan_text(&scoped(&scope, &["plan", "--include-named"])),
    )
    .unwrap();

    let (records, text) = apply_on_terminal(&scope, &plan_file, "n\n");
    assert!(
        text.contains("Delete them?") && text.contains(&victim),
        "{text}"
    );
    let declined = records
        .iter()
        .find(|r: &&day2_core::Record| r.check == "apply.summary")
        .expect(&text);
    assert_eq!(declined.reason.as_deref(), Some("declined"));
    assert!(volume_exists(&victim));

    let (records, text) = apply_on_terminal(&scope, &plan_file, "y\n");
    assert!(
        records
            .iter()
            .any(|r| r.check == "delete" && r.verdict == Verdict::Pass),
        "{text}"
    );
    assert!(!volume_exists(&victim));
}

#[test]
fn changes_between_plan_and_apply_delete_nothing_they_touch() {
    let deadline = Instant::now() + Duration::from_secs(400);
    let iterations = 6;
    for round in 0..iterations {
        assert!(
            Instant::now() < deadline,
            "race rounds took too long (round {round})"
        );
        // A scope per round, so one round's survivors are not the next one's orphans.
        let scope = TestScope::new(&format!("race{round}"));
        let v = |s: &str| scope.volume(&format!("r{round}-{s}"), &[]);
        let (attach_stopped, attach_running, recreated, relabelled, named_later, free) = (
            v("stopped"),
            v("running"),
            v("recreated"),
            v("relabelled"),
            v("named-later"),
            v("free"),
        );
        let plan = scoped(&scope, &["plan", "--include-named"]);
        let text = plan_text(&plan);
        for name in [
            &attach_stopped,
            &attach_running,
            &recreated,
            &relabelled,
            &named_later,
            &free,
        ] {
            assert!(text.contains(name.as_str()), "{name} planned");
        }
        // Between plan and apply: containers attach, a name is recreated (a new
        // object: the creation time has to move on by a second), a name is recreated
        // under a protection label, and a name becomes protected.
        container(&scope, &format!("r{round}-s"), &[&attach_stopped], false);
        container(&scope, &format!("r{round}-r"), &[&attach_running], true);
        docker(&["volume", "rm", &recreated, &relabelled]);
        std::thread::sleep(Duration::from_millis(1100));
        let label = scope.label();
        docker(&["volume", "create", "--label", &label, &recreated]);
        docker(&[
            "volume",
            "create",
            "--label",
            &label,
            "--label",
            "org.day2.keep=1",
            &relabelled,
        ]);

        let out = apply(
            &scope,
            &text,
            &[
                "--protect",
                &named_later,
                "--protect",
                "label:org.day2.keep",
            ],
        );
        assert_eq!(out.code, 0, "{out:#?}");
        assert_eq!(
            out.deleted(),
            vec![free.clone()],
            "round {round}: only the untouched volume goes"
        );
        assert_eq!(out.reason("delete", &attach_stopped), "in_use");
        assert_eq!(out.reason("delete", &attach_running), "in_use");
        assert_eq!(
            out.find("delete", &attach_running).data["holders"][0]["state"],
            "running"
        );
        assert_eq!(out.reason("delete", &recreated), "created_at_changed");
        assert_eq!(out.reason("delete", &relabelled), "created_at_changed");
        assert_eq!(out.reason("delete", &named_later), "protected");
        for kept in [
            &attach_stopped,
            &attach_running,
            &recreated,
            &relabelled,
            &named_later,
        ] {
            assert!(volume_exists(kept), "round {round}: {kept} must survive");
        }
    }
}

#[test]
fn an_apply_killed_midway_resumes_cleanly() {
    let scope = TestScope::new("kill");
    let victims: Vec<String> = (0..40)
        .map(|i| scope.volume(&format!("v{i:02}"), &[]))
        .collect();
    let bystander = scope.volume("bystander", &[]);
    let plan = plan_text(&scoped(
        &scope,
        &["plan", "--include-named", "--protect", &bystander],
    ));
    assert_eq!(plan.lines().count(), victims.len());

    let filter = format!("label={}", scope.label());
    let mut child = common::command(&["apply", "--yes", "--filter", &filter])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn apply");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(plan.as_bytes()).expect("plan");
    }
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let started = Instant::now();
    let mut first_deleted = false;
    while let Some(Ok(line)) = lines.next() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "apply never deleted anything"
        );
        if line.contains(r#""check":"delete""#) && line.contains(r#""verdict":"pass""#) {
            first_deleted = true;
            break;
        }
    }
    assert!(first_deleted, "apply ended without deleting");
    let still_running = child.try_wait().expect("try_wait").is_none();
    child.kill().expect("kill apply");
    let _ = child.wait();
    let left: Vec<&String> = victims.iter().filter(|v| volume_exists(v)).collect();
    assert!(still_running, "apply was killed midway, not after it ended");
    assert!(
        left.len() < victims.len() && !left.is_empty(),
        "{} of {} left",
        left.len(),
        victims.len()
    );

    let out = apply(&scope, &plan, &[]);
    assert_eq!(out.code, 0, "{out:#?}");
    let deletes = out.checks("delete");
    assert_eq!(deletes.len(), victims.len());
    for r in &deletes {
        let ok = r.verdict == Verdict::Pass || r.reason.as_deref() == Some("already_gone");
        assert!(ok, "a re-run only deletes or finds gone: {r:?}");
    }
    assert_eq!(out.deleted().len(), left.len());
    assert!(victims.iter().all(|v| !volume_exists(v)));
    assert!(volume_exists(&bystander));
}

#[test]
fn caches_are_reviewed_planned_and_applied_within_the_scope() {
    let scope = TestScope::new("caches");
    let _images = common::ImageCleanup(scope.label());
    let label = scope.label();
    let stopped = container(&scope, "stopped", &[], false);
    let running = container(&scope, "running", &[], true);
    let unused_net = scope.name("net-unused");
    let used_net = scope.name("net-used");
    docker(&["network", "create", "--label", &label, &unused_net]);
    docker(&["network", "create", "--label", &label, &used_net]);
    docker(&[
        "create",
        "--label",
        &label,
        "--network",
        &used_net,
        test_image(),
        "true",
    ]);
    let base = test_image();
    let tag = format!("{}:img", scope.id);
    let first = common::build_image(&scope, &format!("FROM {base}\nRUN echo 1 > /x\n"), &tag);
    let second = common::build_image(&scope, &format!("FROM {base}\nRUN echo 2 > /x\n"), &tag);
    assert_ne!(
        first, second,
        "rebuilding moves the tag, leaving a dangling image"
    );
    // An unused image under two tags: the engine refuses to remove it by id.
    let two_tags = common::build_image(
        &scope,
        &format!("FROM {base}\nRUN echo 3 > /x\n"),
        &format!("{}:a", scope.id),
    );
    docker(&["tag", &two_tags, &format!("{}:b", scope.id)]);

    let out = scoped(&scope, &["caches"]);
    assert_eq!(out.code, 0, "{out:#?}");
    let containers = out.find("cache", "containers");
    assert!(containers.data["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == stopped.as_str()));
    assert!(!containers.data["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == running.as_str()));
    let networks = &out.find("cache", "networks").data["candidates"];
    assert_eq!(
        networks,
        &serde_json::json!([unused_net]),
        "a network a stopped container uses stays"
    );
    assert_eq!(out.find("cache", "images").data["count"], 1);
    assert_eq!(out.reason("cache", "build_cache"), "not_scopable");

    let plan = scoped(&scope, &["plan", "--caches", "--unused-images"]);
    let kinds: Vec<&str> = plan.records.iter().map(|r| r.check.as_str()).collect();
    assert!(
        kinds.contains(&"plan.container")
            && kinds.contains(&"plan.network")
            && kinds.contains(&"plan.image")
    );
    assert!(!kinds.contains(&"plan.build_cache"));
    let reasons: Vec<&str> = plan
        .checks("plan.image")
        .iter()
        .filter_map(|r| r.reason.as_deref())
        .collect();
    assert!(
        reasons.contains(&"dangling") && reasons.contains(&"unused"),
        "{reasons:?}"
    );
    assert!(!plan
        .records
        .iter()
        .any(|r| r.data["name"] == running.as_str()));

    let out = apply(&scope, &plan_text(&plan), &[]);
    assert_eq!(out.code, 0, "{out:#?}");
    let deleted = out.deleted();
    assert!(
        deleted.contains(&unused_net_id(&out, &unused_net)),
        "{out:#?}"
    );
    assert!(
        deleted.contains(&first) && deleted.contains(&second),
        "dangling and unused images go: {out:#?}"
    );
    assert_eq!(
        out.reason("delete", &two_tags_id(&plan, &scope.id)),
        "engine_refused"
    );
    assert!(
        !common::docker_ok(&["container", "inspect", &stopped]).0,
        "stopped container removed"
    );
    assert!(
        common::docker_ok(&["container", "inspect", &running]).0,
        "running container kept"
    );
    assert!(
        common::docker_ok(&["network", "inspect", &used_net]).0,
        "used network kept"
    );
    assert!(
        common::docker_ok(&["image", "inspect", &two_tags]).0,
        "the refused image is still there"
    );
    let summary = out.find("apply.summary", "plan");
    assert!(
        summary.data["reclaimable_before"]["images"].is_u64()
            && summary.data["reclaimable_after"]["images"].is_u64()
    );
}

fn unused_net_id(out: &common::Run, name: &str) -> String {
    out.checks("delete")
        .iter()
        .find(|r| r.data["name"] == name)
        .map(|r| r.target.clone())
        .unwrap_or_default()
}

fn two_tags_id(plan: &common::Run, scope_id: &str) -> String {
    plan.checks("plan.image")
        .iter()
        .find(|r| {
            r.data["name"]
                .as_str()
                .is_some_and(|n| n.contains(&format!("{scope_id}:a")))
        })
        .map(|r| r.target.clone())
        .expect("the two-tag image is planned")
}

#[test]
fn inspect_shows_contents_and_needs_a_local_image() {
    let scope = TestScope::new("inspect");
    let _images = common::ImageCleanup(scope.label());
    let vol = scope.volume("data", &[]);
    docker(&[
        "run", "--rm", "--label", &scope.label(), "-v", &format!("{vol}:/d"), test_image(), "sh", "-c",
        "mkdir /d/models && dd if=/dev/zero of=/d/models/big bs=1024 count=200 2>/dev/null && echo hi > /d/a && echo yo > /d/b",
    ]);
    let out = common::run(&["inspect", &vol, "--image", test_image(), "--top", "2"]);
    assert_eq!(out.code, 0, "{out:#?}");
    let r = out.find("inspect", &vol);
    assert_eq!(r.reason.as_deref(), Some("contents"));
    assert_eq!(r.data["file_count"], 3);
    assert!(r.data["total_bytes"].as_u64().unwrap() >= 200 * 1024);
    assert_eq!(r.data["largest"][0]["path"], "models");
    assert_eq!(r.data["largest"][1]["path"], "models/big");
    assert_eq!(r.data["largest"].as_array().unwrap().len(), 2);
    let leftover = common::docker_ok(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=org.day2.prune-review.inspect={vol}"),
    ]);
    assert_eq!(
        leftover,
        (true, String::new()),
        "the inspection container is removed"
    );

    let out = common::run(&["inspect", &vol]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("--image") && out.stderr.contains("nothing is pulled"),
        "{}",
        out.stderr
    );
    let missing = format!("{}-absent:1", scope.id);
    let out = common::run(&["inspect", &vol, "--image", &missing]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("not available locally"),
        "{}",
        out.stderr
    );
    let out = common::run(&["inspect", &scope.name("nope"), "--image", test_image()]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.reason("inspect", &scope.name("nope")),
        "volume_not_found"
    );

    // An image whose shell fails (busybox runs its applets itself, so removing
    // du alone would not do): the inspection fails and says so.
    let bad_sh = format!("{}:bad-sh", scope.id);
    let dockerfile = format!(
        "FROM {}\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"rm /bin/sh && printf '#!/bin/busybox sh\\\\nexit 3\\\\n' > /bin/sh && chmod +x /bin/sh\"]\n",
        test_image()
    );
    common::build_image(&scope, &dockerfile, &bad_sh);
    let out = common::run(&["inspect", &vol, "--image", &bad_sh]);
    assert_eq!(out.code, 1, "{out:#?}");
    assert_eq!(out.reason("inspect", &vol), "inspect_failed");
    // An image without a shell cannot even start: an engine error.
    let no_sh = format!("{}:no-sh", scope.id);
    common::build_image(
        &scope,
        "FROM scratch\nCOPY Dockerfile /Dockerfile\n",
        &no_sh,
    );
    let out = common::run(&["inspect", &vol, "--image", &no_sh]);
    assert_eq!(out.code, 1, "{out:#?}");
    assert_eq!(out.reason("engine", "docker"), "engine_error");
    assert!(volume_exists(&vol));
}

/// Issue 18: apply's re-check compared only the creation time, which the engine
/// gives in whole seconds, so a volume removed and re-created under the same name
/// within the same second, with other labels or other driver options, was deleted
/// as the planned one. Labels, driver and options are compared too.
#[test]
fn a_volume_recreated_within_the_same_second_with_another_identity_is_kept() {
    let scope = TestScope::new("samesecond");
    let label = scope.label();
    let created = |name: &str| docker_stdout(&["volume", "inspect", "-f", "{{.CreatedAt}}", name]);
    // Re-creating within the same second is a race with the clock: bounded retries.
    for attempt in 0..10 {
        let relabelled = scope.volume(&format!("l{attempt}"), &["org.day2.role=cache"]);
        let retyped = scope.name(&format!("o{attempt}"));
        docker(&[
            "volume",
            "create",
            "--label",
            &label,
            "-o",
            "type=tmpfs",
            "-o",
            "device=tmpfs",
            &retyped,
        ]);
        let plan = scoped(&scope, &["plan", "--include-named"]);
        let text: String = plan_text(&plan)
            .lines()
            .filter(|l| {
                l.contains(&format!("\"{relabelled}\"")) || l.contains(&format!("\"{retyped}\""))
            })
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(text.lines().count(), 2, "both planned: {text}");
        assert!(
            text.contains("\"driver\":\"local\"") && text.contains("\"type\":\"tmpfs\""),
            "{text}"
        );
        let before = (created(&relabelled), created(&retyped));
        docker(&["volume", "rm", &relabelled, &retyped]);
        docker(&[
            "volume",
            "create",
            "--label",
            &label,
            "--label",
            "org.day2.role=models",
            &relabelled,
        ]);
        docker(&[
            "volume",
            "create",
            "--label",
            &label,
            "-o",
            "type=tmpfs",
            "-o",
            "device=tmpfs",
            "-o",
            "o=size=1m",
            &retyped,
        ]);
        if (created(&relabelled), created(&retyped)) != before {
            // A second boundary fell between: not the case under test; try again.
            continue;
        }
        let out = apply(&scope, &text, &[]);
        assert_eq!(out.code, 0, "{out:#?}");
        assert!(out.deleted().is_empty(), "{out:#?}");
        let r = out.find("delete", &relabelled);
        assert_eq!(r.reason.as_deref(), Some("identity_changed"), "{r:?}");
        assert_eq!(r.data["changed"], serde_json::json!(["labels"]));
        let r = out.find("delete", &retyped);
        assert_eq!(r.reason.as_deref(), Some("identity_changed"), "{r:?}");
        assert_eq!(r.data["changed"], serde_json::json!(["options"]));
        assert!(volume_exists(&relabelled) && volume_exists(&retyped));
        return;
    }
    panic!("could not re-create the volumes within one second in 10 attempts");
}
