//! What every day2 tool must agree on, and nothing else: the JSON-lines record
//! envelope ([`record`], its durations in [`duration`]), the exit-code policy ([`exit`]), the plumbing that turns a
//! tool library into a process and back ([`cli`]), the HTTP client settings shared by
//! the tools that speak HTTP ([`http`]), the Prometheus text conventions ([`prom`]),
//! numbers from flags and the environment with their ranges ([`bounded`]),
//! input files read with a cap ([`input`]), one failure with its reason and sentence
//! ([`problem`]), child processes run with a deadline and drained pipes
//! ([`process`]), the prefixes log collectors put in front of
//! a program's lines (`docker compose logs`, journald, kubectl: [`collector`]), URL
//! credentials masked in every output ([`redact`]), input text made safe for a terminal
//! ([`text`]), and the human side of every run: the lines on stderr and the text view
//! ([`human`]), progress on a terminal ([`progress`]).
//!
//! Tool libraries never call `process::exit` and never print except to the writers
//! they are given in [`cli::Io`], so the xtask and the tests can drive them in-process.

pub mod bounded;
pub mod cli;
pub mod collector;
pub mod duration;
pub mod exit;
pub mod http;
pub mod human;
pub mod input;
pub mod problem;
pub mod process;
pub mod progress;
pub mod prom;
pub mod record;
pub mod redact;
pub mod text;

pub use cli::Io;
pub use exit::Exit;
pub use problem::Problem;
pub use record::{Closed, Record, RecordSink, Verdict};
