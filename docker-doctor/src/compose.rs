//! The compose project to look at when none is given: the one `docker compose` would
//! use in the current directory. Compose v2 (compose-spec/compose-go) is the referee:
//!
//! 1. `--project` (compose's `-p`), else `COMPOSE_PROJECT_NAME` from the environment,
//!    else from the `.env` file of the working directory; a non-empty value is taken
//!    as it is and must already be a valid name (cli/options.go
//!    `withNamePrecedenceLoad`, loader/loader.go `projectName`: "invalid project name").
//! 2. The compose files: `COMPOSE_FILE` (split on `COMPOSE_PATH_SEPARATOR`, default
//!    `:`), else the first of `compose.yaml`, `compose.yml`, `docker-compose.yml`,
//!    `docker-compose.yaml` (cli/options.go `DefaultFileNames`, in that order of
//!    preference) in the current directory or the nearest parent that has one
//!    (`WithDefaultConfigPath`), with the first of `compose.override.yml`,
//!    `compose.override.yaml`, `docker-compose.override.yml`,
//!    `docker-compose.override.yaml` beside it (`DefaultOverrideFileNames`).
//! 3. The working directory is the first compose file's (`GetWorkingDir`); its
//!    `.env` is read unless `COMPOSE_DISABLE_ENV_FILE` is true (`WithEnvFiles`), and
//!    the process environment wins over it (`types.Mapping.Merge`).
//! 4. The top-level `name:` of the compose files, the last non-empty one winning,
//!    interpolated (`${VAR}`, `${VAR:-default}`, …) and normalised (`projectName`).
//! 5. Else the working directory's base name, normalised: lower case, only
//!    `[a-z0-9_-]` kept, leading `_` and `-` trimmed (`NormalizeProjectName`).
//!
//! Compose v1 (docker-compose 1.x) differs: it looks for `docker-compose.yml` first
//! and knows no `name:`; a stack started by v1 from a file with a `name:` is found with
//! `--project`.
//!
//! With nothing given and no compose file found, compose itself has no project ("no
//! configuration file provided"); docker-doctor then skips the stack check.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use day2_core::bounded::quoted;
use day2_core::Problem;

/// Compose's auto-discovered file names, in its order of preference.
pub const DEFAULT_FILE_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// Compose's override file names, in its order of preference.
pub const DEFAULT_OVERRIDE_FILE_NAMES: [&str; 4] = [
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// Where the project name came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--project` or `COMPOSE_PROJECT_NAME` in the environment.
    Given,
    /// `COMPOSE_PROJECT_NAME` in the working directory's `.env`.
    DotEnv(PathBuf),
    /// The `name:` of this compose file.
    ComposeName(PathBuf),
    /// The base name of the directory of this compose file.
    ComposeDirectory(PathBuf),
}

impl Source {
    /// A short description for records: `option`, `.env`, `name`, `directory`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Given => "option",
            Source::DotEnv(_) => ".env",
            Source::ComposeName(_) => "name",
            Source::ComposeDirectory(_) => "directory",
        }
    }

    /// The file that decided, if any.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Source::Given => None,
            Source::DotEnv(p) | Source::ComposeName(p) | Source::ComposeDirectory(p) => Some(p),
        }
    }
}

/// The project compose would use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub name: String,
    pub source: Source,
}

/// Resolves the project as compose does from `cwd`, with `given` the value of
/// `--project`/`COMPOSE_PROJECT_NAME` (empty counts as unset, as in compose) and `env`
/// the process environment. `Ok(None)`: nothing given and no compose file found.
/// Errors (usage errors) are one line naming the file: `invalid_project` (an invalid
/// or empty name, a `name:` that does not interpolate), `unreadable_input` (a compose
/// or env file that cannot be read), `invalid_compose_file` (not YAML, a `name:` that
/// is not a string).
pub fn resolve(
    given: Option<&str>,
    cwd: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Project>, Problem> {
    if let Some(name) = given.filter(|n| !n.is_empty()) {
        return valid(name, "--project/COMPOSE_PROJECT_NAME").map(|name| {
            Some(Project {
                name,
                source: Source::Given,
            })
        });
    }
    let files = compose_files(cwd, env);
    let working_dir = files
        .first()
        .and_then(|f| f.parent())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| cwd.to_path_buf());
    let dotenv = dot_env(&working_dir, env)?;
    let lookup = |name: &str| env(name).or_else(|| dotenv.vars.get(name).cloned());
    if let Some(name) = dotenv
        .vars
        .get("COMPOSE_PROJECT_NAME")
        .filter(|n| !n.is_empty())
    {
        if env("COMPOSE_PROJECT_NAME").is_none_or(|n| n.is_empty()) {
            let shown = format!("{} (COMPOSE_PROJECT_NAME)", dotenv.path.display());
            return valid(name, &shown).map(|name| {
                Some(Project {
                    name,
                    source: Source::DotEnv(dotenv.path.clone()),
                })
            });
        }
    }
    let Some(first) = files.first() else {
        return Ok(None);
    };
    let mut named = None;
    for file in &files {
        if let Some(name) = file_name_key(file)? {
            let name = interpolate(&name, &lookup)
                .map_err(|e| invalid_project(format!("{}: name: {e}", file.display())))?;
            let name = normalize(&name);
            if !name.is_empty() {
                named = Some((name, file.clone()));
            }
        }
    }
    if let Some((name, file)) = named {
        return Ok(Some(Project {
            name,
            source: Source::ComposeName(file),
        }));
    }
    let base = working_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = normalize(&base);
    if name.is_empty() {
        return Err(invalid_project(format!(
            "{}: the project name must not be empty (the directory {} gives none): use --project",
            first.display(),
            quoted(&working_dir.display().to_string())
        )));
    }
    Ok(Some(Project {
        name,
        source: Source::ComposeDirectory(first.clone()),
    }))
}

