//! `%UserProfile%\.wslconfig` as bytes (UTF-8, with or without a BOM, or anything
//! else a user saved), decoded and parsed the way WSL's `ParseConfigFile` does and
//! checked by docker-doctor (`wslconfig::{decode, parse, check}`). Promises: bytes
//! that are not text WSL reads are a one-line error naming a line of the file; text
//! always parses (WSL skips what it cannot read, with a reason); every line number
//! named is a line of the file; the records are valid.
#![no_main]

use docker_doctor::wslconfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match wslconfig::decode(data) {
        Ok(text) => {
            day2_fuzz::check_wslconfig(&text);
        }
        Err((line, message)) => {
            let lines = 1 + data.iter().filter(|&&b| b == b'\n').count();
            assert!(
                (1..=lines).contains(&line),
                "line {line} of {lines}: {message}"
            );
            assert!(!message.contains('\n'), "{message:?}");
        }
    }
});
