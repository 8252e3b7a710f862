//! Issue 18, bounded per-sample state: a loopback server answering every request
//! with a new `X-Status-Path` value. The run lists at most `MAX_VALUES` (64)
//! distinct values and counts the rest as `values_unlisted`, overall and per URL.

use day2_tests::process::Bin;
use std::io::BufReader;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use day2_core::Record;
use day2_tests::backend::Response;
use day2_tests::http1::{read_request, write_response};
use legacy_sampler::LiveSummary;

const SAMPLES: u64 = 100;

/// Serves `X-Status-Path: v<N>`, N counting every answer, until `SAMPLES` answers
/// or 60 s have passed.
fn inventing_server() -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/api/status/summary",
        listener.local_addr().unwrap()
    );
    let answered = Arc::new(AtomicU64::new(0));
    let count = Arc::clone(&answered);
    std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(60);
        for stream in listener.incoming().take(SAMPLES as usize) {
            let Ok(stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let count = Arc::clone(&count);
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                while Instant::now() < until && count.load(Ordering::SeqCst) < SAMPLES {
                    let Ok(Some(request)) = read_request(&mut reader) else {
                        return;
                    };
                    let n = count.fetch_add(1, Ordering::SeqCst);
                    let response = Response {
                        status: 200,
                        headers: vec![("X-Status-Path".into(), format!("v{n}"))],
                        body: b"{}".to_vec(),
                    };
                    let head = request.method == "HEAD";
                    if write_response(&mut writer, &response, head).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, answered)
}

#[test]
fn distinct_values_beyond_64_are_counted_unlisted() {
    let (url, answered) = inventing_server();
    let out = Bin::new(env!("CARGO_BIN_EXE_legacy-sampler"))
        .args(["-n", &SAMPLES.to_string(), "-c", "1", &url])
        .env_remove("FAIL_ON_LEGACY")
        .deadline(Duration::from_secs(60))
        .run();
    let stdout = out.stdout.clone();
    let summary: Record = stdout
        .lines()
        .map(|l| serde_json::from_str::<Record>(l).unwrap())
        .find(|r| r.check == "summary")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(answered.load(Ordering::SeqCst), SAMPLES);
    let data = &summary.data;
    let live: LiveSummary = day2_tests::process::typed_payload(&summary);
    assert_eq!(live.answered, SAMPLES, "{data:#}");
    assert_eq!(live.values.len(), 64, "{data:#}");
    assert!(live.values.values().all(|n| *n == 1), "{data:#}");
    assert_eq!(live.values_unlisted, SAMPLES - 64, "{data:#}");
    let per_url = &live.by_url[&url];
    assert_eq!(per_url.values.len(), 64, "{data:#}");
    assert_eq!(per_url.values_unlisted, SAMPLES - 64, "{data:#}");
    // Sample records still say each answer's own value.
    let samples = stdout
        .lines()
        .filter(|l| l.contains("\"check\":\"sample\""))
        .count();
    assert_eq!(samples as u64, SAMPLES);
}
