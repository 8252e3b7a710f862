//! A rendered compose config in YAML (`docker compose config` output, or a compose
//! file as written), checked by `tunnel-check compose` from stdin: the tunnel's
//! service, its token's placement, the edge it reaches. Promise: YAML the reader
//! refuses is exit 2 with a one-line message; anything else is judged; the canary
//! token is never shown wherever it sits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    day2_fuzz::tunnel_check(&[&"compose"], data, &[]);
});
