//! `sri-check html`: the integrity attributes browsers actually check. For every
//! `<script src>`, `<link rel=stylesheet|preload|modulepreload href>` in the given
//! pages, one `asset` record; per page a `page` record; then a `summary`.
//!
//! Local assets (relative or root-relative URLs) are hashed from disk and compared
//! with their `integrity` attribute and with the manifest entry; remote assets
//! (`https://…`, `//…`) cannot be hashed offline, but their attributes are still
//! checked (integrity present, strong enough, and `crossorigin` set, without which a
//! browser refuses a cross-origin resource that carries `integrity`).

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

use day2_core::{Exit, Io, Record, RecordSink, Verdict};
use serde_json::{json, Value};

use crate::hash::{self, run_ordered};
use crate::paths::{self, normalize_key, Operand, Refusal, Root};
use crate::scan::{scan, Tag};
use crate::sri::{Algo, AlgoSet, Digests, Metadata};
use crate::{manifest, refusal_record, root_dir, HtmlArgs, DEFAULT_MANIFEST, TOOL};

/// Pages larger than this are not parsed (they are read whole).
const PAGE_LIMIT: u64 = 64 * 1024 * 1024;

/// What a URL points at.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// A file under the root, by key.
    Local(String),
    /// Another origin (absolute http(s) or protocol-relative URL).
    Remote,
}

/// One script or link tag that loads a subresource.
#[derive(Debug)]
struct Asset {
    tag: Tag,
    kind: &'static str,
    url: String,
    target: Target,
}

/// One page after scanning.
struct Page {
    key: String,
    assets: Vec<Asset>,
}

