//! `.wslconfig` saved as UTF-16 LE with its byte-order mark (what Notepad and
//! PowerShell's `Out-File` write on older Windows): the input is the bytes after the
//! BOM. Promises as for UTF-8, and one of encodings: the same text saved as UTF-8
//! (with its BOM) reads the same, statement for statement and skipped line for
//! skipped line; a text UTF-16 cannot carry (an unpaired surrogate, an odd byte) is
//! an error.
#![no_main]

use docker_doctor::wslconfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend_from_slice(data);
    let decoded = wslconfig::decode(&bytes);
    let units: Vec<u16> = data
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = match (decoded, String::from_utf16(&units)) {
        (Ok(decoded), Ok(text)) if data.len().is_multiple_of(2) => {
            let parsed = day2_fuzz::check_wslconfig(&decoded);
            // UTF-8 cannot hold NUL in a .wslconfig (it means UTF-16 without a BOM).
            if !text.contains('\0') {
                let mut utf8 = vec![0xEF, 0xBB, 0xBF];
                utf8.extend_from_slice(text.as_bytes());
                let again = wslconfig::decode(&utf8).expect("the same text as UTF-8");
                assert_eq!(again, decoded);
                assert_eq!(wslconfig::parse(&again), parsed);
            }
            return;
        }
        (Err((line, message)), _) => (line, message),
        (Ok(decoded), _) => panic!("{data:?} cannot be UTF-16 LE text, yet reads as {decoded:?}"),
    };
    let (line, message) = text;
    let lines = 1 + units.iter().filter(|&&u| u == u16::from(b'\n')).count();
    assert!(
        (1..=lines).contains(&line),
        "line {line} of {lines}: {message}"
    );
    assert!(
        data.len() % 2 == 1 || String::from_utf16(&units).is_err(),
        "UTF-16 text refused: {message}"
    );
});