/// compose-go `NormalizeProjectName`: lower case, keep `[a-z0-9_-]`, trim leading
/// `_` and `-`.
pub fn normalize(name: &str) -> String {
    let kept: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    kept.trim_start_matches(['_', '-']).to_owned()
}

/// A name given imperatively must already be normal (compose-go `InvalidProjectNameErr`).
fn valid(name: &str, from: &str) -> Result<String, Problem> {
    if normalize(name) == name {
        Ok(name.to_owned())
    } else {
        Err(invalid_project(format!(
            "{from}: invalid project name {}: must consist only of lowercase alphanumeric \
             characters, hyphens, and underscores as well as start with a letter or number",
            quoted(name)
        )))
    }
}

/// A project name compose would refuse.
fn invalid_project(message: String) -> Problem {
    Problem::new("invalid_project", message)
}

/// The compose files compose would load from `cwd`.
fn compose_files(cwd: &Path, env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    if let Some(list) = env("COMPOSE_FILE") {
        let separator = env("COMPOSE_PATH_SEPARATOR")
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| ":".into());
        return list
            .split(separator.as_str())
            .filter(|f| !f.is_empty() && *f != "-")
            .map(|f| cwd.join(f))
            .collect();
    }
    let mut dir = Some(cwd);
    while let Some(here) = dir {
        let found = |names: &[&str]| names.iter().map(|n| here.join(n)).find(|p| p.exists());
        if let Some(file) = found(&DEFAULT_FILE_NAMES) {
            let mut files = vec![file];
            files.extend(found(&DEFAULT_OVERRIDE_FILE_NAMES));
            return files;
        }
        dir = here.parent();
    }
    Vec::new()
}

/// The cap of the `.env` and of a compose file read whole: 16 MiB, far above any
/// real compose project.
pub const INPUT_LIMIT: u64 = day2_core::input::DEFAULT_LIMIT;

struct DotEnv {
    path: PathBuf,
    vars: HashMap<String, String>,
}

/// The working directory's `.env`: `KEY=value` lines, `export ` allowed, `#` comments,
/// values in single or double quotes; enough for `COMPOSE_PROJECT_NAME` and the
/// variables a `name:` interpolates.
fn dot_env(dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<DotEnv, Problem> {
    let path = dir.join(".env");
    let mut vars = HashMap::new();
    let disabled = env("COMPOSE_DISABLE_ENV_FILE")
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "t" | "true"));
    // A FIFO is read like a file; a directory or nothing is no `.env`.
    if disabled || !path.exists() || path.is_dir() {
        return Ok(DotEnv { path, vars });
    }
    // Capped and read as a stream: `/dev/zero` is a one-line error, not memory.
    let text = day2_core::input::read_text(&path, "env file", INPUT_LIMIT)?;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let value = match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or("").to_owned(),
            _ => value.split(" #").next().unwrap_or("").trim().to_owned(),
        };
        vars.insert(key.trim().to_owned(), value);
    }
    Ok(DotEnv { path, vars })
}