pub fn run(args: &HtmlArgs, io: &mut Io<'_>) -> Exit {
    let started = Instant::now();
    let root_path = match (&args.root, &args.manifest) {
        (Some(root), _) => root.clone(),
        (None, Some(manifest)) => root_dir(None, manifest),
        (None, None) => PathBuf::from("."),
    };
    let root = match Root::new(&root_path) {
        Ok(root) => root,
        Err(message) => {
            io.error(TOOL, message);
            return Exit::Usage;
        }
    };
    let manifest_path = match &args.manifest {
        Some(path) => Some(path.clone()),
        None if args.no_manifest => None,
        None => Some(root_path.join(DEFAULT_MANIFEST)).filter(|p| p.is_file()),
    };
    // Manifest entries by normalised key; an unusable entry is left to `verify`.
    let mut listed: HashMap<String, Metadata> = HashMap::new();
    if let Some(path) = &manifest_path {
        match manifest::load(path) {
            Ok(m) => {
                for (key, value) in &m.entries {
                    if let Ok(text) = manifest::expected(value) {
                        listed.insert(normalize_key(key), Metadata::parse(text));
                    }
                }
            }
            Err(message) => {
                io.error(TOOL, message);
                return Exit::Usage;
            }
        }
    }
    let operands = match paths::expand(&args.pages, io.stdin, args.null) {
        Ok(operands) => operands,
        Err(message) => {
            io.error(TOOL, message);
            return Exit::Usage;
        }
    };
    let threads = hash::worker_count(args.jobs);
    let mut sink = RecordSink::new(TOOL, io.stdout);

    // Pass 1: read and scan the pages.
    let mut pages: Vec<Page> = Vec::new();
    let mut page_paths = Vec::new();
    for operand in operands {
        match operand {
            Operand::NoMatch(pattern) => {
                let record = Record::warn("operand", &pattern, "no_match")
                    .message(format!("{pattern}: the glob matched no file"));
                if sink.emit(record).is_err() {
                    return sink.exit();
                }
            }
            Operand::Path(path) => page_paths.push(path),
        }
    }
    let mut closed = false;
    run_ordered(
        &page_paths,
        threads,
        |path, _buf| read_page(&root, path),
        |index, result| {
            let shown = page_paths[index].to_string_lossy().into_owned();
            let emitted = match result {
                Ok(page) => {
                    pages.push(page);
                    Ok(())
                }
                Err(refusal) => sink.emit(refusal_record("page", &shown, &refusal)),
            };
            if emitted.is_err() {
                closed = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        },
    );
    if closed {
        return sink.exit();
    }

    // Pass 2: hash every local file once, with every algorithm anyone asks about.
    let mut wanted: BTreeMap<String, AlgoSet> = BTreeMap::new();
    for asset in pages.iter().flat_map(|p| &p.assets) {
        if let Target::Local(key) = &asset.target {
            let algos = wanted
                .entry(key.clone())
                .or_insert_with(|| AlgoSet::of(Algo::Sha384));
            let from_html = asset.tag.attr("integrity").map(Metadata::parse);
            for metadata in from_html.iter().chain(listed.get(key)) {
                if let Some(algo) = metadata.strongest {
                    algos.insert(algo);
                }
            }
        }
    }
    let wanted: Vec<(String, AlgoSet)> = wanted.into_iter().collect();
    let mut digests: HashMap<String, Result<Digests, Refusal>> = HashMap::new();
    run_ordered(
        &wanted,
        threads,
        |(key, algos), buf| hash_key(&root, key, *algos, buf),
        |index, result| {
            digests.insert(wanted[index].0.clone(), result);
            ControlFlow::Continue(())
        },
    );

    // Pass 3: judge each tag.
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut asset_count = 0usize;
    for page in &pages {
        let local = page
            .assets
            .iter()
            .filter(|a| matches!(a.target, Target::Local(_)))
            .count();
        let record = Record::pass("page", &page.key).data(json!({
            "assets": page.assets.len(),
            "local": local,
            "remote": page.assets.len() - local,
        }));
        if sink.emit(record).is_err() {
            return sink.exit();
        }
        for asset in &page.assets {
            asset_count += 1;
            let record = judge(
                &page.key,
                asset,
                &digests,
                manifest_path.is_some().then_some(&listed),
            );
            *reasons
                .entry(record.reason.clone().unwrap_or_else(|| "ok".to_owned()))
                .or_default() += 1;
            if sink.emit(record).is_err() {
                return sink.exit();
            }
        }
    }
    let root_shown = root.canonical.display().to_string();
    // No page read is no check; pages that load nothing have nothing to check.
    let summary = if pages.is_empty() {
        Record::error("summary", &root_shown, "no_pages")
            .message("no HTML page could be read: nothing was checked")
    } else if asset_count == 0 {
        Record::warn("summary", &root_shown, "no_subresources").message(format!(
            "{} page(s) read, none loads a script or stylesheet: no integrity attribute to check",
            pages.len()
        ))
    } else {
        Record::info("summary", &root_shown, "summary")
            .message(format!("{} pages, {asset_count} assets", pages.len()))
    };
    let summary = summary
        .data(json!({
            "pages": pages.len(),
            "assets": asset_count,
            "reasons": reasons,
            "manifest": manifest_path.map(|p| p.display().to_string()),
        }))
        .duration(started.elapsed());
    let _ = sink.emit(summary);
    sink.exit()
}

fn read_page(root: &Root, path: &std::path::Path) -> Result<Page, Refusal> {
    let key = root.key_of(path)?;
    let mut file = root.open_key(&key)?;
    let html = day2_core::input::read_capped(&mut file, "the page", PAGE_LIMIT)
        .map_err(|e| Refusal::Unreadable(std::io::Error::other(e)))?;
    let dir = key.rsplit_once('/').map_or("", |(dir, _)| dir);
    let assets = scan(&html)
        .into_iter()
        .filter_map(|tag| asset_of(tag, dir))
        .collect();
    Ok(Page { key, assets })
}

fn hash_key(root: &Root, key: &str, algos: AlgoSet, buf: &mut [u8]) -> Result<Digests, Refusal> {
    let file = root.open_key(key)?;
    hash::hash_reader(file, algos, buf)
        .map(|(digests, _)| digests)
        .map_err(Refusal::Unreadable)
}

/// The subresource a tag loads, if it is one we check.
fn asset_of(tag: Tag, page_dir: &str) -> Option<Asset> {
    let (kind, url) = match tag.name.as_str() {
        "script" => ("script", tag.attr("src")?),
        "link" => {
            let rel = tag.attr("rel")?.to_ascii_lowercase();
            let rels: Vec<&str> = rel.split_ascii_whitespace().collect();
            let kind = ["stylesheet", "modulepreload", "preload"]
                .into_iter()
                .find(|k| rels.contains(k))?;
            (kind, tag.attr("href")?)
        }
        _ => return None,
    };
    let url = url
        .trim_matches(|c: char| c.is_ascii_whitespace())
        .to_owned();
    let target = classify(&url, page_dir)?;
    Some(Asset {
        tag,
        kind,
        url,
        target,
    })
}

/// Where a URL leads. `None` for URLs that load no file (`data:`, `blob:`, empty).
fn classify(url: &str, page_dir: &str) -> Option<Target> {
    if url.is_empty() {
        return None;
    }
    let url = url.replace('\\', "/");
    if url.starts_with("//") {
        return Some(Target::Remote);
    }
    if let Some((scheme, _)) = url.split_once(':') {
        let is_scheme = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if is_scheme {
            let scheme = scheme.to_ascii_lowercase();
            return (scheme == "http" || scheme == "https").then_some(Target::Remote);
        }
    }
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let decoded = percent_decode(path);
    // URL path resolution: `..` never climbs above the site root, as in a browser.
    let joined = if decoded.starts_with('/') {
        decoded
    } else {
        format!("{page_dir}/{decoded}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    let key = if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    };
    Some(Target::Local(key))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One finding about a tag: its verdict and reason.
type Finding = (Verdict, &'static str);

fn judge(
    page: &str,
    asset: &Asset,
    digests: &HashMap<String, Result<Digests, Refusal>>,
    listed: Option<&HashMap<String, Metadata>>,
) -> Record {
    let tag = &asset.tag;
    let integrity = tag.attr_all("integrity");
    let crossorigin = tag.attr("crossorigin");
    let as_ = tag.attr("as").map(str::to_ascii_lowercase);
    let module = asset.kind == "modulepreload"
        || (asset.kind == "script"
            && tag
                .attr("type")
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("module")));
    // The first attribute is the one the browser uses.
    let effective = integrity.first().map(|v| Metadata::parse(v));
    // Whether the load can usefully carry `integrity`: a preload only when the
    // element that then uses the asset can carry it too — `<script>`, `<link
    // rel=stylesheet>`, `fetch()` — which is what Chromium honours it for on
    // preloads (chromestatus 4967277059375104: as=script and as=style, "the only
    // resource types that support SRI on their own", plus `fetch()`'s own
    // `integrity`). A font (CSS `@font-face`) or image (`<img>`) has no way to ask
    // for it, so its preload needs none.
    let applies = asset.kind != "preload"
        || matches!(
            as_.as_deref().map(str::trim),
            Some("script" | "style" | "fetch")
        );
    let mut notes: Vec<String> = Vec::new();

    let mut findings: Vec<Finding> = Vec::new();
    let mut data = json!({
        "page": page,
        "line": tag.line,
        "tag": tag.name,
        "kind": asset.kind,
        "url": asset.url,
        "integrity": integrity,
        "crossorigin": crossorigin,
        "as": tag.attr("as"),
    });
    let (remote, key) = match &asset.target {
        Target::Local(key) => (false, Some(key.as_str())),
        Target::Remote => (true, None),
    };
    let file = key.map(|k| digests.get(k));
    if let Some(Some(Ok(d))) = &file {
        // The value to paste into the page when fixing it.
        data["suggested"] = Value::from(d.sri(Algo::Sha384));
    }
    if let Some(Some(Err(refusal))) = &file {
        let verdict = if refusal.is_error() {
            Verdict::Error
        } else {
            Verdict::Fail
        };
        findings.push((verdict, refusal.reason()));
        data["error"] = Value::from(refusal.message());
    }
    if integrity.len() > 1 {
        findings.push((Verdict::Fail, "duplicate_integrity"));
    }
    match &effective {
        None if !applies => {}
        None if remote => findings.push((Verdict::Warn, "remote_without_integrity")),
        None => findings.push((Verdict::Fail, "missing_integrity")),
        Some(m) if m.strongest.is_none() && m.ignored.is_empty() => {
            findings.push((Verdict::Fail, "empty_integrity"));
        }
        Some(m) if m.strongest.is_none() => findings.push((Verdict::Fail, "no_supported_hash")),
        Some(m) => {
            // A hash of the strongest algorithm that can never match: when all of
            // them are such, nothing can satisfy the attribute (checked offline,
            // remote assets included).
            let defects: Vec<String> = m.expected.iter().filter_map(|e| e.defect()).collect();
            let hopeless = defects.len() == m.expected.len();
            if !defects.is_empty() {
                let verdict = if hopeless {
                    Verdict::Fail
                } else {
                    Verdict::Warn
                };
                findings.push((verdict, "bad_digest"));
                notes.extend(defects);
            }
            let unportable: Vec<String> = m.expected.iter().flat_map(|e| e.unportable()).collect();
            if !unportable.is_empty() {
                findings.push((Verdict::Warn, "unportable_digest"));
                notes.extend(unportable);
            }
            if let Some(Some(Ok(d))) = &file {
                data["actual"] = Value::from(d.sri(m.strongest.unwrap_or(Algo::Sha384)));
                if !hopeless && m.matches(d) == Some(false) {
                    findings.push((Verdict::Fail, "drift"));
                }
            }
            if m.strongest < Some(Algo::Sha384) {
                findings.push((Verdict::Warn, "weak_hash"));
            }
        }
    }
    // A cross-origin request for a classic script or stylesheet is no-cors without
    // `crossorigin`, and a browser rejects integrity on an opaque response. Fonts are
    // always fetched with CORS, so a font preload without it is never used.
    let has_integrity = effective.as_ref().is_some_and(|m| m.strongest.is_some());
    if crossorigin.is_none() {
        if remote && has_integrity && !module {
            findings.push((Verdict::Fail, "missing_crossorigin"));
        } else if asset.kind == "preload" && as_.as_deref() == Some("font") {
            findings.push((Verdict::Warn, "missing_crossorigin"));
        }
    }
    if let (Some(listed), Some(key)) = (listed, key) {
        match listed.get(key) {
            None => findings.push((Verdict::Warn, "not_in_manifest")),
            Some(entry) => {
                data["manifest"] = Value::from(entry.expected_texts());
                let file = match &file {
                    Some(Some(Ok(d))) => Some(d),
                    _ => None,
                };
                if let Some(m) = &effective {
                    if disagree(m, entry, file) {
                        findings.push((Verdict::Fail, "manifest_mismatch"));
                    }
                }
            }
        }
    }
    if let Some(key) = key {
        data["path"] = Value::from(key);
    }
    data["findings"] = Value::from(findings.iter().map(|(_, r)| *r).collect::<Vec<_>>());
    if !notes.is_empty() {
        data["notes"] = Value::from(notes.clone());
    }
    let target = key.unwrap_or(&asset.url);
    // The most severe finding names the record; among equals, the first listed.
    let top = findings.iter().map(|(v, _)| severity(*v)).max();
    let worst = findings
        .iter()
        .find(|(v, _)| Some(severity(*v)) == top)
        .copied();
    let record = match worst {
        None => Record::pass("asset", target),
        Some((verdict, reason)) => {
            let mut message = format!(
                "{page}:{}: <{}> {}: {}",
                tag.line,
                tag.name,
                asset.url,
                findings
                    .iter()
                    .map(|(_, r)| *r)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if !notes.is_empty() {
                message.push_str(&format!(" ({})", notes.join("; ")));
            }
            Record::new("asset", target, verdict, Some(reason)).message(message)
        }
    };
    record.data(data)
}

fn severity(v: Verdict) -> u8 {
    match v {
        Verdict::Pass | Verdict::Info => 0,
        Verdict::Warn => 1,
        Verdict::Fail | Verdict::Error => 2,
    }
}

/// Whether the page and the manifest say different things about a file. With the
/// same strongest algorithm they disagree when they share no hash; with different
/// ones, when one matches the file and the other does not.
fn disagree(html: &Metadata, entry: &Metadata, file: Option<&Digests>) -> bool {
    match (html.strongest, entry.strongest) {
        (Some(a), Some(b)) if a == b => !html
            .expected
            .iter()
            .any(|h| h.digest.is_some() && entry.expected.iter().any(|e| e.digest == h.digest)),
        (Some(_), Some(_)) => file.is_some_and(|d| html.matches(d) != entry.matches(d)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_map_to_keys_like_a_browser_resolves_them() {
        let local = |k: &str| Some(Target::Local(k.to_owned()));
        assert_eq!(classify("js/a.js?v=3#x", "blog"), local("blog/js/a.js"));
        assert_eq!(classify("/js/a%20b.js", "blog"), local("js/a b.js"));
        assert_eq!(
            classify("../../../../etc/passwd", "blog"),
            local("etc/passwd")
        );
        assert_eq!(
            classify("https://cdn.example/x.js", ""),
            Some(Target::Remote)
        );
        assert_eq!(classify("//cdn.example/x.js", ""), Some(Target::Remote));
        assert_eq!(classify("data:text/javascript,1", ""), None);
        assert_eq!(percent_decode("%41%4a%zz%4"), "AJ%zz%4");
    }
}
