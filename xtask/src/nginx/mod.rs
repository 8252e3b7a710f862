//! Reading an nginx configuration the way nginx reads it, to ask nginx's own question
//! about the legacy path: which `location` serves it, and what does that location do.
//!
//! - [`syntax`]: the directive grammar (`ngx_conf_read_token`), bounded in depth;
//! - this module: files and `include`s (globs, relative to the configuration's
//!   directory), or the output of `nginx -T`;
//! - [`route`]: location selection and what the selected location answers;
//! - [`patch`]: the patch that retires the legacy path with `return 410;`.
//!
//! Sources cited are files of github.com/nginx/nginx.

pub mod patch;
pub mod route;
pub mod syntax;

use day2_core::Problem;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use syntax::Directive;
use syntax::{IncludeError, SyntaxError};

/// Largest configuration file read (bytes); a `/dev/zero` given as a file stops here.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Most files one configuration may consist of (the main one and every include).
const MAX_FILES: usize = 2_000;
/// Deepest chain of includes; a cycle is reported before it is reached.
const MAX_INCLUDE_DEPTH: usize = 32;

/// One file of a configuration.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as nginx would name it (in an `nginx -T` dump, the dumped name).
    pub path: PathBuf,
    pub text: String,
    /// Whether the text came from that path on disk (not from an `nginx -T` dump),
    /// so that a patch can be written for it.
    pub on_disk: bool,
}

/// A whole configuration: its files and its directives, `include`s expanded in place.
#[derive(Debug, Clone)]
pub struct Config {
    pub files: Vec<SourceFile>,
    pub directives: Vec<Directive>,
    /// Things skipped while reading, said in words (a missing `mime.types`).
    pub notes: Vec<String>,
}

/// Why a configuration could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfError {
    pub file: String,
    /// 1-based; `None` when the file itself could not be read.
    pub line: Option<usize>,
    pub message: String,
}

impl ConfError {
    /// Whether the file could not be read at all (rather than understood).
    pub fn unreadable(&self) -> bool {
        self.line.is_none()
    }
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Reads a configuration file, at most [`MAX_FILE_BYTES`], from a path that may be a
/// pipe, with day2-core's capped reader. The message does not repeat the path: the
/// callers name it (`FILE: …`, `cannot read include FILE: …`). Errors:
/// `unreadable_input`.
fn read_conf(path: &Path) -> Result<String, Problem> {
    let unreadable = |message: String| Problem::new("unreadable_input", message);
    let mut file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let bytes = day2_core::input::read_capped(&mut file, "the file", MAX_FILE_BYTES)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The files of an `nginx -T` dump: nginx writes each as `# configuration file
/// NAME:` and a line feed, the file's bytes, and one more line feed
/// (`src/core/nginx.c`, `ngx_dump_config`). `None` when `text` is not a dump.
fn split_dump(text: &str) -> Option<Vec<(PathBuf, String)>> {
    const MARK: &str = "# configuration file ";
    let header = |line: &str| {
        line.strip_prefix(MARK)
            .and_then(|rest| rest.strip_suffix(':'))
            .map(PathBuf::from)
    };
    let first = text.lines().next()?;
    header(first)?;
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some(path) = header(line.trim_end_matches(['\n', '\r'])) {
            files.push((path, String::new()));
        } else if let Some((_, body)) = files.last_mut() {
            body.push_str(line);
        }
    }
    for (_, body) in &mut files {
        // The line feed nginx adds after each file.
        if body.ends_with('\n') {
            body.pop();
        }
    }
    Some(files)
}

/// Where the configuration's files come from.
enum Source {
    Disk,
    /// An `nginx -T` dump: file name → text.
    Dump(BTreeMap<PathBuf, String>),
}

struct Loader {
    source: Source,
    /// nginx's `conf_prefix`: the directory of the main configuration file, against
    /// which relative `include` paths resolve (`ngx_conf_include` →
    /// `ngx_conf_full_name(cycle, &file, 1)` in `src/core/ngx_conf_file.c`; the prefix
    /// is set in `ngx_process_options`, `src/core/nginx.c`).
    conf_prefix: PathBuf,
    files: Vec<SourceFile>,
    /// The chain of files being read, for cycles.
    reading: Vec<PathBuf>,
    notes: Vec<String>,
    /// Texts that replace files on disk (a patched configuration being checked).
    overrides: BTreeMap<PathBuf, String>,
}

impl Loader {
    fn read_disk(&self, path: &Path) -> Result<String, Problem> {
        match self.overrides.get(path) {
            Some(text) => Ok(text.clone()),
            None => read_conf(path),
        }
    }

