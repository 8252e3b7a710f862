//! `cargo xtask dist`: shell completions (bash, zsh, fish) and man pages for every
//! tool, generated from the same clap definitions the binaries parse with.
//!
//! - **bash**: clap_complete names the states of its completion function from the
//!   binary's name and spells a hyphenated name two ways (the loop writes
//!   `prune__review__subcmd__apply`, the `case` arms `prune__subcmd__review__subcmd__apply`),
//!   so nothing after a subcommand completes for prune-review, sri-check and
//!   tunnel-check: clap-rs/clap#6421 (also #6386; the fix, #6428, is not in a release).
//!   The scripts are generated for the name with `_` for `-`, where both spellings
//!   agree (and the function name is one POSIX-mode bash accepts, clap-rs/clap#6468),
//!   then registered for the real command name.
//! - **`cargo xtask`**: cargo's completions hand an external subcommand to the
//!   completion of `cargo-xtask` (rustup's zsh `_cargo` calls `_cargo-xtask`;
//!   bash-completion 2.12 and later complete `cargo-xtask`); the scripts also complete
//!   `cargo xtask …` themselves where that is missing (older bash-completion, no
//!   `_cargo` in zsh, fish through `__fish_complete_subcommand`).
//! - **man pages**: one page per command and subcommand (`prune-review-apply.1`, which
//!   the parent page lists), with EXIT STATUS, ENVIRONMENT, EXAMPLES (from each
//!   `--help`) and SEE ALSO.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;
use day2_core::exit::{examples_of, EXIT_CODES};
use day2_core::record::{Record, RecordSink};
use day2_core::{Exit, Io, Problem};
use roff::{bold, roman, Roff};

#[derive(Debug, clap::Args)]
pub struct DistArgs {
    /// Where to write `completions/` and `man/`.
    #[arg(long, default_value = "target/dist", value_name = "DIR")]
    pub out_dir: PathBuf,
}

/// Every binary's command definition, by binary name.
pub fn commands() -> Vec<clap::Command> {
    vec![
        status_probe::Args::command(),
        legacy_sampler::Args::command(),
        sri_check::Args::command(),
        prune_review::Args::command(),
        docker_doctor::Args::command(),
        tunnel_check::Args::command(),
        crate::Args::command(),
    ]
}

/// How people call a command: `cargo xtask` for the xtask, its own name otherwise.
fn completed_name(name: &str) -> &str {
    if name == crate::TOOL {
        "cargo-xtask"
    } else {
        name
    }
}

/// The bash completion of `command` for the command name `name`, working around
/// clap-rs/clap#6421 (see the module's documentation). Error (`write_failed`): the
/// script is not UTF-8 or no longer ends as the workaround expects.
pub fn bash(command: &clap::Command, name: &str) -> Result<String, Problem> {
    let safe = name.replace('-', "_");
    let mut script = Vec::new();
    clap_complete::generate(Shell::Bash, &mut command.clone(), &safe, &mut script);
    let script =
        String::from_utf8(script).map_err(|e| Problem::new(WRITE_FAILED, e.to_string()))?;
    let registration = format!(" -o bashdefault -o default {safe}\n");
    if script.matches(&registration).count() != 2 {
        return Err(Problem::new(WRITE_FAILED, format!(
            "clap_complete's bash script for {name} no longer ends as expected: check the workaround of clap-rs/clap#6421"
        )));
    }
    Ok(script.replace(
        &registration,
        &format!(" -o bashdefault -o default {name}\n"),
    ))
}

/// `cargo xtask …` in bash: cargo's completion is kept for everything else (loaded
/// the way bash-completion loads it, then called).
const BASH_CARGO: &str = r#"
# `cargo xtask …`: bash-completion 2.12 and later hand it to `cargo-xtask` above;
# before that, and without cargo's completion, this does.
_day2_cargo() {
    if [[ ${COMP_CWORD} -ge 2 && ${COMP_WORDS[1]} == xtask ]]; then
        local -a COMP_WORDS=("cargo-xtask" "${COMP_WORDS[@]:2}")
        local COMP_CWORD=$((COMP_CWORD - 1))
        _cargo_xtask cargo-xtask "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        return
    fi
    if ! declare -F _cargo >/dev/null && declare -F __load_completion >/dev/null; then
        __load_completion cargo
        complete -F _day2_cargo -o bashdefault -o default cargo
    fi
    if declare -F _cargo >/dev/null; then
        _cargo "$@"
    elif [[ ${COMP_CWORD} -eq 1 ]]; then
        COMPREPLY=( $(compgen -W "xtask" -- "${COMP_WORDS[1]}") )
    fi
}
complete -F _day2_cargo -o bashdefault -o default cargo
"#;

