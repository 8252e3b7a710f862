//! sri-check's manifest (`sri-manifest.json`, untrusted JSON from the repository):
//! `sri-check verify` over it, in a small site. Promise: a manifest the reader
//! cannot parse is exit 2 with a message, never a pass; anything else is verified.
#![no_main]

use day2_core::Exit;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let root = day2_fuzz::sri_site();
    let manifest = day2_fuzz::file("manifest.json", data);
    let args = day2_fuzz::argv(&[
        &"sri-check",
        &"verify",
        &"--jobs",
        &"1",
        &"--manifest",
        &manifest,
        &"--root",
        &root,
    ]);
    let run = day2_fuzz::tool(sri_check::TOOL, sri_check::run, args, b"");
    if sri_check::manifest::parse(data).is_err() {
        assert_eq!(run.exit, Exit::Usage, "an unparsable manifest is exit 2");
    }
});
