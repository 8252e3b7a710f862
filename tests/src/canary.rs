//! The secret canary (issue 18): a credential planted in a tool's inputs must reach
//! none of its outputs, in any form a tool might carry it in.

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine as _;

/// The forms of `canary` an output may carry it in: as written, every byte
/// percent-encoded (`%43%41…`, how a URL or a label may escape it), and base64
/// (standard and URL-safe) at each of the three alignments inside a longer value.
/// A canary shorter than 8 bytes fails the test (its base64 forms would be too
/// short to mean anything).
pub fn forms(canary: &str) -> Vec<String> {
    assert!(
        canary.len() >= 8,
        "the canary {canary:?} is shorter than 8 bytes"
    );
    let mut forms = vec![
        canary.to_owned(),
        canary.bytes().map(|b| format!("%{b:02X}")).collect(),
    ];
    for pad in 0..3usize {
        let mut bytes = vec![b'x'; pad];
        bytes.extend_from_slice(canary.as_bytes());
        // Whole 3-byte groups only: the last, partial one depends on what follows.
        bytes.truncate(bytes.len() - bytes.len() % 3);
        // Skip the group holding the padding bytes: it depends on what precedes.
        let skip = if pad == 0 { 0 } else { 4 };
        forms.push(STANDARD.encode(&bytes)[skip..].to_owned());
        forms.push(URL_SAFE.encode(&bytes)[skip..].to_owned());
    }
    forms
}

/// Fails when `text` (an output named `what`) holds `canary` in any of its
/// [`forms`].
pub fn assert_absent(canary: &str, what: &str, text: &str) {
    for form in forms(canary) {
        assert!(!text.contains(&form), "{what} leaks {form:?}:\n{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANARY: &str = "CANARY5e0c2a91";

    #[test]
    fn every_form_inside_a_longer_value_is_caught() {
        let mut outputs = vec![
            format!("url=http://ops:{CANARY}@h/"),
            "q=%43%41%4E%41%52%59%35%65%30%63%32%61%39%31&v=1".to_owned(),
        ];
        for prefix in ["", "a", "ab", "abc"] {
            let value = format!("{prefix}user:{CANARY}-tail");
            outputs.push(format!("Basic {}", STANDARD.encode(&value)));
            outputs.push(format!("t={}", URL_SAFE.encode(&value)));
        }
        for output in outputs {
            let caught = std::panic::catch_unwind(|| assert_absent(CANARY, "out", &output));
            assert!(caught.is_err(), "{output:?} passed");
        }
        assert_absent(CANARY, "out", "url=http://ops:[REDACTED]@h/ CANARY5e0c2a9");
    }
}
