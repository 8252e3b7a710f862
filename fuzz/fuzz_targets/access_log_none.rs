//! nginx access-log lines written with `escape=none` (values as they are: a value
//! may hold the very text that ends it) and `$msec` time, counted by
//! `legacy-sampler --log -` with every gate on. Promise as for `combined`.
#![no_main]

use libfuzzer_sys::fuzz_target;

const FORMAT: &str = r#"escape=none '$msec $remote_addr "$request" $status "$http_user_agent"'"#;

fuzz_target!(|data: &[u8]| {
    day2_fuzz::access_log(Some(FORMAT), data);
});
