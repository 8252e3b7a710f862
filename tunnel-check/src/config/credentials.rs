//! The tunnel credentials file, found and read the way cloudflared does
//! (`cmd/cloudflared/tunnel/credential_finder.go`, `subcommand_context.go`:
//! `readTunnelCredentials`, `findCredentials`; the struct is `Credentials` of
//! `connection/connection.go`, decoded by Go's `encoding/json`).
//!
//! - `credentials-file:` is used as written; without it cloudflared looks for
//!   `<tunnel-id>.json` in the origin certificate's directory and in
//!   `~/.cloudflared`, `~/.cloudflare-warp`, `~/cloudflare-warp`,
//!   `/etc/cloudflared`, `/usr/local/etc/cloudflared`. Here the file of the
//!   same name beside config.yml is tried too (the host copy of a path inside a
//!   container, or a Windows path such as `C:\Users\me\.cloudflared\<id>.json`).
//! - `encoding/json` matches the keys `AccountTag`, `TunnelSecret`, `TunnelID`,
//!   `Endpoint` case-insensitively, decodes `TunnelSecret` as standard base64
//!   (padded) and `TunnelID` with `google/uuid` (hyphenated, `{…}`, `urn:uuid:`
//!   or 32 hex digits). A file from before `TunnelID` existed (TUN-3581, 2020)
//!   has only `AccountTag` and `TunnelSecret`; cloudflared fills the id in from
//!   `tunnel:`. It does the same when the file names another tunnel, and then the
//!   edge refuses the secret.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value;

use crate::golang;

/// What is wrong with a credentials file, as `data.problem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub problem: &'static str,
    pub message: String,
}

/// A credentials file as cloudflared reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub account_tag: String,
    /// The secret, for the redactor only.
    pub secret: String,
    pub secret_bytes: usize,
    /// The canonical id, when the file has one.
    pub tunnel_id: Option<String>,
    /// The id as written, when it is not in the canonical form.
    pub tunnel_id_written: Option<String>,
}

/// The last component of a path written for any OS (`/` or `\` separated).
pub fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// cloudflared's default search directories, `~` expanded.
fn default_dirs() -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut dirs: Vec<PathBuf> = [".cloudflared", ".cloudflare-warp", "cloudflare-warp"]
        .iter()
        .filter_map(|d| home.as_ref().map(|h| h.join(d)))
        .collect();
    dirs.push(PathBuf::from("/etc/cloudflared"));
    dirs.push(PathBuf::from("/usr/local/etc/cloudflared"));
    dirs
}

/// The candidate files, in the order tried.
pub fn candidates(
    config_file: &Path,
    configured: Option<&str>,
    tunnel_id: Option<&str>,
) -> Vec<PathBuf> {
    let beside = |name: &str| config_file.parent().unwrap_or(Path::new(".")).join(name);
    let mut paths = Vec::new();
    match configured {
        Some(path) => {
            paths.push(PathBuf::from(path));
            let name = base_name(path);
            if !name.is_empty() {
                paths.push(beside(name));
            }
        }
        None => {
            if let Some(id) = tunnel_id {
                let name = format!("{id}.json");
                paths.push(beside(&name));
                paths.extend(default_dirs().into_iter().map(|d| d.join(&name)));
            }
        }
    }
    let mut unique: Vec<PathBuf> = Vec::new();
    for path in paths {
        if !unique.contains(&path) {
            unique.push(path);
        }
    }
    unique
}

/// The members of a JSON object matched to a Go struct field the way
/// `encoding/json` does: case-insensitively, the last one winning.
fn member<'a>(object: &'a serde_json::Map<String, Value>, field: &str) -> Option<&'a Value> {
    object
        .iter()
        .rfind(|(k, _)| k.eq_ignore_ascii_case(field))
        .map(|(_, v)| v)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::String(_) => "string",
        Value::Null => "null",
    }
}

/// A string member; `Ok(None)` when absent or null.
fn string_member(
    object: &serde_json::Map<String, Value>,
    field: &str,
    go_type: &str,
) -> Result<Option<String>, Malformed> {
    match member(object, field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(Malformed {
            problem: "wrong_type",
            message: format!(
                "json: cannot unmarshal {} into Go struct field Credentials.{field} of type {go_type}",
                json_kind(other)
            ),
        }),
    }
}

/// Decodes the file's text as cloudflared does; `path` decides the `.pem` hint.
pub fn decode(text: &str, path: &Path) -> Result<Credentials, Malformed> {
    let object = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => object,
        Ok(other) => {
            return Err(Malformed {
                problem: "not_json_object",
                message: format!(
                    "json: cannot unmarshal {} into Go value of type connection.Credentials",
                    json_kind(&other)
                ),
            })
        }
        Err(err) => {
            if path.extension().is_some_and(|e| e == "pem") {
                return Err(Malformed {
                    problem: "origin_cert_not_credentials",
                    message: "The tunnel credentials file should be .json but you gave a .pem. The tunnel credentials file was originally created by `cloudflared tunnel create`. You may have accidentally used the filepath to cert.pem, which is generated by `cloudflared tunnel login`.".into(),
                });
            }
            // serde_json's messages name a position, never the text.
            return Err(Malformed {
                problem: "not_json",
                message: format!(
                    "the credentials file contained invalid JSON (line {}, column {})",
                    err.line(),
                    err.column()
                ),
            });
        }
    };
    let account_tag = string_member(&object, "AccountTag", "string")?.unwrap_or_default();
    string_member(&object, "Endpoint", "string")?;
    let secret = string_member(&object, "TunnelSecret", "[]uint8")?.unwrap_or_default();
    // encoding/json decodes []byte with base64.StdEncoding, which skips \r and \n.
    let cleaned: String = secret
        .chars()
        .filter(|c| *c != '\r' && *c != '\n')
        .collect();
    let secret_bytes = match base64::engine::general_purpose::STANDARD.decode(&cleaned) {
        Ok(bytes) => bytes.len(),
        Err(e) => {
            return Err(Malformed {
                problem: "secret_not_base64",
                message: format!("TunnelSecret is not standard base64 ({e})"),
            })
        }
    };
    let mut credentials = Credentials {
        account_tag,
        secret,
        secret_bytes,
        ..Credentials::default()
    };
    if let Some(written) = string_member(&object, "TunnelID", "uuid.UUID")? {
        match golang::uuid_parse(&written) {
            Ok(id) => {
                if id != written {
                    credentials.tunnel_id_written = Some(written);
                }
                credentials.tunnel_id = Some(id);
            }
            Err(e) => {
                return Err(Malformed {
                    problem: "tunnel_id_not_uuid",
                    message: format!("TunnelID: {e}"),
                })
            }
        }
    }
    Ok(credentials)
}

