//! `cargo xtask demo`: a tour of every tool against the built-in demo stack (the
//! backend simulator behind a real nginx), stopped again at the end. It ends with
//! the cutover from "legacy still served" to "retired with 410".
//!
//! Docker objects the tour creates carry a demo scope label and are removed at the
//! end; prune-review only ever reviews that scope.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use day2_core::record::{Record, RecordSink, Verdict};
use day2_core::{Exit, Io, Problem};
use day2_tests::docker::TestScope;
use day2_tests::edge::{render_config, EdgeConfig as NginxConfig};
use day2_tests::fake_edge::FakeEdge;
use day2_tests::{BackendConfig, DemoStack, EdgeConfig, LegacyRoute};

use crate::tools::{invoke, ToolRun};

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Start the demo stack and keep it up, printing its URLs and the commands to try
    /// against it, until Ctrl-C (or --for); no tour.
    #[arg(long)]
    pub serve: bool,
    /// With --serve: stop after this long (e.g. 30s, 10m).
    #[arg(long = "for", requires = "serve", value_parser = day2_core::bounded::duration(Duration::from_millis(1), day2_core::bounded::MAX_DURATION), value_name = "DURATION")]
    pub serve_for: Option<Duration>,
}

/// Connector log lines in cloudflared's own format (from target-stack.md).
const CONNECTOR_LOG: &str = "\
2026-11-28T01:00:00Z INF Registered tunnel connection connIndex=0 connection=1b7e0a52-7a0b-4a5e-9c3b-1f4a2b9c0d11 event=0 ip=198.41.200.23 location=ams05 protocol=quic
2026-11-28T01:00:00Z INF Registered tunnel connection connIndex=1 connection=2c8f1b63-8b1c-4b6f-8d4c-2a5b3c0d1e22 event=0 ip=198.41.192.7 location=fra08 protocol=quic
2026-11-28T01:00:01Z INF Registered tunnel connection connIndex=2 connection=3d901c74-9c2d-4c70-9e5d-3b6c4d1e2f33 event=0 ip=198.41.200.33 location=ams05 protocol=quic
2026-11-28T01:00:01Z INF Registered tunnel connection connIndex=3 connection=4ea12d85-ad3e-4d81-af6e-4c7d5e2f3a44 event=0 ip=198.41.192.47 location=fra08 protocol=quic
2026-11-28T01:00:02Z INF Updated to new configuration config=\"{\\\"ingress\\\":[{\\\"hostname\\\":\\\"assistant.example.org\\\",\\\"service\\\":\\\"http://nginx:80\\\"},{\\\"service\\\":\\\"http_status:404\\\"}],\\\"warp-routing\\\":{\\\"enabled\\\":false}}\" version=3
";

/// The failures the demo stack shows on purpose, by step: the reasons of the fail and
/// error records expected there, and why. The edge reproduces the real edge's known
/// faults (target-stack.md: nginx adds Access-Control-Allow-Origin on top of the
/// backend's, and its legacy location answers CORS differently), and the tour's page
/// is stale on purpose. A step that fails only for these reasons is marked
/// `expected` in the summary; any other reason is marked `UNEXPECTED`.
pub const EXPECTED: &[(&str, &[&str], &str)] = &[
    (
        "status-probe: every check at the edge",
        &[
            "acao_duplicated",
            "status_path_header_lost_with_origin",
            "acao_missing",
            "allowed_at_one_layer_only",
        ],
        "the demo edge, like the real one, duplicates the CORS header and answers CORS differently on the legacy path",
    ),
    (
        "xtask triage: on-call signatures",
        &[
            "duplicate_cors",
            "acao_duplicated",
            "status_path_header_lost_with_origin",
            "acao_missing",
            "allowed_at_one_layer_only",
        ],
        "triage names the duplicated CORS header of the demo edge",
    ),
    (
        "sri-check: HTML integrity attributes",
        &["missing_integrity", "bad_digest"],
        "the demo page is stale on purpose: one tag has no integrity, one a wrong digest",
    ),
];

