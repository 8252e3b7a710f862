//! nginx access-log lines written with `escape=json` (JSON string escapes; the format
//! of the corpus case `escape-json.fmt`, which logs `$request` and `$uri`), counted
//! by `legacy-sampler --log -` with every gate on. Promise as for `combined`.
#![no_main]

use libfuzzer_sys::fuzz_target;

const FORMAT: &str = r#"escape=json '{"@timestamp":"$time_iso8601",'
                '"remote_addr":"$remote_addr",'
                '"http_x_forwarded_for":"$http_x_forwarded_for",'
                '"http_status":"$status",'
                '"request":"$request",'
                '"uri":"$uri",'
                '"http_user_agent":"$http_user_agent",'
                '"x_status_path":"$upstream_http_x_status_path"}'"#;

fuzz_target!(|data: &[u8]| {
    day2_fuzz::access_log(Some(FORMAT), data);
});