/// `cargo xtask …` in zsh without cargo's own `_cargo` (rustup's calls `_cargo-xtask`).
const ZSH_CARGO: &str = r#"
# `cargo xtask …`: cargo's _cargo (rustup's) calls _cargo-xtask for the external
# subcommand; without it, this does.
if (( ! $+functions[_cargo] )); then
    _day2_cargo() {
        if (( CURRENT > 2 )) && [[ ${words[2]} == xtask ]]; then
            shift words
            (( CURRENT-- ))
            _cargo-xtask
        else
            _arguments '1: :(xtask)'
        fi
    }
    compdef _day2_cargo cargo
fi
"#;

/// `cargo xtask …` in fish: what follows `cargo` completes as the `xtask` command.
const FISH_CARGO: &str = "
# `cargo xtask …`: the words after `cargo` complete as the `xtask` command above.
complete -c cargo -n '__fish_seen_subcommand_from xtask' -f -a '(__fish_complete_subcommand --fcs-skip=1)'
";

/// The completion scripts of one command: (file name, script). Error
/// (`write_failed`): a script that is not UTF-8, or [`bash`]'s.
pub fn completions(command: &clap::Command) -> Result<Vec<(String, String)>, Problem> {
    let name = command.get_name().to_owned();
    let called = completed_name(&name);
    let generate = |shell: Shell, bin: &str| {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut command.clone(), bin, &mut out);
        String::from_utf8(out).map_err(|e| Problem::new(WRITE_FAILED, e.to_string()))
    };
    let mut bash_script = bash(command, called)?;
    let mut zsh = generate(Shell::Zsh, called)?;
    // fish completes `cargo xtask` as the `xtask` command (see FISH_CARGO).
    let mut fish = generate(Shell::Fish, &name)?;
    if name == crate::TOOL {
        bash_script.push_str(BASH_CARGO);
        zsh.push_str(ZSH_CARGO);
        fish.push_str(FISH_CARGO);
    }
    Ok(vec![
        (format!("{called}.bash"), bash_script),
        (format!("_{called}"), zsh),
        (format!("{called}.fish"), fish),
    ])
}

/// The man page of `command` (built, so subcommands carry their display names such
/// as `prune-review-apply`), and those of its subcommands: (file name, page).
pub fn man_pages(command: &clap::Command) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut command = command.clone().disable_help_subcommand(true);
    command.build();
    let all: Vec<String> = commands().iter().map(|c| c.get_name().to_owned()).collect();
    let mut pages = Vec::new();
    page_tree(&command, None, &all, &mut pages)?;
    Ok(pages)
}