/// How a step's outcome compares with [`EXPECTED`]: `None` when nothing failed.
fn expectation(title: &str, run: &ToolRun) -> Option<Result<&'static str, Vec<String>>> {
    let problems: Vec<String> = run
        .records
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error))
        .map(|r| r.reason.clone().unwrap_or_default())
        .collect();
    if run.exit == Exit::Ok && problems.is_empty() {
        return None;
    }
    if title == DOCKER_PROBE {
        // The machine has no Engine: the Docker steps are skipped, with the reason.
        return Some(Ok(
            "no Docker Engine answers here; the Docker steps are skipped",
        ));
    }
    let expected = EXPECTED.iter().find(|(step, _, _)| *step == title);
    let unexpected: Vec<String> = problems
        .into_iter()
        .filter(|reason| {
            !expected.is_some_and(|(_, reasons, _)| reasons.contains(&reason.as_str()))
        })
        .collect();
    match expected {
        Some((_, _, why)) if unexpected.is_empty() && run.exit != Exit::Usage => Some(Ok(why)),
        _ if unexpected.is_empty() => Some(Err(vec![format!("exit {}", run.exit.code())])),
        _ => Some(Err(unexpected)),
    }
}

/// Runs one step of the tour and reports it.
type Report<'a> = dyn FnMut(&str, ToolRun) + 'a;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let _ = std::fs::write(&path, text);
    path.display().to_string()
}

fn tour_probes(stack: &mut DemoStack, step: &mut Report<'_>) {
    let url = stack.url();
    let probe_args = [
        "--url",
        &url,
        "--chat-path",
        "/api/chat",
        "--origin",
        "https://assistant.example.org",
        "--origin",
        "http://127.0.0.1:5173",
        "--disallowed-origin",
        "https://evil.example",
    ];
    step(
        "status-probe: every check at the edge",
        invoke("status-probe", status_probe::run, &probe_args, b""),
    );
    stack
        .backend
        .reconfigure(|c| c.warm_after = Duration::from_millis(1500));
    step(
        "status-probe: wait warming -> primary",
        invoke(
            "status-probe",
            status_probe::run,
            &[
                "--url",
                &url,
                "--wait",
                "--interval",
                "300ms",
                "--timeout",
                "30s",
                "--warming-budget",
                "10m",
                "summary",
            ],
            b"",
        ),
    );
    let (api, legacy) = (
        format!("{url}/api/status/summary"),
        format!("{url}/status/summary"),
    );
    step(
        "legacy-sampler: live api + legacy",
        invoke(
            "legacy-sampler",
            legacy_sampler::run,
            &["--samples", "off", "-n", "20", &api, &legacy],
            b"",
        ),
    );
    let log = stack.edge.access_log().display().to_string();
    step(
        "legacy-sampler: the edge's access log",
        invoke(
            "legacy-sampler",
            legacy_sampler::run,
            &["--log", &log, "--window", "1m"],
            b"",
        ),
    );
    let triage = [
        "triage",
        "--url",
        &url,
        "--origin",
        "https://assistant.example.org",
    ];
    step(
        "xtask triage: on-call signatures",
        invoke("xtask", crate::run, &triage, b""),
    );
}

fn tour_site(dir: &Path, step: &mut Report<'_>) {
    let site = dir.join("site");
    write(&site, "app.js", "console.log('assistant');\n");
    write(&site, "style.css", "body { margin: 0 }\n");
    let manifest = site.join("sri-manifest.json").display().to_string();
    let (root, app, css) = (
        site.display().to_string(),
        site.join("app.js"),
        site.join("style.css"),
    );
    let (app, css) = (app.display().to_string(), css.display().to_string());
    step(
        "sri-check: generate the manifest",
        invoke(
            "sri-check",
            sri_check::run,
            &[
                "generate",
                &app,
                &css,
                "--manifest",
                &manifest,
                "--root",
                &root,
            ],
            b"",
        ),
    );
    step(
        "sri-check: verify it",
        invoke(
            "sri-check",
            sri_check::run,
            &["verify", "--manifest", &manifest],
            b"",
        ),
    );
    let page = write(
        &site,
        "index.html",
        "<!doctype html><html><head><link rel=stylesheet href=/style.css>\
         <script src=/app.js integrity=\"sha256-AAAA\"></script></head></html>\n",
    );
    step(
        "sri-check: HTML integrity attributes",
        invoke(
            "sri-check",
            sri_check::run,
            &["html", &page, "--manifest", &manifest],
            b"",
        ),
    );
}