/// The top-level `name:` of a compose file, as a string.
fn file_name_key(file: &Path) -> Result<Option<String>, Problem> {
    #[derive(serde::Deserialize)]
    struct Named {
        #[serde(default)]
        name: Option<serde_json::Value>,
    }
    let text = day2_core::input::read_text(file, "compose file", INPUT_LIMIT)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    let named: Named = serde_saphyr::from_str(&text).map_err(|e| {
        let message = e.to_string();
        let first = message.lines().next().unwrap_or("not YAML");
        Problem::new(
            "invalid_compose_file",
            format!("{}: {first}", file.display()),
        )
    })?;
    Ok(match named.name {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(other @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => {
            Some(other.to_string())
        }
        Some(_) => {
            return Err(Problem::new(
                "invalid_compose_file",
                format!("{}: name: must be a string", file.display()),
            ))
        }
    })
}

/// Compose's interpolation of a value: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`,
/// `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`, `${VAR:?err}`, `${VAR?err}`
/// (compose-spec/compose-go template/template.go). A port of another program: its
/// error stays a `String`, the message put in the caller's problem (ARCHITECTURE.md).
pub fn interpolate(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
        } else if let Some(braced) = rest.strip_prefix('{') {
            let end =
                closing_brace(braced).ok_or_else(|| format!("unclosed ${{ in {}", quoted(text)))?;
            out.push_str(&substitute(&braced[..end], lookup)?);
            rest = &braced[end + 1..];
        } else {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if len == 0 {
                return Err(format!("invalid $ in {}", quoted(text)));
            }
            out.push_str(&lookup(&rest[..len]).unwrap_or_default());
            rest = &rest[len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The index of the `}` that closes a `${`, nested `${…}` included.
fn closing_brace(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'{' if i > 0 && bytes[i - 1] == b'$' => depth += 1,
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn substitute(expr: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let len = expr
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(expr.len());
    let (name, op) = expr.split_at(len);
    if name.is_empty() {
        return Err(format!("invalid variable in ${{{expr}}}"));
    }
    let value = lookup(name);
    let set = value.is_some();
    let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
    let nested = |word: &str| interpolate(word, lookup);
    let value = value.unwrap_or_default();
    Ok(match op {
        "" => value,
        _ if op.starts_with(":-") => {
            if non_empty {
                value
            } else {
                nested(&op[2..])?
            }
        }
        _ if op.starts_with('-') => {
            if set {
                value
            } else {
                nested(&op[1..])?
            }
        }
        _ if op.starts_with(":+") => {
            if non_empty {
                nested(&op[2..])?
            } else {
                String::new()
            }
        }
        _ if op.starts_with('+') => {
            if set {
                nested(&op[1..])?
            } else {
                String::new()
            }
        }
        _ if op.starts_with(":?") => {
            if non_empty {
                value
            } else {
                return Err(format!(
                    "required variable {name} is missing a value: {}",
                    &op[2..]
                ));
            }
        }
        _ if op.starts_with('?') => {
            if set {
                value
            } else {
                return Err(format!(
                    "required variable {name} is missing a value: {}",
                    &op[1..]
                ));
            }
        }
        _ => return Err(format!("invalid substitution ${{{expr}}}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// compose-go cli/options_test.go `TestProjectName`: "by compose file parent dir
    /// special" (`UNNORMALIZED PATH` → `unnormalizedpath`) and the invalid names.
    #[test]
    fn names_are_normalised_and_given_names_validated_as_compose_does() {
        assert_eq!(normalize("UNNORMALIZED PATH"), "unnormalizedpath");
        assert_eq!(normalize("_-My.App-2"), "myapp-2");
        assert_eq!(normalize("/"), "");
        for bad in ["-my_project", "_my_project", "www.my.project", "MY_PROJECT"] {
            let err = resolve(Some(bad), Path::new("/"), &no_env).unwrap_err();
            assert_eq!(err.reason(), "invalid_project");
            assert!(
                err.message
                    .contains(&format!("invalid project name {bad:?}")),
                "{err}"
            );
        }
        let ok = resolve(Some("42my_project_num"), Path::new("/"), &no_env).unwrap();
        assert_eq!(ok.unwrap().name, "42my_project_num");
    }

    #[test]
    fn the_lookup_order_is_composes() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("My Deploy");
        // Every default name present: compose.yaml wins, with the first override beside it.
        for name in DEFAULT_FILE_NAMES {
            write(
                &dir,
                name,
                &format!("name: from-{}\n", name.replace('.', "-")),
            );
        }
        write(&dir, "compose.override.yaml", "name: ${OVERRIDE:-}\n");
        write(&dir, "docker-compose.override.yml", "name: never\n");
        let sub = dir.join("app/src");
        std::fs::create_dir_all(&sub).unwrap();
        let found = resolve(None, &sub, &no_env).unwrap().unwrap();
        assert_eq!(found.name, "from-compose-yaml");
        assert_eq!(found.source, Source::ComposeName(dir.join("compose.yaml")));
        // The override comes later and wins when its name is not empty.
        let env = |k: &str| (k == "OVERRIDE").then(|| "Over.Ride".to_owned());
        let found = resolve(None, &sub, &env).unwrap().unwrap();
        assert_eq!(found.name, "override");
        std::fs::remove_file(dir.join("compose.yaml")).unwrap();
        std::fs::remove_file(dir.join("compose.override.yaml")).unwrap();
        let found = resolve(None, &dir, &no_env).unwrap().unwrap();
        assert_eq!(
            found.name, "never",
            "docker-compose.override.yml beside compose.yml"
        );
        std::fs::remove_file(dir.join("docker-compose.override.yml")).unwrap();
        assert_eq!(
            resolve(None, &dir, &no_env).unwrap().unwrap().name,
            "from-compose-yml"
        );
        std::fs::remove_file(dir.join("compose.yml")).unwrap();
        assert_eq!(
            resolve(None, &dir, &no_env).unwrap().unwrap().name,
            "from-docker-compose-yml"
        );
        // No name: the compose file's directory, normalised.
        std::fs::remove_file(dir.join("docker-compose.yaml")).unwrap();
        write(&dir, "docker-compose.yml", "services: {}\n");
        let found = resolve(None, &sub, &no_env).unwrap().unwrap();
        assert_eq!(found.name, "mydeploy");
        assert_eq!(
            found.source,
            Source::ComposeDirectory(dir.join("docker-compose.yml"))
        );
        // The environment beats the files; an empty value is unset.
        let env = |k: &str| (k == "X").then(String::new);
        assert_eq!(
            resolve(Some(""), &sub, &env).unwrap().unwrap().name,
            "mydeploy"
        );
        assert_eq!(
            resolve(Some("prod"), &sub, &no_env)
                .unwrap()
                .unwrap()
                .source,
            Source::Given
        );
    }

    /// compose-go cli/options_test.go "by .env" and "by name in compose.yaml with variable".
    #[test]
    fn dot_env_and_interpolated_names() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("env-file");
        write(
            &dir,
            "compose.yaml",
            "name: test-${TEST}-test\nservices: {}\n",
        );
        write(&dir, ".env", "PORT=8000\nTEST=expected\n");
        assert_eq!(
            resolve(None, &dir, &no_env).unwrap().unwrap().name,
            "test-expected-test"
        );
        write(
            &dir,
            ".env",
            "# comment\nexport COMPOSE_PROJECT_NAME=\"my_project_from_dot_env\"\n",
        );
        let found = resolve(None, &dir, &no_env).unwrap().unwrap();
        assert_eq!(found.name, "my_project_from_dot_env");
        assert_eq!(found.source, Source::DotEnv(dir.join(".env")));
        let env = |k: &str| (k == "COMPOSE_DISABLE_ENV_FILE").then(|| "true".to_owned());
        assert_eq!(
            resolve(None, &dir, &env).unwrap().unwrap().name,
            "test--test"
        );
        write(&dir, ".env", "COMPOSE_PROJECT_NAME=Bad.Name\n");
        let err = resolve(None, &dir, &no_env).unwrap_err();
        assert!(
            err.message
                .contains(".env (COMPOSE_PROJECT_NAME): invalid project name"),
            "{err}"
        );
    }

    #[test]
    fn no_compose_file_is_no_project_and_a_broken_one_an_error() {
        let root = tempfile::tempdir().unwrap();
        assert_eq!(resolve(None, root.path(), &no_env).unwrap(), None);
        write(root.path(), "compose.yaml", "name: [a\n");
        let err = resolve(None, root.path(), &no_env).unwrap_err();
        assert!(
            err.message
                .starts_with(&format!("{}:", root.path().join("compose.yaml").display())),
            "{err}"
        );
        write(root.path(), "compose.yaml", "name: ${X:?set X}\n");
        let err = resolve(None, root.path(), &no_env).unwrap_err();
        assert!(err.message.contains("required variable X"), "{err}");
        let env = |k: &str| (k == "COMPOSE_FILE").then(|| "a.yml:b.yml".to_owned());
        write(root.path(), "a.yml", "name: first\n");
        write(root.path(), "b.yml", "services: {}\n");
        assert_eq!(
            resolve(None, root.path(), &env).unwrap().unwrap().name,
            "first"
        );
    }

    #[test]
    fn interpolation_follows_composes_operators() {
        let env = |k: &str| match k {
            "SET" => Some("v".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        let cases = [
            ("a$$b", "a$b"),
            ("$SET-x", "v-x"),
            ("${SET}", "v"),
            ("${UNSET:-d}", "d"),
            ("${EMPTY:-d}", "d"),
            ("${EMPTY-d}", ""),
            ("${UNSET-d}", "d"),
            ("${SET:+alt}", "alt"),
            ("${EMPTY+alt}", "alt"),
            ("${EMPTY:+alt}", ""),
            ("${UNSET:-${SET}}", "v"),
        ];
        for (text, want) in cases {
            assert_eq!(interpolate(text, &env).unwrap(), want, "{text}");
        }
        assert!(interpolate("${UNSET:?needed}", &env).is_err());
        assert!(interpolate("${", &env).is_err());
    }
}
