//! Benchmark of `sri-check verify` against the references, in the same run:
//! `find … | xargs sha384sum` and the Node reference checker on a generated tree
//! (2,000 files × 128 KiB by default), and `openssl dgst -sha384` (one core),
//! `sha384sum` and the Node checker on one 1 GiB file. Rounds alternate the order
//! of the commands; the first round warms the page cache and is not counted.
//! Prints medians, MB/s, ratios and peak RSS (from `/usr/bin/time`), and the tree's
//! throughput as a share of its limit: every core hashing at `openssl dgst
//! -sha384`'s single-core speed (measured on the big file in the same run).
//!
//! ```text
//! cargo run --release -p sri-check --example bench -- [--rounds 5] [--files 2000]
//!     [--file-kib 128] [--big-mib 1024] [--dir /tmp] [--bin target/release/sri-check]
//! ```
//! The generated data lives in a temporary directory that is deleted at the end.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

struct Options {
    rounds: usize,
    files: usize,
    file_kib: usize,
    big_mib: usize,
    dir: PathBuf,
    bin: PathBuf,
}

fn options() -> Options {
    // `cargo run --example bench` builds the example but not the binary it measures.
    if let Some(cargo) = std::env::var_os("CARGO") {
        let built = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "--release",
                "-p",
                "sri-check",
                "--bin",
                "sri-check",
            ])
            .status()
            .expect("run cargo build");
        assert!(built.success(), "cargo build of sri-check failed");
    }
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/examples/bench -> target/<profile>/sri-check
    let default_bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("sri-check"))
        .unwrap_or_default();
    let mut o = Options {
        rounds: 5,
        files: 2000,
        file_kib: 128,
        big_mib: 1024,
        dir: std::env::temp_dir(),
        bin: default_bin,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or_default();
        let number = || {
            value
                .parse::<usize>()
                .unwrap_or_else(|_| panic!("{} needs a number", pair[0]))
        };
        match pair[0].as_str() {
            "--rounds" => o.rounds = number().max(1),
            "--files" => o.files = number(),
            "--file-kib" => o.file_kib = number(),
            "--big-mib" => o.big_mib = number(),
            "--dir" => o.dir = PathBuf::from(&value),
            "--bin" => o.bin = PathBuf::from(&value),
            other => panic!("unknown option {other}"),
        }
    }
    assert!(
        o.bin.is_file(),
        "{} not found: cargo build --release -p sri-check --bins --examples",
        o.bin.display()
    );
    o
}

