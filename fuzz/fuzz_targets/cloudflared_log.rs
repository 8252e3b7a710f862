//! cloudflared's log lines, plain (`2024-05-01T10:00:00Z INF Registered tunnel
//! connection connIndex=0 …`, with docker compose, journald or kubectl prefixes),
//! read by `tunnel-check connector` from stdin. Promise: any stream is read to its
//! end and judged (connections, churn, origin), with no panic and no token shown.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    day2_fuzz::tunnel_check(&[&"connector"], data, &[]);
});
