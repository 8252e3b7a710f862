//! `cargo xtask dist`: shell completions (bash, zsh, fish) and man pages for every
//! tool, generated from the same clap definitions the binaries parse with.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;
use day2_core::record::{Record, RecordSink};
use day2_core::{Exit, Io};

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

fn write_one(command: &clap::Command, out_dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let name = command.get_name().to_owned();
    let mut written = Vec::new();
    let completions = out_dir.join("completions");
    std::fs::create_dir_all(&completions)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        written.push(clap_complete::generate_to(
            shell,
            &mut command.clone(),
            &name,
            &completions,
        )?);
    }
    let man = out_dir.join("man");
    std::fs::create_dir_all(&man)?;
    let page = man.join(format!("{name}.1"));
    let mut buffer = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut buffer)?;
    std::fs::write(&page, buffer)?;
    written.push(page);
    Ok(written)
}

pub fn run(args: &DistArgs, io: &mut Io<'_>) -> Exit {
    let mut sink = RecordSink::new(crate::TOOL, io.stdout);
    let mut failures = Vec::new();
    for command in commands() {
        let name = command.get_name().to_owned();
        let record = match write_one(&command, &args.out_dir) {
            Ok(files) => Record::pass("dist", &name).data(serde_json::json!({ "files": files })),
            Err(err) => {
                failures.push(format!("{name}: {err}"));
                Record::error("dist", &name, "write_failed").message(err.to_string())
            }
        };
        if sink.emit(record).is_err() {
            return sink.exit();
        }
    }
    let exit = sink.exit();
    for failure in failures {
        io.error(crate::TOOL, failure);
    }
    exit
}
