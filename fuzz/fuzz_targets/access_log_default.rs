//! nginx access-log lines of a custom format with `escape=default` (`\xHH`): the
//! target as sent (`$request_uri`, normalised as nginx does), `$time_iso8601`, the
//! classifying header and the forwarding headers, counted by `legacy-sampler --log -`
//! with every gate on. Promise as for `combined`.
#![no_main]

use libfuzzer_sys::fuzz_target;

const FORMAT: &str = r#"log_format main escape=default '$remote_addr - [$time_iso8601] "$request_uri" $status "$http_user_agent" xsp="$sent_http_x_status_path" xff="$http_x_forwarded_for" cf=$http_cf_connecting_ip';"#;

fuzz_target!(|data: &[u8]| {
    day2_fuzz::access_log(Some(FORMAT), data);
});