/// What the edge will refuse although cloudflared reads the file.
pub fn refused_by_edge(credentials: &Credentials) -> Option<Malformed> {
    let mut missing = Vec::new();
    if credentials.account_tag.is_empty() {
        missing.push("AccountTag");
    }
    if credentials.secret.is_empty() {
        missing.push("TunnelSecret");
    }
    if !missing.is_empty() {
        return Some(Malformed {
            problem: "missing_keys",
            message: format!("the credentials file lacks {}", missing.join(", ")),
        });
    }
    // `cloudflared tunnel create --secret` refuses shorter secrets.
    if credentials.secret_bytes < 32 {
        return Some(Malformed {
            problem: "secret_too_short",
            message: format!(
                "TunnelSecret decodes to {} bytes; a tunnel secret is at least 32",
                credentials.secret_bytes
            ),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "00+x9bPCmH+MRxIut9EKGMCWN/nTEKcecTOYqEhkzZA=";

    fn decoded(json: &str) -> Result<Credentials, Malformed> {
        decode(json, Path::new("c.json"))
    }

    #[test]
    fn every_generation_of_credentials() {
        let old = decoded(&format!(
            r#"{{"AccountTag":"acct","TunnelSecret":"{SECRET}"}}"#
        ))
        .unwrap();
        assert_eq!((old.tunnel_id, old.secret_bytes), (None, 32));
        let current = decoded(&format!(r#"{{"AccountTag":"acct","TunnelSecret":"{SECRET}","TunnelID":"df5ed608-b8b4-4109-89f3-9f2cf199df64","TunnelName":"x"}}"#)).unwrap();
        assert_eq!(
            current.tunnel_id.as_deref(),
            Some("df5ed608-b8b4-4109-89f3-9f2cf199df64")
        );
        let hex = decoded(&format!(r#"{{"accounttag":"acct","tunnelsecret":"{SECRET}","tunnelid":"DF5ED608B8B4410989F39F2CF199DF64","Endpoint":"fed"}}"#)).unwrap();
        assert_eq!(
            hex.tunnel_id.as_deref(),
            Some("df5ed608-b8b4-4109-89f3-9f2cf199df64")
        );
        assert_eq!(
            hex.tunnel_id_written.as_deref(),
            Some("DF5ED608B8B4410989F39F2CF199DF64")
        );
        assert_eq!(hex.account_tag, "acct");
    }

    #[test]
    fn what_cloudflared_cannot_read() {
        let problem = |json: &str| decoded(json).unwrap_err().problem;
        assert_eq!(problem("{"), "not_json");
        assert_eq!(problem("[1]"), "not_json_object");
        assert_eq!(problem(r#"{"AccountTag":5}"#), "wrong_type");
        assert_eq!(
            problem(r#"{"TunnelSecret":"not base64!"}"#),
            "secret_not_base64"
        );
        assert_eq!(
            problem(r#"{"TunnelSecret":"YWJj"}"#.replace("YWJj", "YWJjZA").as_str()),
            "secret_not_base64"
        );
        assert_eq!(
            problem(r#"{"TunnelID":"tunnel-one"}"#),
            "tunnel_id_not_uuid"
        );
        assert_eq!(problem(r#"{"TunnelID":""}"#), "tunnel_id_not_uuid");
        assert_eq!(
            decode("-----BEGIN", Path::new("cert.pem"))
                .unwrap_err()
                .problem,
            "origin_cert_not_credentials"
        );
        let short = decoded(r#"{"AccountTag":"a","TunnelSecret":"YWJj"}"#).unwrap();
        assert_eq!(refused_by_edge(&short).unwrap().problem, "secret_too_short");
        let empty = decoded(r#"{"TunnelSecret":null}"#).unwrap();
        assert_eq!(refused_by_edge(&empty).unwrap().problem, "missing_keys");
    }

    #[test]
    fn paths_for_any_os() {
        assert_eq!(
            base_name(r"C:\Users\%USERNAME%\.cloudflared\x.json"),
            "x.json"
        );
        assert_eq!(base_name("/etc/cloudflared/x.json"), "x.json");
        let c = candidates(Path::new("/cfg/config.yml"), Some(r"C:\a\x.json"), None);
        assert_eq!(
            c,
            [PathBuf::from(r"C:\a\x.json"), PathBuf::from("/cfg/x.json")]
        );
        let c = candidates(Path::new("/cfg/config.yml"), None, Some("id"));
        assert_eq!(c[0], PathBuf::from("/cfg/id.json"));
        assert!(c.contains(&PathBuf::from("/etc/cloudflared/id.json")));
    }
}
