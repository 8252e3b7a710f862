//! Subresource Integrity metadata as the W3C spec reads it: a whitespace-separated
//! list of `<algo>-<base64>[?options]` hashes, of which only those of the strongest
//! supported algorithm count, and a resource matches when any of those does.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;

/// A hash algorithm SRI supports, ordered by strength (the spec's "strongest wins").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algo {
    Sha256,
    Sha384,
    Sha512,
}

impl Algo {
    pub const ALL: [Algo; 3] = [Algo::Sha256, Algo::Sha384, Algo::Sha512];

    /// The prefix used in SRI strings and as the manifest key for sha384.
    pub fn name(self) -> &'static str {
        match self {
            Algo::Sha256 => "sha256",
            Algo::Sha384 => "sha384",
            Algo::Sha512 => "sha512",
        }
    }

    /// Recognises an algorithm token; browsers match it ASCII case-insensitively.
    pub fn parse(token: &str) -> Option<Algo> {
        Algo::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(token))
    }

    /// Bit flag for an [`AlgoSet`].
    fn bit(self) -> u8 {
        match self {
            Algo::Sha256 => 1,
            Algo::Sha384 => 2,
            Algo::Sha512 => 4,
        }
    }
}

/// A set of algorithms to compute in one pass over a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AlgoSet(u8);

impl AlgoSet {
    pub fn of(algo: Algo) -> AlgoSet {
        AlgoSet(algo.bit())
    }

    pub fn insert(&mut self, algo: Algo) {
        self.0 |= algo.bit();
    }

    pub fn contains(self, algo: Algo) -> bool {
        self.0 & algo.bit() != 0
    }
}

/// Digests of one file, one slot per algorithm that was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digests {
    pub sha256: Option<Vec<u8>>,
    pub sha384: Option<Vec<u8>>,
    pub sha512: Option<Vec<u8>>,
}

impl Digests {
    pub fn get(&self, algo: Algo) -> Option<&[u8]> {
        match algo {
            Algo::Sha256 => self.sha256.as_deref(),
            Algo::Sha384 => self.sha384.as_deref(),
            Algo::Sha512 => self.sha512.as_deref(),
        }
    }

    /// The SRI string of one computed digest, e.g. `sha384-<base64>`.
    pub fn sri(&self, algo: Algo) -> Option<String> {
        self.get(algo).map(|d| format_sri(algo, d))
    }
}

/// `algo-base64` with standard, padded base64: what generators write and browsers print.
pub fn format_sri(algo: Algo, digest: &[u8]) -> String {
    format!("{}-{}", algo.name(), STANDARD.encode(digest))
}

/// One hash of the strongest algorithm in a metadata string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The token as written, without its `?options`.
    pub text: String,
    /// The decoded digest; `None` when the value is not base64 (it can never match).
    pub digest: Option<Vec<u8>>,
}

/// A parsed `integrity` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The strongest supported algorithm present, if any.
    pub strongest: Option<Algo>,
    /// The hashes of that algorithm; weaker ones are ignored, as browsers do.
    pub expected: Vec<Expected>,
    /// Tokens that name no supported algorithm (browsers skip them).
    pub ignored: Vec<String>,
}

/// Base64 as browsers accept it in SRI: the standard and the URL-safe alphabet, with
/// or without padding.
const LENIENT: [GeneralPurpose; 2] = [
    GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    ),
    GeneralPurpose::new(
        &alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    ),
];

fn decode_lenient(text: &str) -> Option<Vec<u8>> {
    LENIENT.iter().find_map(|engine| engine.decode(text).ok())
}

impl Metadata {
    /// Parses metadata per the W3C SRI "parse metadata" algorithm.
    pub fn parse(value: &str) -> Metadata {
        let mut found: Vec<(Algo, Expected)> = Vec::new();
        let mut ignored = Vec::new();
        for token in value.split_ascii_whitespace() {
            // Options after '?' are reserved by the spec and carry no meaning yet.
            let expr = token.split_once('?').map_or(token, |(expr, _options)| expr);
            let parsed = expr
                .split_once('-')
                .and_then(|(alg, b64)| Some((Algo::parse(alg)?, b64)));
            match parsed {
                Some((algo, b64)) => found.push((
                    algo,
                    Expected {
                        text: expr.to_owned(),
                        digest: decode_lenient(b64),
                    },
                )),
                None => ignored.push(token.to_owned()),
            }
        }
        let strongest = found.iter().map(|(algo, _)| *algo).max();
        let expected = found
            .into_iter()
            .filter(|(algo, _)| Some(*algo) == strongest)
            .map(|(_, e)| e)
            .collect();
        Metadata {
            strongest,
            expected,
            ignored,
        }
    }

    /// Whether the computed digests satisfy this metadata: any hash of the strongest
    /// algorithm equals the file's digest. `None` when there is nothing to check.
    pub fn matches(&self, digests: &Digests) -> Option<bool> {
        let algo = self.strongest?;
        let actual = digests.get(algo)?;
        Some(
            self.expected
                .iter()
                .any(|e| e.digest.as_deref() == Some(actual)),
        )
    }

    /// The expected hashes as written, for records.
    pub fn expected_texts(&self) -> Vec<&str> {
        self.expected.iter().map(|e| e.text.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digests384(d: &[u8]) -> Digests {
        Digests {
            sha384: Some(d.to_vec()),
            ..Digests::default()
        }
    }

    #[test]
    fn strongest_algorithm_wins_and_options_are_ignored() {
        let d = [7u8; 48];
        let good = format_sri(Algo::Sha384, &d);
        let m = Metadata::parse(&format!(
            " sha256-AAAA  {good}?foo=bar sha384-bogus!! md5-xyz "
        ));
        assert_eq!(m.strongest, Some(Algo::Sha384));
        assert_eq!(m.expected.len(), 2);
        assert_eq!(m.ignored, vec!["md5-xyz".to_owned()]);
        assert_eq!(m.matches(&digests384(&d)), Some(true));
        assert_eq!(m.matches(&digests384(&[8u8; 48])), Some(false));
    }

    #[test]
    fn url_safe_and_unpadded_base64_are_accepted() {
        let d: Vec<u8> = (0..48u8)
            .map(|i| i.wrapping_mul(37).wrapping_add(250))
            .collect();
        let standard = STANDARD.encode(&d);
        let url = standard
            .replace('+', "-")
            .replace('/', "_")
            .trim_end_matches('=')
            .to_owned();
        assert_ne!(standard, url);
        let m = Metadata::parse(&format!("SHA384-{url}"));
        assert_eq!(m.matches(&digests384(&d)), Some(true));
    }

    #[test]
    fn nothing_supported_means_nothing_to_check() {
        let m = Metadata::parse("md5-abc sha1-def");
        assert_eq!(m.strongest, None);
        assert_eq!(m.matches(&digests384(&[0; 48])), None);
        assert_eq!(Metadata::parse("").strongest, None);
    }
}
