//! cloudflared's `config.yml` (untrusted YAML: ingress rules, origin requests,
//! durations, regexes), checked by `tunnel-check config FILE` with a valid
//! credentials file given by `--credentials`. Promise: YAML the reader refuses (bad
//! syntax, duplicate keys, deep nesting) is exit 2 naming file and line; anything
//! else is judged as cloudflared's own validation would; no token or secret shown.
#![no_main]

use libfuzzer_sys::fuzz_target;

const CREDENTIALS: &str = r#"{"AccountTag": "0000d4d14e84bd4ae5a6a02e0000ac63", "TunnelSecret": "ZGF5Mi1mdXp6LWNhbmFyeS10dW5uZWwtc2VjcmV0ISE=", "TunnelID": "df5ed608-b8b4-4109-89f3-9f2cf199df64"}"#;

fuzz_target!(|data: &[u8]| {
    let credentials = day2_fuzz::file("creds/credentials.json", CREDENTIALS.as_bytes());
    let config = day2_fuzz::file("config.yml", data);
    day2_fuzz::tunnel_check(
        &[&"config", &config, &"--credentials", &credentials],
        b"",
        &[data, CREDENTIALS.as_bytes()],
    );
});