    fn located(&self, file: usize, line: usize, message: impl Into<String>) -> IncludeError {
        IncludeError::Located {
            file: self.files[file].path.display().to_string(),
            line,
            message: message.into(),
        }
    }

    /// Reads, parses and returns the directives of one file.
    fn read_file(
        &mut self,
        path: PathBuf,
        text: String,
        on_disk: bool,
        depth: usize,
    ) -> Result<Vec<Directive>, IncludeError> {
        if self.files.len() >= MAX_FILES {
            return Err(IncludeError::Located {
                file: path.display().to_string(),
                line: 1,
                message: format!("more than {MAX_FILES} configuration files"),
            });
        }
        let index = self.files.len();
        self.files.push(SourceFile {
            path: path.clone(),
            text: text.clone(),
            on_disk,
        });
        self.reading.push(path);
        let result = syntax::parse(&text, index, depth, &mut |directive, depth| {
            self.include(index, directive, depth)
        });
        self.reading.pop();
        result.map_err(|err| match err {
            IncludeError::Syntax(SyntaxError { line, message }) => {
                self.located(index, line, message)
            }
            located => located,
        })
    }

    /// The directives an `include` stands for, in nginx's order (glob matches sorted,
    /// as glob(3) returns them; a glob matching nothing is no error, a missing plain
    /// file is).
    fn include(
        &mut self,
        from: usize,
        directive: &Directive,
        depth: usize,
    ) -> Result<Vec<Directive>, IncludeError> {
        let line = directive.line;
        if self.reading.len() >= MAX_INCLUDE_DEPTH {
            return Err(self.located(
                from,
                line,
                format!("includes nested deeper than {MAX_INCLUDE_DEPTH}"),
            ));
        }
        let pattern = self.conf_prefix.join(&directive.args[0]);
        let is_glob = directive.args[0].contains(['*', '?', '[']);
        let mut targets: Vec<(PathBuf, Result<String, Problem>, bool)> = Vec::new();
        match &self.source {
            Source::Disk if is_glob => {
                let matches = glob::glob_with(
                    &pattern.to_string_lossy(),
                    glob::MatchOptions {
                        case_sensitive: true,
                        require_literal_separator: true,
                        require_literal_leading_dot: true,
                    },
                )
                .map_err(|e| self.located(from, line, format!("invalid include glob: {e}")))?;
                let mut paths: Vec<PathBuf> = matches.filter_map(Result::ok).collect();
                paths.sort();
                for path in paths {
                    let text = self.read_disk(&path);
                    targets.push((path, text, true));
                }
            }
            Source::Disk => {
                let text = self.read_disk(&pattern);
                targets.push((pattern.clone(), text, true));
            }
            Source::Dump(files) if is_glob => {
                let glob = glob::Pattern::new(&pattern.to_string_lossy())
                    .map_err(|e| self.located(from, line, format!("invalid include glob: {e}")))?;
                for (path, text) in files {
                    if glob.matches_path_with(
                        path,
                        glob::MatchOptions {
                            case_sensitive: true,
                            require_literal_separator: true,
                            require_literal_leading_dot: true,
                        },
                    ) {
                        targets.push((path.clone(), Ok(text.clone()), false));
                    }
                }
            }
            Source::Dump(files) => {
                let text = files
                    .get(&pattern)
                    .cloned()
                    .ok_or_else(|| Problem::new("unreadable_input", "not in the nginx -T output"));
                targets.push((pattern.clone(), text, false));
            }
        }
        let mut directives = Vec::new();
        for (path, text, on_disk) in targets {
            if self.reading.contains(&path) {
                return Err(self.located(
                    from,
                    line,
                    format!("include cycle: {} includes itself", path.display()),
                ));
            }
            let text = match text {
                Ok(text) => text,
                // By convention `mime.types` holds only a `types` block; a checkout
                // without /etc/nginx should not stop the check for it.
                Err(err) if path.extension().is_some_and(|e| e == "types") => {
                    self.notes.push(format!(
                        "skipped include {} ({}:{line}): {err}",
                        path.display(),
                        self.files[from].path.display()
                    ));
                    continue;
                }
                Err(err) => {
                    return Err(self.located(
                        from,
                        line,
                        format!("cannot read include {}: {err}", path.display()),
                    ))
                }
            };
            directives.extend(self.read_file(path, text, on_disk, depth)?);
        }
        Ok(directives)
    }
}

/// Reads the configuration at `path`: a main configuration file (its includes
/// resolved against its directory, as `nginx -c path` does) or the output of
/// `nginx -T` (the includes are looked up among the dumped files).
pub fn load(path: &Path) -> Result<Config, ConfError> {
    load_with(path, &BTreeMap::new())
}

/// [`load`], with the texts of some files replaced (a patched configuration).
pub fn load_with(path: &Path, overrides: &BTreeMap<PathBuf, String>) -> Result<Config, ConfError> {
    let text = match overrides.get(path) {
        Some(text) => Ok(text.clone()),
        None => read_conf(path),
    }
    .map_err(|problem| ConfError {
        file: path.display().to_string(),
        line: None,
        message: problem.message,
    })?;
    let (source, main, main_text, on_disk) = match split_dump(&text) {
        Some(files) => {
            let (main, main_text) = files[0].clone();
            (
                Source::Dump(files.into_iter().collect()),
                main,
                main_text,
                false,
            )
        }
        None => (Source::Disk, path.to_path_buf(), text, true),
    };
    let conf_prefix = main.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut loader = Loader {
        source,
        conf_prefix,
        files: Vec::new(),
        reading: Vec::new(),
        notes: Vec::new(),
        overrides: overrides.clone(),
    };
    let directives = loader
        .read_file(main.clone(), main_text, on_disk, 0)
        .map_err(|err| match err {
            IncludeError::Located {
                file,
                line,
                message,
            } => ConfError {
                file,
                line: Some(line),
                message,
            },
            IncludeError::Syntax(SyntaxError { line, message }) => ConfError {
                file: main.display().to_string(),
                line: Some(line),
                message,
            },
        })?;
    let config = Config {
        files: loader.files,
        directives,
        notes: loader.notes,
    };
    if config.servers().is_empty() {
        return Err(ConfError {
            file: path.display().to_string(),
            line: Some(1),
            message: if config.directives.is_empty() {
                "no directives: an empty configuration answers nothing".into()
            } else {
                "no http server block: nothing here answers a request".into()
            },
        });
    }
    Ok(config)
}

/// Parses a configuration given as text (one file, no includes), for tests.
#[cfg(test)]
pub fn parse_text(name: &str, text: &str) -> Result<Config, ConfError> {
    let mut no_include = |d: &Directive, _: usize| -> Result<Vec<Directive>, IncludeError> {
        Err(IncludeError::Syntax(SyntaxError {
            line: d.line,
            message: "include is not followed here".into(),
        }))
    };
    let directives = syntax::parse(text, 0, 0, &mut no_include).map_err(|err| match err {
        IncludeError::Syntax(SyntaxError { line, message })
        | IncludeError::Located { line, message, .. } => ConfError {
            file: name.into(),
            line: Some(line),
            message,
        },
    })?;
    Ok(Config {
        files: vec![SourceFile {
            path: PathBuf::from(name),
            text: text.into(),
            on_disk: false,
        }],
        directives,
        notes: Vec::new(),
    })
}

/// One `server` block of the `http` module.
#[derive(Debug, Clone, Copy)]
pub struct Server<'c> {
    pub block: &'c Directive,
    /// The enclosing `http` block (`None` for a `server` block at the top of a file
    /// given on its own, such as a `conf.d/*.conf` snippet).
    pub http: Option<&'c Directive>,
}