/// Deterministic incompressible-looking bytes (xorshift64*), fast to make.
fn fill(buf: &mut [u8], mut state: u64) {
    for chunk in buf.chunks_mut(8) {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let v = state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

fn make_data(o: &Options, base: &Path) {
    let tree = base.join("tree");
    let mut buf = vec![0u8; o.file_kib * 1024];
    for i in 0..o.files {
        let dir = tree.join(format!("d{:02}", i / 100));
        std::fs::create_dir_all(&dir).expect("mkdir");
        fill(&mut buf, i as u64 + 1);
        std::fs::write(dir.join(format!("f{i:05}.bin")), &buf).expect("write");
    }
    let big = base.join("big");
    std::fs::create_dir_all(&big).expect("mkdir");
    let mut file = std::fs::File::create(big.join("big.bin")).expect("create");
    let mut chunk = vec![0u8; 1024 * 1024];
    for i in 0..o.big_mib {
        fill(&mut chunk, 0xdead_beef + i as u64);
        file.write_all(&chunk).expect("write");
    }
}

/// One measured command: wall seconds, CPU seconds (user + system) and peak RSS in KiB.
fn measure(name: &str, cwd: &Path, argv: &[&str]) -> (f64, f64, u64) {
    let rss_file = tempfile::NamedTempFile::new().expect("temp");
    let started = Instant::now();
    let status = Command::new("/usr/bin/time")
        .args(["-f", "%M %U %S", "-o"])
        .arg(rss_file.path())
        .args(argv)
        .current_dir(cwd)
        .stdout(Stdio::null())
        .status()
        .expect("run /usr/bin/time");
    let secs = started.elapsed().as_secs_f64();
    assert!(status.success(), "{name} failed: {argv:?}");
    let report = std::fs::read_to_string(rss_file.path()).unwrap_or_default();
    let fields: Vec<f64> = report
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let [rss, user, system] = fields[..] else {
        panic!("unexpected /usr/bin/time report {report:?}")
    };
    (secs, user + system, rss as u64)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

struct Case {
    name: &'static str,
    cwd: PathBuf,
    argv: Vec<String>,
    times: Vec<f64>,
    cpu: Vec<f64>,
    rss: u64,
}

fn main() {
    let o = options();
    let base = tempfile::tempdir_in(&o.dir).expect("temp dir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference-check.mjs");
    let script = script.to_str().expect("utf-8 path").to_owned();
    let bin = o.bin.to_str().expect("utf-8 path").to_owned();
    eprintln!(
        "generating {} files x {} KiB and one {} MiB file in {}",
        o.files,
        o.file_kib,
        o.big_mib,
        base.path().display()
    );
    make_data(&o, base.path());
    let tree = base.path().join("tree");
    let big = base.path().join("big");
    for dir in [&tree, &big] {
        let out = Command::new(&bin)
            .args(["generate", "**/*.bin"])
            .current_dir(dir)
            .stdout(Stdio::null())
            .status()
            .expect("generate");
        assert!(out.success(), "generate failed in {}", dir.display());
    }
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut cases = vec![
        Case {
            name: "tree: sri-check verify",
            cwd: tree.clone(),
            argv: s(&[&bin]),
            times: vec![],
            cpu: vec![],
            rss: 0,
        },
        Case {
            name: "tree: find | xargs sha384sum",
            cwd: tree.clone(),
            argv: s(&[
                "sh",
                "-c",
                "find . -type f -name '*.bin' -print0 | xargs -0 sha384sum",
            ]),
            times: vec![],
            cpu: vec![],
            rss: 0,
        },
        Case {
            name: "tree: node reference checker",
            cwd: tree.clone(),
            argv: s(&["node", &script, "check", "sri-manifest.json"]),
            times: vec![],
            cpu: vec![],
            rss: 0,
        },
        Case {
            name: "big: sri-check verify",
            cwd: big.clone(),
            argv: s(&[&bin]),
            times: vec![],
            cpu: vec![],
            rss: 0,
        },
        Case {
            name: "big: openssl dgst -sha384",
            cwd: big.clone(),
            argv: s(&["openssl", "dgst", "-sha384", "big.bin"]),
            times: vec![],
            cpu: vec![],
            rss: 0,
        },
        Case {
            name: "big: sha384sum",
            cwd: big.clone(),
            argv: s(&["sha384sum", "big.bin"]),
            times: vec![],
            cpu: vec![],
            rss: 0,
        },
        Case {
            name: "big: node reference checker",
            cwd: big.clone(),
            argv: s(&["node", &script, "check", "sri-manifest.json"]),
            times: vec![],
            cpu: vec![],
            rss: 0,
        },
    ];
    // Round 0 warms the cache; later rounds rotate which command goes first.
    for round in 0..=o.rounds {
        let n = cases.len();
        for k in 0..n {
            let case = &mut cases[(k + round) % n];
            let argv: Vec<&str> = case.argv.iter().map(String::as_str).collect();
            let (secs, cpu, rss) = measure(case.name, &case.cwd, &argv);
            if round > 0 {
                case.times.push(secs);
                case.cpu.push(cpu);
                case.rss = case.rss.max(rss);
            }
        }
        eprintln!("round {round}/{} done", o.rounds);
    }
    let tree_bytes = (o.files * o.file_kib * 1024) as f64;
    let big_bytes = (o.big_mib * 1024 * 1024) as f64;
    println!(
        "{:<32} {:>10} {:>10} {:>12} {:>14}",
        "command", "median s", "MB/s", "median CPU s", "peak RSS MiB"
    );
    let mut medians = Vec::new();
    for case in &cases {
        let m = median(case.times.clone());
        let bytes = if case.name.starts_with("tree") {
            tree_bytes
        } else {
            big_bytes
        };
        println!(
            "{:<32} {:>10.3} {:>10.0} {:>12.3} {:>14.1}",
            case.name,
            m,
            bytes / m / 1e6,
            median(case.cpu.clone()),
            case.rss as f64 / 1024.0
        );
        medians.push(m);
    }
    let [tree_ours, tree_sum, tree_node, big_ours, big_openssl, big_sum, big_node] = medians[..]
    else {
        unreachable!("seven cases")
    };
    println!();
    println!(
        "tree: sri-check is {:.2}x find|xargs sha384sum (target >= 1.8x)",
        tree_sum / tree_ours
    );
    println!(
        "tree: sri-check is {:.2}x the node reference checker",
        tree_node / tree_ours
    );
    println!(
        "big:  sri-check runs at {:.0}% of openssl dgst -sha384 single-core (target >= 85%)",
        100.0 * big_openssl / big_ours
    );
    // The limit of the tree: every core hashing at openssl's single-core speed.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let openssl_rate = big_bytes / big_openssl;
    println!(
        "tree: sri-check runs at {:.0}% of {cores} x openssl dgst -sha384 single-core ({:.0} MB/s of {:.0} MB/s; target >= 85%)",
        100.0 * (tree_bytes / tree_ours) / (cores as f64 * openssl_rate),
        tree_bytes / tree_ours / 1e6,
        cores as f64 * openssl_rate / 1e6
    );
    // The same per CPU second (user + system): what the tree costs to hash, whatever
    // share of the cores a loaded machine gave each command.
    let cpu_of = |i: usize| median(cases[i].cpu.clone());
    println!(
        "tree: per CPU second sri-check hashes {:.0} MB, openssl dgst -sha384 {:.0} MB: {:.0}%",
        tree_bytes / cpu_of(0) / 1e6,
        big_bytes / cpu_of(4) / 1e6,
        100.0 * (tree_bytes / cpu_of(0)) / (big_bytes / cpu_of(4))
    );
    println!(
        "big:  sri-check is {:.2}x sha384sum, {:.2}x the node reference checker",
        big_sum / big_ours,
        big_node / big_ours
    );
    println!(
        "big:  sri-check peak RSS {:.1} MiB (target < 64 MiB)",
        cases[3].rss as f64 / 1024.0
    );
    println!(
        "rounds: {} (after one warm-up round), order rotated each round",
        o.rounds
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at the end: {}", load.trim());
}
