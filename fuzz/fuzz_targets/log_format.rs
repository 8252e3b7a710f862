//! `log_format` strings (`--log-format`, pasted from nginx.conf: untrusted text), with
//! a log to read through them. Input: the format, a NUL, the log lines. Promise: a
//! format nginx or the matcher cannot use is exit 2 naming `--log-format`; any other
//! is compiled and the log counted through it.
#![no_main]

use day2_core::Exit;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (format, log) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let format = String::from_utf8_lossy(format);
    let run = day2_fuzz::access_log(Some(&format), log);
    let parsed = legacy_sampler::logs::format::LogFormat::parse(&format, "X-Status-Path");
    if parsed.is_err() {
        assert_eq!(run.exit, Exit::Usage, "an unusable format is exit 2");
    }
});