impl<'c> Server<'c> {
    /// The arguments of every `listen`.
    pub fn listen(&self) -> Vec<String> {
        self.values("listen")
    }

    /// The names of every `server_name`.
    pub fn server_names(&self) -> Vec<String> {
        self.values("server_name")
    }

    fn values(&self, name: &str) -> Vec<String> {
        self.block
            .children
            .iter()
            .filter(|d| d.name == name)
            .map(|d| d.args.join(" "))
            .collect()
    }
}

impl Config {
    /// `file:line` of a directive.
    pub fn place(&self, directive: &Directive) -> String {
        format!(
            "{}:{}",
            self.files[directive.file].path.display(),
            directive.line
        )
    }

    /// The `server` blocks of the `http` blocks (or at the top level of a snippet);
    /// `server` inside `upstream` or `stream` is something else.
    pub fn servers(&self) -> Vec<Server<'_>> {
        let mut servers = Vec::new();
        for directive in &self.directives {
            match directive.name.as_str() {
                "http" if directive.block => {
                    for child in &directive.children {
                        if child.name == "server" && child.block {
                            servers.push(Server {
                                block: child,
                                http: Some(directive),
                            });
                        }
                    }
                }
                "server" if directive.block => servers.push(Server {
                    block: directive,
                    http: None,
                }),
                _ => {}
            }
        }
        servers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn includes_resolve_against_the_configuration_directory_in_glob_order() {
        let dir = tempfile::tempdir().unwrap();
        let main = write(
            dir.path(),
            "etc/nginx.conf",
            "http {\n    include conf.d/*.conf;\n    include missing.d/*.conf;\n}\n",
        );
        write(dir.path(), "etc/conf.d/b.conf", "server { listen 2; }\n");
        write(dir.path(), "etc/conf.d/a.conf", "server { listen 1; }\n");
        write(
            dir.path(),
            "etc/conf.d/.hidden.conf",
            "server { listen 3; }\n",
        );
        let config = load(&main).unwrap();
        let listens: Vec<Vec<String>> = config.servers().iter().map(|s| s.listen()).collect();
        assert_eq!(listens, vec![vec!["1"], vec!["2"]]);
        assert_eq!(
            config.place(config.servers()[1].block),
            format!("{}:1", dir.path().join("etc/conf.d/b.conf").display())
        );
    }

