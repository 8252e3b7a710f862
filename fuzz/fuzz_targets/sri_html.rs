//! sri-check's HTML scan (pages from the build, untrusted markup): `sri-check html`
//! over one page in a small site whose manifest lists `app.js` and `css/site.css`.
//! Promise: every page is read to its end (no panic, no unbounded recursion on
//! nesting), each `integrity` is judged or reported, records and exit agree.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let root = day2_fuzz::sri_site();
    let page = day2_fuzz::file("site/page.html", data);
    let manifest = root.join("sri-manifest.json");
    let args = day2_fuzz::argv(&[
        &"sri-check",
        &"html",
        &page,
        &"--jobs",
        &"1",
        &"--root",
        &root,
        &"--manifest",
        &manifest,
    ]);
    day2_fuzz::tool(sri_check::TOOL, sri_check::run, args, b"");
    // The scanner alone, as the html check and `generate` use it.
    for tag in sri_check::scan::scan(data) {
        if let Some(value) = tag.attr("integrity") {
            sri_check::sri::Metadata::parse(value);
        }
    }
});