fn page_tree(
    command: &clap::Command,
    parent: Option<&str>,
    tools: &[String],
    pages: &mut Vec<(String, Vec<u8>)>,
) -> std::io::Result<()> {
    let title = command
        .get_display_name()
        .unwrap_or_else(|| command.get_name())
        .to_owned();
    let man = clap_mangen::Man::new(command.clone())
        .title(title.clone())
        .manual("day2 manual")
        .source(format!("day2 {}", env!("CARGO_PKG_VERSION")));
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    if command.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut page)?;
    }
    let subcommands: Vec<&clap::Command> = command
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .collect();
    if !subcommands.is_empty() {
        man.render_subcommands_section(&mut page)?;
    }
    let mut roff = Roff::new();
    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in EXIT_CODES {
        roff.control("TP", [])
            .text([bold(code.to_string())])
            .text([roman(meaning)]);
    }
    roff.control("SH", ["ENVIRONMENT"]);
    for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
        if let Some(variable) = arg.get_env() {
            let flag = arg
                .get_long()
                .map(|l| format!(" (--{l})"))
                .unwrap_or_default();
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            roff.control("TP", [])
                .text([bold(variable.to_string_lossy()), roman(flag)])
                .text([roman(help)]);
        }
    }
    roff.control("TP", [])
        .text([bold("NO_COLOR")])
        .text([roman(
            "Set to anything non-empty: no colour in the text view (--format text) unless --color always.",
        )]);
    let examples = command
        .get_after_help()
        .map(|h| h.to_string())
        .unwrap_or_default();
    let examples = examples_of(&examples);
    if !examples.is_empty() {
        roff.control("SH", ["EXAMPLES"]);
        roff.control("nf", []).control("RS", ["4"]);
        for example in examples {
            roff.text([roman(example)]);
        }
        roff.control("RE", []).control("fi", []);
    }
    roff.control("SH", ["SEE ALSO"]);
    let mut see = Vec::new();
    if let Some(parent) = parent {
        see.push(format!("{parent}(1)"));
    }
    see.extend(
        subcommands
            .iter()
            .map(|s| format!("{}(1)", s.get_display_name().unwrap_or(s.get_name()))),
    );
    see.extend(
        tools
            .iter()
            .filter(|t| !title.starts_with(t.as_str()))
            .map(|t| format!("{t}(1)")),
    );
    roff.text([roman(see.join(", "))]);
    roff.to_writer(&mut page)?;
    pages.push((format!("{title}.1"), page));
    for sub in subcommands {
        page_tree(sub, Some(&title), tools, pages)?;
    }
    Ok(())
}

/// What was written for one command: completions, then man pages.
fn write_one(
    command: &clap::Command,
    out_dir: &Path,
) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Problem> {
    let completions_dir = out_dir.join("completions");
    let man_dir = out_dir.join("man");
    let io = |what: &Path, e: std::io::Error| {
        Problem::new(WRITE_FAILED, format!("{}: {e}", what.display()))
    };
    std::fs::create_dir_all(&completions_dir).map_err(|e| io(&completions_dir, e))?;
    std::fs::create_dir_all(&man_dir).map_err(|e| io(&man_dir, e))?;
    let mut scripts = Vec::new();
    for (file, script) in completions(command)? {
        let path = completions_dir.join(file);
        std::fs::write(&path, script).map_err(|e| io(&path, e))?;
        scripts.push(path);
    }
    let mut pages = Vec::new();
    for (file, page) in man_pages(command).map_err(|e| Problem::new(WRITE_FAILED, e.to_string()))? {
        let path = man_dir.join(file);
        std::fs::write(&path, page).map_err(|e| io(&path, e))?;
        pages.push(path);
    }
    Ok((scripts, pages))
}

/// The reason of a `dist` error record: a script or page that could not be made
/// or written.
const WRITE_FAILED: &str = "write_failed";

