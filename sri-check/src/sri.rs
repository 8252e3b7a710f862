//! Subresource Integrity metadata as the W3C spec reads it: a whitespace-separated
//! list of `<algo>-<base64>[?options]` hashes, of which only those of the strongest
//! supported algorithm count, and a resource matches when any of those does.
//!
//! Where the browsers part from the spec, both are recorded. Sources (the `notes`
//! of a token cite them):
//! - the spec, w3c/webappsec-subresource-integrity `index.bs`, "Parse metadata" and
//!   "Do bytes match metadataList?": the algorithm is matched ASCII
//!   case-insensitively and the digest is compared as a *string* with the standard,
//!   padded base64 of the file's digest; Ladybird (LadybirdBrowser/ladybird
//!   `Libraries/LibWeb/SRI/SRI.cpp`) implements exactly that, and is case-sensitive;
//! - Chromium, `third_party/blink/renderer/platform/loader/subresource_integrity.cc`:
//!   algorithm prefixes `sha256`/`sha384`/`sha512` matched case-sensitively (an
//!   upper-case one is an unknown algorithm, skipped), digest characters
//!   `[A-Za-z0-9+/_=-]`, base64url normalised to base64, decoded without padding
//!   validation (`wtf/text/base64.h`, `kNoPaddingValidation`); a token it cannot
//!   parse is skipped;
//! - WebKit, `Source/WebCore/loader/ResourceCryptographicDigest.cpp`: algorithm
//!   case-insensitive, digest decoded as base64 (padding checked only when present),
//!   else as base64url (`WTF/wtf/text/Base64.cpp`); a mix of both alphabets decodes
//!   as neither and never matches;
//! - Gecko, `dom/security/SRIMetadata.cpp` and `SRICheck.cpp`: algorithm compared
//!   case-sensitively (`EqualsLiteral("sha256")`), digest decoded as base64 (padding
//!   optional, `xpcom/io/Base64.cpp`), else as base64url; a decoded length that is
//!   not the algorithm's is `InvalidIntegrityLength`. Before the base64url fallback
//!   (and in UXP: Pale Moon, Basilisk) base64url is refused.

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

    /// Recognises an algorithm token ASCII case-insensitively, as the spec and
    /// WebKit do (Chromium and Gecko do not: see [`Expected::unportable`]).
    pub fn parse(token: &str) -> Option<Algo> {
        Algo::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(token))
    }

    /// The length of a digest in bytes: 32, 48, 64.
    pub fn digest_len(self) -> usize {
        match self {
            Algo::Sha256 => 32,
            Algo::Sha384 => 48,
            Algo::Sha512 => 64,
        }
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

/// One hash of a supported algorithm in a metadata string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The token as written, without its `?options`.
    pub text: String,
    pub algo: Algo,
    /// The decoded digest, read as leniently as the most lenient engine (Chromium:
    /// either alphabet, any padding); `None` when no engine can read it as base64.
    pub digest: Option<Vec<u8>>,
}

impl Expected {
    /// The algorithm label as written (`sha384`, `SHA384`).
    fn label(&self) -> &str {
        self.text.split_once('-').map_or("", |(label, _)| label)
    }

    /// The base64 part as written.
    fn base64(&self) -> &str {
        self.text.split_once('-').map_or("", |(_, b64)| b64)
    }

    /// Why this hash can never match any file, if it cannot: not base64 at all, or
    /// a decoded length that is not the algorithm's (every engine compares the
    /// whole digest; Gecko names it `InvalidIntegrityLength`).
    pub fn defect(&self) -> Option<String> {
        match &self.digest {
            None => Some(format!(
                "{}: not base64, so it can never match (Chromium, Firefox and Safari skip it, \
                 the SRI spec blocks the asset)",
                self.text
            )),
            Some(d) if d.len() != self.algo.digest_len() => Some(format!(
                "{}: decodes to {} bytes, but a {} digest has {}, so it can never match",
                self.text,
                d.len(),
                self.algo.name(),
                self.algo.digest_len()
            )),
            Some(_) => None,
        }
    }

    /// How this hash is written in a way that only some engines accept, each with
    /// the engines that do not. Empty for `sha384-<standard padded base64>` and for
    /// hashes with a [`Expected::defect`].
    pub fn unportable(&self) -> Vec<String> {
        let Some(digest) = self.digest.as_ref().filter(|_| self.defect().is_none()) else {
            return Vec::new();
        };
        let mut notes = Vec::new();
        if self.label() != self.algo.name() {
            notes.push(format!(
                "{}: the algorithm is not in lower case; Chromium and Firefox do not \
                 recognise it and load the asset unchecked (Safari and the SRI spec accept it)",
                self.text
            ));
        }
        let b64 = self.base64();
        let url = b64.contains(['-', '_']);
        let standard = b64.contains(['+', '/']);
        let canonical = STANDARD.encode(digest);
        if url && standard {
            notes.push(format!(
                "{}: mixes the base64 and base64url alphabets; only Chromium decodes it, \
                 Firefox and Safari block the asset",
                self.text
            ));
        } else if url {
            notes.push(format!(
                "{}: base64url alphabet; Chromium, Firefox and Safari decode it, but the \
                 SRI spec compares standard base64 and never matches it (nor do Ladybird, \
                 and Firefox before its base64url fallback, as in Pale Moon and Basilisk)",
                self.text
            ));
        }
        if !url && b64 != canonical {
            if b64.trim_end_matches('=') == canonical.trim_end_matches('=') {
                notes.push(format!(
                    "{}: the '=' padding is missing or wrong; Chromium, Firefox and Safari \
                     accept it, but the SRI spec compares padded base64 and never matches it \
                     (nor does Ladybird)",
                    self.text
                ));
            } else {
                notes.push(format!(
                    "{}: not the canonical base64 of its digest ({canonical}); the browsers \
                     decode it, but the SRI spec compares strings and never matches it",
                    self.text
                ));
            }
        }
        notes
    }
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

/// Base64 as the most lenient engine reads it in SRI (Chromium: base64url turned
/// into base64, trailing `=` ignored, unused trailing bits not checked).
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

fn decode_lenient(text: &str) -> Option<Vec<u8>> {
    let normalised = text
        .trim_end_matches('=')
        .replace('-', "+")
        .replace('_', "/");
    LENIENT.decode(normalised).ok()
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
                        algo,
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