fn tour_tunnel(stack: &DemoStack, step: &mut Report<'_>) {
    let url = stack.url();
    match FakeEdge::start(&url, "AMS") {
        Ok(edge) => step(
            "tunnel-check: origin vs a (fake) Cloudflare edge",
            invoke(
                "tunnel-check",
                tunnel_check::run,
                &["edge", "--edge", &edge.url(), "--origin", &url],
                b"",
            ),
        ),
        Err(err) => step(
            "tunnel-check: fake edge",
            failed_step("tunnel-check", &err.to_string()),
        ),
    }
    step(
        "tunnel-check: connector logs",
        invoke(
            "tunnel-check",
            tunnel_check::run,
            &["connector"],
            CONNECTOR_LOG.as_bytes(),
        ),
    );
}

/// The title of docker-doctor's probe step, which decides whether the Docker steps run.
const DOCKER_PROBE: &str = "docker-doctor: daemon probe ladder";

/// The Docker steps after docker-doctor's probe, which decides whether they can run.
const DOCKER_STEPS: [&str; 2] = [
    "prune-review: review of the demo's own volume",
    "prune-review: plan (named orphans too)",
];

/// Why the Docker steps cannot run here, from docker-doctor's probe record (the
/// xtask does not probe the Engine itself) and the docker CLI the demo's scope uses.
fn docker_unavailable(probe: &ToolRun) -> Option<Problem> {
    match probe.last("probe") {
        Some(record) if record.verdict == Verdict::Pass => {
            match xtask_setup::require_program("docker") {
                Ok(_) => None,
                Err(message) => Some(Problem::new("docker_cli_missing", message)),
            }
        }
        Some(record) => Some(Problem::new(
            "docker_unreachable",
            format!(
                "the Docker Engine does not answer ({}: {})",
                record.reason.as_deref().unwrap_or("unknown"),
                record
                    .message
                    .as_deref()
                    .unwrap_or("see docker-doctor's records")
            ),
        )),
        None => Some(Problem::new(
            "docker_unreachable",
            format!(
                "docker-doctor gave no probe record: {}",
                probe.stderr.trim()
            ),
        )),
    }
}

fn tour_docker(step: &mut Report<'_>, skip: &mut dyn FnMut(&str, &str, &str)) {
    let probe = invoke(
        "docker-doctor",
        docker_doctor::run,
        &["--checks", "probe"],
        b"",
    );
    let unavailable = docker_unavailable(&probe);
    step(DOCKER_PROBE, probe);
    if let Some(problem) = unavailable {
        for title in DOCKER_STEPS {
            skip(title, problem.reason(), &problem.message);
        }
        return;
    }
    let scope = TestScope::new("demo");
    let volume = scope.volume("orphan", &[]);
    let filter = format!("label={}", scope.label());
    step(
        DOCKER_STEPS[0],
        invoke(
            "prune-review",
            prune_review::run,
            &["review", "--filter", &filter],
            b"",
        ),
    );
    step(
        DOCKER_STEPS[1],
        invoke(
            "prune-review",
            prune_review::run,
            &["plan", "--include-named", "--filter", &filter],
            b"",
        ),
    );
    // The scope removes the volume on drop; nothing outside it is touched.
    let _ = volume;
}

fn tour_cutover(stack: &mut DemoStack, dir: &Path, step: &mut Report<'_>) {
    let url = stack.url();
    let workflow = write(dir, "ci.yml", "env:\n  FAIL_ON_LEGACY: \"true\"\n");
    // The configuration to be deployed: the edge's own, with the legacy location retired.
    let retired = NginxConfig {
        legacy: LegacyRoute::Retired,
        ..NginxConfig::default()
    };
    let conf = write(
        dir,
        "nginx.conf",
        &render_config(dir, stack.edge.addr(), stack.backend.addr(), &retired),
    );
    let repo = write(
        dir,
        "repo/web/status.js",
        "export const url = '/api/status/summary';\n",
    );
    let repo = Path::new(&repo)
        .parent()
        .and_then(Path::parent)
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let changelog = write(
        dir,
        "CHANGELOG.md",
        "## [Unreleased]\n- Removed the legacy /status/summary endpoint (410).\n",
    );
    let manifest = dir.join("site/sri-manifest.json").display().to_string();
    let common = [
        "cutover",
        "--url",
        &url,
        "--live-samples",
        "10",
        "--workflow",
        &workflow,
        "--nginx-conf",
        &conf,
        "--repo",
        &repo,
        "--manifest",
        &manifest,
        "--changelog",
        &changelog,
        "--expect-sha",
        "local-demo",
    ];
    let mut pre = common.to_vec();
    pre.extend(["--phase", "pre"]);
    step(
        "xtask cutover --phase pre (legacy served)",
        invoke("xtask", crate::run, &pre, b""),
    );
    if let Err(err) = stack.set_legacy(LegacyRoute::Retired) {
        step(
            "deploy: retire the legacy location",
            failed_step("xtask", &err.to_string()),
        );
        return;
    }
    let mut post = common.to_vec();
    post.extend(["--phase", "post"]);
    step(
        "xtask cutover --phase post (410)",
        invoke("xtask", crate::run, &post, b""),
    );
}

