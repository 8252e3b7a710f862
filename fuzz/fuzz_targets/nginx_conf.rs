//! nginx configuration (`cargo xtask cutover --nginx-conf`: the repository's files or
//! an `nginx -T` dump), read by the cutover's reader (`xtask::nginx`). The input is
//! taken as an `nginx -T` dump (`# configuration file NAME:` headers), or as the one
//! file of a dump when it has no header, so includes resolve among the dumped files
//! and nothing is read from disk. Then, as the remove step does, every server is
//! asked which location answers the legacy URIs, and the retiring patch is made
//! (with the files taken as patchable).
//!
//! Promises: a configuration nginx would refuse, or that nests deeper than the
//! bound, is an error naming file and line (no stack overflow, no panic); every
//! question gets an answer; a patch is offered only when the patched configuration
//! retires every URI.
#![no_main]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use day2_core::Problem;
use libfuzzer_sys::fuzz_target;
use xtask::nginx::{self, patch, route, Config, SourceFile};

const MAIN: &str = "/etc/nginx/nginx.conf";
const PREFIX: &str = "/status/";

/// The dump nginx -T would print for these files.
fn dump(files: &[(PathBuf, String)]) -> String {
    let mut text = String::new();
    for (path, body) in files {
        text.push_str(&format!(
            "# configuration file {}:\n{body}\n",
            path.display()
        ));
    }
    text
}

fn load(text: String) -> Result<Config, Problem> {
    let main = Path::new(MAIN);
    let overrides = BTreeMap::from([(main.to_path_buf(), text)]);
    nginx::load_with(main, &overrides).map_err(|err| {
        // Nothing is read from disk, so every error is about the text: at a line.
        assert!(err.line.is_some_and(|l| l >= 1), "{err:?}");
        Problem::new("invalid_config", err.to_string())
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let text = if text.starts_with("# configuration file ") {
        text
    } else {
        dump(&[(PathBuf::from(MAIN), text)])
    };
    let Ok(mut config) = load(text) else {
        return;
    };
    let uris: Vec<String> = [
        "/status/summary",
        "/status/",
        "/status",
        "/api/status/summary",
    ]
    .map(String::from)
    .to_vec();
    for server in config.servers() {
        for uri in &uris {
            let answers = route::answers(&config, server, uri);
            assert!(!answers.is_empty(), "no answer for {uri} in {server:?}");
        }
    }
    let unretired = patch::unretired(&config, &uris);
    // Patchable as files on disk would be; the patched texts go back through a dump.
    for file in &mut config.files {
        file.on_disk = true;
    }
    let files: Vec<(PathBuf, String)> = config
        .files
        .iter()
        .map(|f| (f.path.clone(), f.text.clone()))
        .collect();
    let relative = |file: &SourceFile| Ok(file.path.display().to_string());
    let reload = |texts: &BTreeMap<PathBuf, String>| {
        let patched: Vec<(PathBuf, String)> = files
            .iter()
            .map(|(path, text)| (path.clone(), texts.get(path).unwrap_or(text).clone()))
            .collect();
        load(dump(&patched))
    };
    match patch::retire(&config, &uris, PREFIX, &relative, &reload) {
        Ok(Some(patch)) => assert!(!patch.files.is_empty() && !patch.diff.is_empty()),
        Ok(None) => assert!(
            unretired.is_empty(),
            "no patch although {unretired:?} are not retired"
        ),
        Err(_) => {}
    }
});