    #[test]
    fn a_missing_include_a_cycle_and_errors_inside_includes_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let main = write(dir.path(), "nginx.conf", "http {\n    include x.conf;\n}\n");
        let err = load(&main).unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.message.contains("cannot read include"), "{err}");
        write(dir.path(), "x.conf", "server {\n    listen 80\n}\n");
        let err = load(&main).unwrap_err();
        assert!(
            err.to_string().ends_with("x.conf:3: unexpected \"}\""),
            "{err}"
        );
        write(dir.path(), "x.conf", "include nginx.conf;\n");
        let err = load(&main).unwrap_err();
        assert!(err.message.contains("include cycle"), "{err}");
    }

    /// `/dev/zero` as the configuration, or as an include, ends at the cap of
    /// day2-core's capped reader with the file named once.
    #[test]
    fn an_endless_file_stops_at_the_cap() {
        let err = load(Path::new("/dev/zero")).unwrap_err();
        assert!(err.unreadable());
        assert_eq!(
            err.to_string(),
            "/dev/zero: cannot read the file: larger than 16 MiB"
        );
        let dir = tempfile::tempdir().unwrap();
        let main = write(
            dir.path(),
            "nginx.conf",
            "http {\n    include /dev/zero;\n}\n",
        );
        let err = load(&main).unwrap_err().to_string();
        assert!(
            err.ends_with("nginx.conf:2: cannot read include /dev/zero: cannot read the file: larger than 16 MiB"),
            "{err}"
        );
    }

    #[test]
    fn empty_or_serverless_configurations_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let empty = write(dir.path(), "empty.conf", "# nothing\n");
        assert!(load(&empty).unwrap_err().message.contains("empty"));
        let upstream_only = write(
            dir.path(),
            "u.conf",
            "http { upstream b { server 127.0.0.1:1; } }\nstream { server { listen 9; } }\n",
        );
        assert!(load(&upstream_only)
            .unwrap_err()
            .message
            .contains("no http server"));
        let err = load(&dir.path().join("absent.conf")).unwrap_err();
        assert!(err.unreadable());
    }

    #[test]
    fn an_nginx_t_dump_is_read_as_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let dump = write(
            dir.path(),
            "dump.txt",
            "# configuration file /etc/nginx/nginx.conf:\nhttp {\n    include /etc/nginx/conf.d/*.conf;\n}\n\n# configuration file /etc/nginx/conf.d/app.conf:\nserver {\n    location /status/ { proxy_pass http://b; }\n}\n\n",
        );
        let config = load(&dump).unwrap();
        let servers = config.servers();
        assert_eq!(servers.len(), 1);
        assert_eq!(
            config.place(&servers[0].block.children[0]),
            "/etc/nginx/conf.d/app.conf:2"
        );
        assert!(!config.files[1].on_disk);
    }
}