fn failed_step(tool: &str, why: &str) -> ToolRun {
    ToolRun {
        exit: Exit::Failed,
        records: Vec::new(),
        stderr: format!("{tool}: {why}"),
    }
}

/// The demo stack: the simulator (its build `local-demo`) behind nginx, without the
/// real edge's rate limit so a newcomer can hammer it.
fn start_stack() -> std::io::Result<DemoStack> {
    let backend = BackendConfig {
        build_sha: "local-demo".into(),
        ..BackendConfig::default()
    };
    let edge = EdgeConfig {
        rate_limit: false,
        ..EdgeConfig::default()
    };
    DemoStack::start(backend, edge)
}

pub fn run(args: &DemoArgs, io: &mut Io<'_>) -> Exit {
    // The edge is a real nginx: without it, one line naming the package, no panic.
    if let Err(message) = xtask_setup::require_program("nginx") {
        io.error(crate::TOOL, message);
        return Exit::Usage;
    }
    if args.serve {
        return serve(args.serve_for, io);
    }
    let (mut stack, dir) = match (start_stack(), tempfile::tempdir()) {
        (Ok(stack), Ok(dir)) => (stack, dir),
        (Err(err), _) | (_, Err(err)) => {
            io.error(crate::TOOL, format!("cannot start the demo stack: {err}"));
            return Exit::Failed;
        }
    };
    let url = stack.url();
    let _ = writeln!(
        io.stderr,
        "demo stack up: edge {url} -> backend {}",
        stack.backend.url()
    );
    let summary = std::cell::RefCell::new(Vec::new());
    let sink = std::cell::RefCell::new(RecordSink::new(crate::TOOL, io.stdout));
    let started = Record::info("demo.stack", &url, "started")
        .data(serde_json::json!({"edge": url, "backend": stack.backend.url()}));
    if sink.borrow_mut().emit(started).is_err() {
        return sink.into_inner().exit();
    }
    let closed = std::cell::Cell::new(false);
    let unexpected = std::cell::Cell::new(0usize);
    let mut step = |title: &str, run: ToolRun| {
        let count = |v: Verdict| run.records.iter().filter(|r| r.verdict == v).count();
        let mut summary = summary.borrow_mut();
        let verdict = match expectation(title, &run) {
            None => "ok".to_owned(),
            Some(Ok(_)) => "expected".to_owned(),
            Some(Err(reasons)) => {
                unexpected.set(unexpected.get() + 1);
                format!("UNEXPECTED: {}", reasons.join(", "))
            }
        };
        summary.push(format!(
            "{:<48} exit {:>3}  pass {:>2} fail {:>2} warn {:>2} info {:>2} error {:>2}  {verdict}",
            title,
            run.exit.code(),
            count(Verdict::Pass),
            count(Verdict::Fail),
            count(Verdict::Warn),
            count(Verdict::Info),
            count(Verdict::Error),
        ));
        if run.exit == Exit::Usage || (run.records.is_empty() && !run.stderr.is_empty()) {
            summary.push(format!("    {}", run.stderr.trim()));
        }
        // Tool records pass through untouched: the tour shows what a pipe shows.
        if !run.pass_through(&mut sink.borrow_mut()) {
            closed.set(true);
        }
    };
    // A step that cannot run here is recorded as skipped, with the reason.
    let mut skip = |title: &str, reason: &str, why: &str| {
        summary
            .borrow_mut()
            .push(format!("{title:<48} skipped: {why}"));
        let record = Record::info("demo.step", title, reason).message(format!("skipped: {why}"));
        if sink.borrow_mut().emit(record).is_err() {
            closed.set(true);
        }
    };
    tour_probes(&mut stack, &mut step);
    tour_site(dir.path(), &mut step);
    tour_tunnel(&stack, &mut step);
    tour_docker(&mut step, &mut skip);
    tour_cutover(&mut stack, dir.path(), &mut step);
    if closed.get() {
        return Exit::Ok;
    }
    let _ = writeln!(io.stderr, "\nthe tour, step by step:");
    for line in summary.into_inner() {
        let _ = writeln!(io.stderr, "{line}");
    }
    let _ = writeln!(
        io.stderr,
        "\nexpected: the demo stack fails these on purpose, so the tools have something to find:"
    );
    for (title, _, why) in EXPECTED {
        let _ = writeln!(io.stderr, "  {title}: {why}");
    }
    match unexpected.get() {
        0 => {
            let _ = writeln!(
                io.stderr,
                "every step behaved as expected: the fail lines above are the demo's on purpose"
            );
        }
        n => {
            let _ = writeln!(
                io.stderr,
                "{} did not behave as expected (marked UNEXPECTED above)",
                day2_core::human::plural(n as u64, "step", "steps")
            );
        }
    }
    drop(stack);
    let _ = writeln!(io.stderr, "demo stack stopped");
    Exit::Ok
}

