//! cloudflared's tunnel credentials JSON (`<tunnel-id>.json`: `AccountTag`,
//! `TunnelSecret`, `TunnelID`, matched case-insensitively as Go's `encoding/json`
//! does), checked by `tunnel-check config` for a fixed config.yml. Promises: any file
//! is judged (malformed with its problem, or valid), and no `TunnelSecret` of at
//! least 16 characters appears in any output, in any member the file spells it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const CONFIG: &str = "tunnel: df5ed608-b8b4-4109-89f3-9f2cf199df64
credentials-file: /etc/cloudflared/df5ed608-b8b4-4109-89f3-9f2cf199df64.json
ingress:
  - hostname: chat.example.com
    service: http://nginx:80
  - service: http_status:404
";

fuzz_target!(|data: &[u8]| {
    let config = day2_fuzz::file("config.yml", CONFIG.as_bytes());
    let credentials = day2_fuzz::file("creds/credentials.json", data);
    let run = day2_fuzz::tunnel_check(
        &[&"config", &config, &"--credentials", &credentials],
        b"",
        &[data],
    );
    if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(data) {
        for (key, value) in &object {
            let Value::String(secret) = value else {
                continue;
            };
            let secret = secret.trim();
            if key.eq_ignore_ascii_case("TunnelSecret") && secret.chars().count() >= 16 {
                assert!(
                    !run.shows(secret.as_bytes()),
                    "the TunnelSecret {secret:?} is shown:\n{}\n{}",
                    String::from_utf8_lossy(&run.stdout),
                    String::from_utf8_lossy(&run.stderr)
                );
            }
        }
    }
});
