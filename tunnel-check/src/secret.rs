//! The one type a secret is held in (a token, a credentials file's secret), below
//! both the redactor that masks secrets and the token reader that finds them.

/// A secret value held in memory. Its `Debug` never shows the value, so a stray
/// `{:?}` or a panic message that formats it cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the code that has to inspect it (shape checks, hashing).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}