/// The commands a newcomer can run against the served stack: the README's examples,
/// pointed at it.
fn commands_to_try(stack: &DemoStack) -> Vec<String> {
    let url = stack.url();
    let log = stack.edge.access_log().display().to_string();
    [
        format!("cargo run -q -p status-probe -- --url {url} --wait --timeout 10m"),
        format!("cargo run -q -p legacy-sampler -- {url}/status/summary -n 30"),
        format!(
            "FAIL_ON_LEGACY=true cargo run -q -p legacy-sampler -- {url}/api/status/summary -n 10"
        ),
        format!("cargo run -q -p legacy-sampler -- --log {log} --window 1m"),
        "cargo run -q -p docker-doctor -- --format text".to_owned(),
        format!("cargo xtask triage --url {url} --origin https://assistant.example.org"),
        format!(
            "cargo xtask cutover --phase pre --url {url} --access-log {log} --live-samples 10 --report cutover.md"
        ),
    ]
    .into()
}

/// `demo --serve [--for DURATION]`: the stack stays up until Ctrl-C, SIGTERM or the
/// duration, then stops (nginx killed, its directory removed).
fn serve(serve_for: Option<Duration>, io: &mut Io<'_>) -> Exit {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    if let Err(err) = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)) {
        io.error(crate::TOOL, format!("cannot watch for Ctrl-C: {err}"));
        return Exit::Failed;
    }
    let stack = match start_stack() {
        Ok(stack) => stack,
        Err(err) => {
            io.error(crate::TOOL, format!("cannot start the demo stack: {err}"));
            return Exit::Failed;
        }
    };
    let (url, backend) = (stack.url(), stack.backend.url());
    let mut sink = RecordSink::new(crate::TOOL, io.stdout);
    let record = Record::info("demo.stack", &url, "serving").data(serde_json::json!({
        "edge": url,
        "backend": backend,
        "access_log": stack.edge.access_log(),
        "for_s": serve_for.map(|d| d.as_secs_f64()),
    }));
    if sink.emit(record).is_err() {
        return sink.exit();
    }
    let until = match serve_for {
        Some(d) => format!("for {}", day2_core::duration::words(d)),
        None => "until Ctrl-C".into(),
    };
    let _ = writeln!(
        io.stderr,
        "demo stack serving {until}\n  edge     {url}   (nginx: the tools point here)\n  backend  {backend}   (the simulator)\n  access log {}\ntry, in another terminal:",
        stack.edge.access_log().display()
    );
    for command in commands_to_try(&stack) {
        let _ = writeln!(io.stderr, "  {command}");
    }
    let started = std::time::Instant::now();
    while !stop.load(Ordering::SeqCst) && serve_for.is_none_or(|d| started.elapsed() < d) {
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(stack);
    let _ = writeln!(io.stderr, "demo stack stopped");
    Exit::Ok
}
