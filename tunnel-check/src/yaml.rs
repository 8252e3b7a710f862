//! YAML (and JSON, which is YAML) parsed one way for every mode: duplicate keys
//! rejected, YAML 1.1 booleans (`yes`, `on`, `y`) kept as strings, and errors as
//! one line with line and column and no source snippet (the snippet would quote the
//! file, secrets included).

use serde::de::DeserializeOwned;

/// A parse error, already formatted as `line L, column C: message`.
#[derive(Debug)]
pub struct YamlError(pub String);

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses a YAML document into `T`.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    options.strict_booleans = true;
    options.with_snippet = false;
    serde_saphyr::from_str_with_options(text, options).map_err(|err| {
        let plain = err.without_snippet().to_string();
        // The message ends with " at line L, column C"; lead with the place instead.
        let message = match plain.rfind(" at line ") {
            Some(pos) if is_place(&plain[pos + " at line ".len()..]) => plain[..pos].to_owned(),
            _ => plain.clone(),
        };
        // The library's advice to its programmer means nothing to our user.
        let message = match message.find(", set DuplicateKeyPolicy") {
            Some(pos) => message[..pos].to_owned(),
            None => message,
        };
        match err.location() {
            Some(loc) => YamlError(format!(
                "line {}, column {}: {message}",
                loc.line(),
                loc.column()
            )),
            None => YamlError(message),
        }
    })
}

/// Whether `text` is exactly `L, column C`.
fn is_place(text: &str) -> bool {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    text.split_once(", column ")
        .is_some_and(|(line, column)| digits(line) && digits(column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_rejected_with_their_line() {
        let err = parse::<serde_json::Value>("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.0, "line 3, column 1: duplicate mapping key: a");
    }

    #[test]
    fn a_message_with_places_inside_is_kept_whole() {
        #[derive(Debug, serde::Deserialize)]
        struct Doc {
            _a: String,
            _b: Vec<String>,
        }
        let err = parse::<Doc>("_a: &x s\n_b: *x\n").unwrap_err();
        assert!(err.0.starts_with("line 2, column 5: "), "{err}");
        assert!(err.0.ends_with(')'), "{err}");
    }

    #[test]
    fn yaml_1_1_booleans_stay_strings() {
        let v: serde_json::Value = parse("service: y\nflag: true\n").unwrap();
        assert_eq!(v["service"], "y");
        assert_eq!(v["flag"], true);
    }
}