pub fn run(args: &DistArgs, io: &mut Io<'_>) -> Exit {
    let mut sink = RecordSink::new(crate::TOOL, io.stdout);
    let mut written = (0, 0);
    for command in commands() {
        let name = command.get_name().to_owned();
        let record = match write_one(&command, &args.out_dir) {
            Ok((scripts, pages)) => {
                written.0 += scripts.len();
                written.1 += pages.len();
                Record::pass("dist", &name)
                    .data(serde_json::json!({ "completions": scripts, "man": pages }))
            }
            Err(problem) => problem.into_record("dist", &name),
        };
        if sink.emit(record).is_err() {
            return sink.exit();
        }
    }
    let exit = sink.exit();
    if exit == Exit::Ok {
        let out = args.out_dir.display();
        let _ = write!(
            io.stderr,
            "\
xtask: wrote {} completion scripts to {out}/completions and {} man pages to {out}/man
install them (system-wide as here, or per user):
  bash: cp {out}/completions/*.bash /usr/share/bash-completion/completions/   (loaded by command name)
        `cargo xtask`: add `source {out}/completions/cargo-xtask.bash` to ~/.bashrc
  zsh:  cp {out}/completions/_* /usr/local/share/zsh/site-functions/   (a directory of $fpath), then compinit
  fish: cp {out}/completions/*.fish ~/.config/fish/completions/ && mv ~/.config/fish/completions/cargo-xtask.fish ~/.config/fish/conf.d/
  man:  cp {out}/man/*.1 /usr/local/share/man/man1/ && mandb   (then e.g. man prune-review-apply)
",
            written.0, written.1
        );
    }
    exit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_has_the_unix_sections_and_every_page_pointed_to_exists() {
        let mut pages = Vec::new();
        for command in commands() {
            pages.extend(man_pages(&command).unwrap());
        }
        let names: Vec<String> = pages.iter().map(|(n, _)| n.clone()).collect();
        for must in [
            "prune-review-apply.1",
            "sri-check-generate.1",
            "tunnel-check-redact.1",
            "xtask-cutover.1",
        ] {
            assert!(names.iter().any(|n| n == must), "{must} in {names:?}");
        }
        let reference = regex::Regex::new(r"([a-z][a-z\\-]*)\(1\)").unwrap();
        for (name, page) in &pages {
            let text = String::from_utf8_lossy(page);
            for section in ["EXIT STATUS", "ENVIRONMENT", "EXAMPLES", "SEE ALSO"] {
                assert!(
                    text.contains(&format!(".SH \"{section}\""))
                        || text.contains(&format!(".SH {section}")),
                    "{name}: {section}"
                );
            }
            assert!(!text.contains(".SH EXTRA"), "{name}");
            for found in reference.captures_iter(&text) {
                let target = format!("{}.1", found[1].replace("\\-", "-"));
                assert!(names.contains(&target), "{name} points to {target}");
            }
        }
    }

    /// The words of an example command line as a shell splits them (single quotes),
    /// the command's own words only: environment assignments, redirections and the
    /// other commands of a pipeline left out.
    fn words_of(example: &str, name: &str) -> Vec<Vec<String>> {
        let line = example.split("   #").next().unwrap_or("").trim();
        let mut runs = Vec::new();
        for segment in line.split(" | ") {
            let mut words = Vec::new();
            let mut word = String::new();
            let mut quoted = false;
            for c in segment.chars() {
                match c {
                    '\'' => quoted = !quoted,
                    ' ' if !quoted => {
                        if !word.is_empty() {
                            words.push(std::mem::take(&mut word));
                        }
                    }
                    _ => word.push(c),
                }
            }
            if !word.is_empty() {
                words.push(word);
            }
            let words: Vec<String> = words
                .into_iter()
                .skip_while(|w| w.contains('=') || w == "cargo")
                .take_while(|w| !w.starts_with('>') && !w.starts_with('<') && w != "2>&1")
                .collect();
            if words.first().is_some_and(|w| w == name) {
                runs.push(words);
            }
        }
        runs
    }

    fn every_command(command: &clap::Command, out: &mut Vec<clap::Command>) {
        out.push(command.clone());
        // clap's own `help` subcommand (and its children) are clap's.
        for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
            every_command(sub, out);
        }
    }

    #[test]
    fn every_help_teaches_with_examples_that_parse_and_shows_its_variables() {
        for tool in commands() {
            let name = tool.get_name().to_owned();
            let mut built = tool.clone();
            built.build();
            let mut all = Vec::new();
            every_command(&built, &mut all);
            for command in all {
                let after = command
                    .get_after_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                let shown = command
                    .get_display_name()
                    .unwrap_or(command.get_name())
                    .to_owned();
                assert!(
                    after.contains("Exit codes:\n  0 "),
                    "{shown}: the exit-code table"
                );
                let examples = examples_of(&after);
                assert!(!examples.is_empty(), "{shown}: examples");
                for example in examples {
                    assert!(
                        example.len() <= 96,
                        "{shown}: {example:?} is wrapped by --help"
                    );
                    let runs = words_of(example, &name);
                    assert!(!runs.is_empty(), "{shown}: {example:?} does not run {name}");
                    for words in runs {
                        if let Err(err) = tool.clone().try_get_matches_from(&words) {
                            panic!("{shown}: {example:?} does not parse: {err}");
                        }
                    }
                }
                for arg in command.get_arguments() {
                    if arg.get_env().is_some() {
                        assert!(
                            !arg.is_hide_env_set(),
                            "{shown}: {:?} hides its variable",
                            arg.get_id()
                        );
                    }
                }
            }
        }
    }
}
