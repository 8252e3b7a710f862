//! nginx access-log lines in nginx's `combined` format (legacy-sampler's default),
//! counted by `legacy-sampler --log -` with every gate on. Promise: any bytes are
//! counted, classed malformed or foreign, never a panic or an endless read; records
//! and exit agree.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    day2_fuzz::access_log(None, data);
});
