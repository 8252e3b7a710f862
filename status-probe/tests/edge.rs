//! The checks against the demo stack behind real nginx: every record and reason of
//! ready, deps, summary, cors and legacy that the stack can produce.

mod common;

use std::time::Duration;

use common::*;
use day2_core::record::Verdict;
use day2_tests::edge::SYNTHETIC_WARMING;
use day2_tests::{BackendConfig, EdgeConfig, Fault, LegacyRoute, Provider};
use serde_json::json;
use status_probe::{CorsAnswer, CorsDefect, Deps, PathClass, SummaryView};

use day2_tests::process::typed_payload as typed;

#[test]
fn a_healthy_edge_passes_the_status_checks_and_names_every_cors_defect() {
    let stack = stack();
    let url = stack.url();
    let run = probe(&[
        "--url",
        &url,
        "--chat-path",
        "/api/chat",
        "--origin",
        BOTH_LAYERS,
        "--origin",
        BACKEND_ONLY,
        "--origin",
        EDGE_ONLY,
        "--disallowed-origin",
        EVIL,
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.one("ready").verdict, Verdict::Pass, "{run:?}");
    assert_eq!(run.one("ready").data["rag_chunks"], 42);
    let deps = run.one("deps");
    assert_eq!(deps.verdict, Verdict::Pass);
    assert_eq!(typed::<Deps>(deps).failing, Vec::<String>::new());
    let summary = run.one("summary");
    assert_eq!(summary.verdict, Verdict::Pass, "{run:?}");
    let view: SummaryView = typed(summary);
    assert_eq!(SummaryView::of(summary).unwrap().as_ref(), Some(&view));
    assert_eq!(view.badge, "Agent — primary");
    assert_eq!(view.status_path.as_deref(), Some("api"));
    assert_eq!(view.path_class, PathClass::Primary);
    assert_eq!(view.model_present, Some(true));
    assert_eq!(view.build_sha.as_deref(), Some("local"));
    assert!(!view.synthetic);

    // Both layers allow it: two Allow-Origin lines on the summary, and the header gone.
    assert_eq!(
        run.for_origin("cors.preflight", BOTH_LAYERS).verdict,
        Verdict::Pass
    );
    let both = run.for_origin("cors.summary", BOTH_LAYERS);
    assert_eq!(
        verdict(both),
        (Verdict::Fail, Some("acao_duplicated")),
        "{run:?}"
    );
    let both: CorsAnswer = typed(both);
    assert_eq!(both.allow_origin, [BOTH_LAYERS, BOTH_LAYERS]);
    assert!(both
        .defects
        .contains(&CorsDefect::StatusPathHeaderLostWithOrigin));
    assert_eq!(
        verdict(run.for_origin("cors.legacy", BOTH_LAYERS)),
        (Verdict::Fail, Some("status_path_header_lost_with_origin"))
    );
    assert_eq!(
        run.for_origin("cors.layers", BOTH_LAYERS).verdict,
        Verdict::Pass
    );

    // Only the backend allows it: fine on the api, nothing on the legacy location.
    assert_eq!(
        run.for_origin("cors.preflight", BACKEND_ONLY).verdict,
        Verdict::Pass
    );
    assert_eq!(
        run.for_origin("cors.summary", BACKEND_ONLY).verdict,
        Verdict::Pass,
        "{run:?}"
    );
    assert_eq!(
        verdict(run.for_origin("cors.legacy", BACKEND_ONLY)),
        (Verdict::Fail, Some("acao_missing"))
    );
    let layers = run.for_origin("cors.layers", BACKEND_ONLY);
    assert_eq!(
        verdict(layers),
        (Verdict::Fail, Some("allowed_at_one_layer_only"))
    );
    assert_eq!(layers.data["refused_on"], json!(["legacy"]));

    // Only nginx allows it: the backend refuses the preflight.
    let preflight = run.for_origin("cors.preflight", EDGE_ONLY);
    assert_eq!(
        verdict(preflight),
        (Verdict::Fail, Some("preflight_rejected"))
    );
    assert_eq!(typed::<CorsAnswer>(preflight).status, 400);
    assert_eq!(
        verdict(run.for_origin("cors.summary", EDGE_ONLY)),
        (Verdict::Fail, Some("status_path_header_lost_with_origin"))
    );
    let layers = run.for_origin("cors.layers", EDGE_ONLY);
    assert_eq!(
        verdict(layers),
        (Verdict::Fail, Some("allowed_at_one_layer_only"))
    );
    assert_eq!(layers.data["allowed_on"], json!(["summary", "legacy"]));

    assert_eq!(
        run.for_origin("cors.disallowed", EVIL).verdict,
        Verdict::Pass
    );
    let legacy = run.one("legacy");
    assert_eq!(
        (legacy.verdict, &legacy.data["state"]),
        (Verdict::Pass, &json!("served"))
    );
    assert_eq!(legacy.data["status_path"], "legacy");
}

#[test]
fn an_unrouted_preflight_on_chat_at_the_edge_is_a_405_finding() {
    let stack = stack();
    let run = probe(&["--url", &stack.url(), "cors", "--origin", BOTH_LAYERS]);
    assert_eq!(run.code, 1, "{run:?}");
    let preflight = run.for_origin("cors.preflight", BOTH_LAYERS);
    assert_eq!(verdict(preflight), (Verdict::Fail, Some("preflight_405")));
    assert!(preflight.data["defects"]
        .as_array()
        .unwrap()
        .contains(&json!("acao_missing")));
    // A 405 from the SPA says nothing about allow-lists.
    assert_eq!(
        run.for_origin("cors.layers", BOTH_LAYERS).verdict,
        Verdict::Pass,
        "{run:?}"
    );
    assert_eq!(run.all("summary").len(), 0, "only the selected check runs");
}

#[test]
fn an_origin_nobody_allows_is_refused_everywhere() {
    let stack = stack();
    let run = probe(&[
        "--url",
        &stack.url(),
        "cors",
        "--chat-path",
        "/api/chat",
        "--origin",
        EVIL,
    ]);
    assert_eq!(run.code, 1);
    assert_eq!(
        verdict(run.for_origin("cors.layers", EVIL)),
        (Verdict::Fail, Some("origin_refused"))
    );
}

#[test]
fn against_the_backend_port_cors_passes_and_allow_all_lets_a_disallowed_origin_in() {
    let stack = stack();
    let backend = stack.backend.url();
    let run = probe(&[
        "--url",
        &backend,
        "cors",
        "--origin",
        BOTH_LAYERS,
        "--disallowed-origin",
        EVIL,
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.for_origin("cors.summary", BOTH_LAYERS).verdict,
        Verdict::Pass
    );
    assert_eq!(
        run.for_origin("cors.disallowed", EVIL).verdict,
        Verdict::Pass
    );

    stack.backend.reconfigure(|c| c.cors_allow_all = true);
    let run = probe(&[
        "--url",
        &backend,
        "cors",
        "--origin",
        BOTH_LAYERS,
        "--disallowed-origin",
        EVIL,
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    let summary = run.for_origin("cors.summary", BOTH_LAYERS);
    assert_eq!(
        (summary.verdict, &summary.data["allow_origin"]),
        (Verdict::Pass, &json!(["*"]))
    );
    assert_eq!(
        verdict(run.for_origin("cors.disallowed", EVIL)),
        (Verdict::Fail, Some("disallowed_origin_allowed"))
    );
}

#[test]
fn allowed_origins_are_split_like_the_backend_splits_them() {
    let stack = stack();
    let list = format!("{BOTH_LAYERS}, {BACKEND_ONLY}\n{EDGE_ONLY}");
    let run = probe_env(
        &["--url", &stack.backend.url(), "cors"],
        &[("ALLOWED_ORIGINS", &list)],
    );
    assert_eq!(run.all("cors.layers").len(), 3, "{run:?}");
    for origin in [BOTH_LAYERS, BACKEND_ONLY, EDGE_ONLY] {
        run.for_origin("cors.summary", origin);
    }
    let none = probe(&["--url", &stack.backend.url(), "cors"]);
    assert_eq!(
        (none.code, verdict(none.one("cors"))),
        (0, (Verdict::Info, Some("no_origins")))
    );
}

#[test]
fn synthetic_warming_is_told_from_a_real_one() {
    let mut stack = stack();
    let url = stack.url();
    stack
        .backend
        .inject("/api/status/summary", Fault::Status(500));
    let run = probe(&["--url", &url, "summary"]);
    assert_eq!(run.code, 1);
    let summary = run.one("summary");
    assert_eq!(
        verdict(summary),
        (Verdict::Fail, Some("synthetic_warming")),
        "{run:?}"
    );
    assert_eq!(summary.data["synthetic"], true);
    assert_eq!(summary.data["path"], "warming");
    assert_eq!(
        summary.data["content_type"],
        json!(["application/octet-stream", "application/json"])
    );
    assert_eq!(summary.data["badge"], "fallback (no model)");
    assert!(summary.data["missing"]
        .as_array()
        .unwrap()
        .contains(&json!("build.sha")));

    // A backend that is down entirely gets the same body.
    stack.backend.heal();
    stack.backend.stop();
    let run = probe(&["--url", &url, "summary", "legacy"]);
    assert_eq!(
        verdict(run.one("summary")),
        (Verdict::Fail, Some("synthetic_warming"))
    );
    let legacy = run.one("legacy");
    assert_eq!(
        (verdict(legacy), &legacy.data["status"]),
        ((Verdict::Fail, Some("unexpected_status")), &json!(502))
    );
    stack.backend.resume().expect("backend resumes");

    // A real warming: the backend is up and says so itself, with build and primary.
    stack
        .backend
        .reconfigure(|c| c.warm_after = Duration::from_secs(3600));
    let run = probe(&["--url", &url, "summary"]);
    assert_eq!(run.code, 0, "a warming alone is a warning: {run:?}");
    let summary = run.one("summary");
    assert_eq!(verdict(summary), (Verdict::Warn, Some("warming")));
    assert_eq!(summary.data["synthetic"], false);
    assert_eq!(summary.data["model_present"], false);
    assert_eq!(summary.data["badge"], "fallback (no model)");
    assert_eq!(summary.data["status_path"], "api");
    assert_ne!(
        serde_json::to_string(&summary.data).unwrap(),
        SYNTHETIC_WARMING
    );
}

#[test]
fn fallback_down_unknown_and_not_ready_are_named_and_deps_name_the_failing_dependency() {
    let stack = stack();
    let url = stack.url();
    stack
        .backend
        .reconfigure(|c| c.provider = Provider::Fallback);
    let run = probe(&["--url", &url, "summary", "deps"]);
    assert_eq!(
        verdict(run.one("summary")),
        (Verdict::Fail, Some("fallback"))
    );
    let deps = run.one("deps");
    assert_eq!(verdict(deps), (Verdict::Fail, Some("dependency_failed")));
    assert_eq!(deps.data["failing"], json!(["ollama"]));
    assert_eq!(deps.data["status"], 503);

    stack.backend.reconfigure(|c| c.provider = Provider::Down);
    let run = probe(&["--url", &url, "summary"]);
    assert_eq!(verdict(run.one("summary")), (Verdict::Fail, Some("down")));

    stack.backend.reconfigure(|c| {
        c.provider = Provider::Ollama;
        c.path_override = Some("maintenance".into());
    });
    let run = probe(&["--url", &url, "summary"]);
    let summary = run.one("summary");
    assert_eq!(verdict(summary), (Verdict::Fail, Some("unknown_path")));
    assert_eq!(
        (&summary.data["path"], &summary.data["path_class"]),
        (&json!("maintenance"), &json!("unknown"))
    );
    // Said for a person, not as Rust's debug text (`Some("maintenance")`).
    assert_eq!(
        summary.message.as_deref(),
        Some(r#"llm.path "maintenance" is not one the tool knows"#)
    );

    stack.backend.reconfigure(|c| {
        c.path_override = None;
        c.rag_chunks = 0;
    });
    let run = probe(&["--url", &url, "summary", "deps"]);
    assert_eq!(
        verdict(run.one("summary")),
        (Verdict::Fail, Some("not_ready"))
    );
    assert_eq!(run.one("deps").data["failing"], json!(["rag_db"]));
}

#[test]
fn the_legacy_path_is_served_gone_or_a_spa_fallback_trap() {
    let mut stack = stack_with(BackendConfig::default(), EdgeConfig::default());
    let url = stack.url();
    let run = probe(&["--url", &url, "legacy", "--legacy-expect", "gone"]);
    assert_eq!(
        (run.code, verdict(run.one("legacy"))),
        (1, (Verdict::Fail, Some("legacy_still_served")))
    );

    stack
        .set_legacy(LegacyRoute::Removed)
        .expect("nginx restarts");
    let run = probe(&["--url", &url, "legacy"]);
    let legacy = run.one("legacy");
    assert_eq!(
        verdict(legacy),
        (Verdict::Fail, Some("legacy_spa_fallback")),
        "{run:?}"
    );
    assert_eq!(
        (&legacy.data["state"], &legacy.data["status"]),
        (&json!("trap"), &json!(200))
    );

    stack
        .set_legacy(LegacyRoute::Retired)
        .expect("nginx restarts");
    let run = probe(&["--url", &url, "legacy", "--legacy-expect", "gone"]);
    let legacy = run.one("legacy");
    assert_eq!(
        (run.code, legacy.verdict, &legacy.data["status"]),
        (0, Verdict::Pass, &json!(410))
    );
    let run = probe(&["--url", &url, "legacy", "--legacy-expect", "served"]);
    assert_eq!(
        verdict(run.one("legacy")),
        (Verdict::Fail, Some("legacy_gone"))
    );

    // The backend port serves the path itself, without nginx's header.
    let run = probe(&["--url", &stack.backend.url(), "legacy"]);
    assert_eq!(
        verdict(run.one("legacy")),
        (Verdict::Fail, Some("status_path_header_missing"))
    );
}

#[test]
fn insecure_is_recorded() {
    let stack = stack();
    let run = probe(&["--url", &stack.url(), "summary", "--insecure"]);
    assert_eq!(
        verdict(run.one("tls")),
        (Verdict::Info, Some("tls_verification_disabled"))
    );
    assert_eq!(run.code, 0, "{run:?}");
}

/// With the backend stopped, nginx answers the preflight with 502 and the summary with
/// its synthetic body (nginx's CORS headers only): an outage, not a CORS verdict.
#[test]
fn a_stopped_backend_is_not_a_cors_fault() {
    let mut stack = stack();
    stack.backend.stop();
    let run = probe(&[
        "--url",
        &stack.url(),
        "cors",
        "--chat-path",
        "/api/chat",
        "--origin",
        BOTH_LAYERS,
        "--disallowed-origin",
        EVIL,
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    let preflight = run.for_origin("cors.preflight", BOTH_LAYERS);
    assert_eq!(
        verdict(preflight),
        (Verdict::Error, Some("server_error")),
        "{run:?}"
    );
    assert_eq!(preflight.data["status"], 502);
    assert!(
        preflight.message.as_deref().unwrap().contains("HTTP 502"),
        "{run:?}"
    );
    assert_eq!(
        verdict(run.for_origin("cors.summary", BOTH_LAYERS)),
        (Verdict::Error, Some("synthetic_warming")),
        "{run:?}"
    );
    let layers = run.for_origin("cors.layers", BOTH_LAYERS);
    assert_eq!(
        verdict(layers),
        (Verdict::Error, Some("not_checked")),
        "{run:?}"
    );
    assert_eq!(layers.data["allowed_on"], json!([]));
    assert_eq!(layers.data["refused_on"], json!([]));
    // The roll-up of the disallowed origin asked nothing successfully either.
    let disallowed = run
        .all("cors.disallowed")
        .into_iter()
        .find(|r| r.target == stack.url())
        .expect("the cors.disallowed roll-up");
    assert_eq!(
        verdict(disallowed),
        (Verdict::Error, Some("not_checked")),
        "{run:?}"
    );
    // No record names a CORS defect.
    for record in &run.records {
        assert!(
            record.get("defects").is_none_or(|d| d == &json!([])),
            "{record:?}"
        );
    }
}
