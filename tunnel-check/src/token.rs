//! The shape of a tunnel token (base64 of a JSON object with `a` account tag, `t`
//! tunnel id and `s` secret), checked without ever revealing it: what comes out is
//! the tunnel id, which part is wrong, and a short fingerprint to tell two tokens
//! apart. cloudflared reads a token with `ParseToken`
//! (`cmd/cloudflared/tunnel/subcommands.go`): standard base64 with its padding
//! (`base64.StdEncoding`), then `encoding/json` into `TunnelToken`
//! (`connection/connection.go`): `s` standard base64 too, `t` a UUID in any form
//! google/uuid reads. A token it cannot read is "Provided Tunnel token is not
//! valid."; one with a part missing is read and refused by the edge.

use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::secret::Secret;

/// What is wrong with a token, as a snake_case problem name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    NotBase64,
    NotJson,
    MissingKeys,
    TunnelIdNotUuid,
}

impl Problem {
    pub fn name(self) -> &'static str {
        match self {
            Problem::NotBase64 => "not_base64",
            Problem::NotJson => "not_json_object",
            Problem::MissingKeys => "missing_keys",
            Problem::TunnelIdNotUuid => "tunnel_id_not_uuid",
        }
    }
}

/// What can be said about a token without revealing it.
#[derive(Debug, Clone)]
pub struct Shape {
    pub problem: Option<Problem>,
    /// The keys of `a`, `t`, `s` that are missing or empty.
    pub missing: Vec<&'static str>,
    /// The tunnel id (`t`), which is an identifier, not a secret.
    pub tunnel_id: Option<String>,
    pub length: usize,
    pub fingerprint: String,
}

impl Shape {
    pub fn to_json(&self) -> Value {
        json!({
            "valid": self.problem.is_none(),
            "problem": self.problem.map(Problem::name),
            "missing_keys": self.missing,
            "tunnel_id": self.tunnel_id,
            "length": self.length,
            "fingerprint": self.fingerprint,
        })
    }
}

/// The first 12 hex digits of the SHA-256 of a secret: enough to see that two
/// places hold the same token, far too little to recover it.
pub fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn decode(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

/// The `s` member of a token-shaped value, so the secret is known on its own too
/// (a decoded token in a log shows it without the base64 around it).
pub fn secret_part(text: &str) -> Option<String> {
    let bytes = decode(text.trim())?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value.get("s").and_then(Value::as_str).map(str::to_owned)
}

/// Go's `base64.StdEncoding.DecodeString`: the standard alphabet, padded; line
/// breaks are skipped.
fn go_std_decode(text: &str) -> Option<Vec<u8>> {
    let cleaned: String = text.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    base64::engine::general_purpose::STANDARD
        .decode(cleaned)
        .ok()
}

/// Checks a token's shape as cloudflared reads it.
pub fn inspect(token: &Secret) -> Shape {
    let text = token.expose().trim();
    let mut shape = Shape {
        problem: None,
        missing: Vec::new(),
        tunnel_id: None,
        length: text.len(),
        fingerprint: fingerprint(text),
    };
    let Some(bytes) = go_std_decode(text) else {
        shape.problem = Some(Problem::NotBase64);
        return shape;
    };
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(&bytes) else {
        shape.problem = Some(Problem::NotJson);
        return shape;
    };
    for key in ["a", "t", "s"] {
        let present = object
            .get(key)
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty());
        if !present {
            shape.missing.push(key);
        }
    }
    let tunnel_id = object
        .get("t")
        .and_then(Value::as_str)
        .and_then(|t| crate::golang::uuid_parse(t).ok());
    let secret_ok = object
        .get("s")
        .and_then(Value::as_str)
        .is_none_or(|s| go_std_decode(s).is_some());
    if !shape.missing.is_empty() {
        shape.problem = Some(Problem::MissingKeys);
    } else if tunnel_id.is_none() {
        shape.problem = Some(Problem::TunnelIdNotUuid);
    } else if !secret_ok {
        shape.problem = Some(Problem::NotBase64);
    }
    // Only a well-formed id is echoed: a malformed `t` could be anything.
    shape.tunnel_id = tunnel_id;
    shape
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(json: &str) -> Secret {
        Secret::new(base64::engine::general_purpose::STANDARD.encode(json))
    }

    #[test]
    fn a_good_token_yields_its_tunnel_id_and_nothing_secret() {
        let t = token(r#"{"a":"acct","t":"6ff42ae2-765d-4adf-8db7-aa8b61168b6a","s":"c2VjcmV0"}"#);
        let shape = inspect(&t);
        assert_eq!(shape.problem, None);
        assert_eq!(
            shape.tunnel_id.as_deref(),
            Some("6ff42ae2-765d-4adf-8db7-aa8b61168b6a")
        );
        let out = shape.to_json().to_string();
        assert!(
            !out.contains("c2VjcmV0") && !out.contains(t.expose()),
            "{out}"
        );
    }

    #[test]
    fn each_problem_is_named() {
        assert_eq!(
            inspect(&Secret::new("not base64!")).problem,
            Some(Problem::NotBase64)
        );
        assert_eq!(inspect(&token("[1,2]")).problem, Some(Problem::NotJson));
        let missing = inspect(&token(r#"{"a":"x","t":"y"}"#));
        assert_eq!(missing.problem, Some(Problem::MissingKeys));
        assert_eq!(missing.missing, vec!["s"]);
        assert_eq!(
            inspect(&token(r#"{"a":"x","t":"y","s":"z"}"#)).problem,
            Some(Problem::TunnelIdNotUuid)
        );
        // cloudflared's ParseToken wants the padding (base64.StdEncoding).
        let padded =
            token(r#"{"a":"acct","t":"6ff42ae2-765d-4adf-8db7-aa8b61168b6a","s":"c2VjcmV0"}"#);
        assert!(padded.expose().ends_with('='));
        let unpadded = Secret::new(padded.expose().trim_end_matches('='));
        assert_eq!(inspect(&unpadded).problem, Some(Problem::NotBase64));
        // `t` in any form google/uuid reads; `s` standard base64.
        let hex_id = inspect(&token(
            r#"{"a":"acct","t":"6FF42AE2765D4ADF8DB7AA8B61168B6A","s":"c2VjcmV0"}"#,
        ));
        assert_eq!(hex_id.problem, None);
        assert_eq!(
            hex_id.tunnel_id.as_deref(),
            Some("6ff42ae2-765d-4adf-8db7-aa8b61168b6a")
        );
        assert_eq!(
            inspect(&token(
                r#"{"a":"acct","t":"6ff42ae2-765d-4adf-8db7-aa8b61168b6a","s":"not base64!"}"#
            ))
            .problem,
            Some(Problem::NotBase64)
        );
    }
}
