//! `integrity` attribute values (untrusted strings from pages and manifests), read
//! by the W3C SRI "parse metadata" algorithm (`sri_check::sri::Metadata`). Input: the
//! value, a NUL, then the bytes of the file it protects.
//!
//! Promises: the parse never fails (an unreadable token is ignored or a defect, as
//! browsers do); only the strongest algorithm's hashes are kept; and the file's own
//! canonical `sha512-…` added to any value always matches, with no defect and
//! nothing unportable (a browser would load the file: so must the check).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sri_check::sri::{format_sri, Algo, AlgoSet, Metadata};

fuzz_target!(|data: &[u8]| {
    let (value, content) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let value = String::from_utf8_lossy(value);
    let metadata = Metadata::parse(&value);
    assert_eq!(metadata.strongest.is_none(), metadata.expected.is_empty());
    for expected in &metadata.expected {
        assert_eq!(Some(expected.algo), metadata.strongest);
        let _ = (expected.defect(), expected.unportable());
    }

    let mut algos = AlgoSet::of(Algo::Sha512);
    algos.insert(Algo::Sha384);
    algos.insert(Algo::Sha256);
    let (digests, _) =
        sri_check::hash::hash_reader(content, algos, &mut [0; 4096]).expect("hashed");
    let own = format_sri(Algo::Sha512, digests.get(Algo::Sha512).expect("sha512"));
    let with_own = Metadata::parse(&format!("{value} {own}"));
    assert_eq!(
        with_own.matches(&digests),
        Some(true),
        "{value:?} plus the file's own {own} does not match"
    );
    let own_entry = with_own
        .expected
        .iter()
        .find(|e| e.text == own)
        .expect("the file's own hash is kept");
    assert_eq!(own_entry.defect(), None);
    assert!(own_entry.unportable().is_empty(), "{own_entry:?}");
});
