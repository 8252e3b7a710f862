//! What every day2 tool must agree on, and nothing else: the JSON-lines record
//! envelope ([`record`]), the exit-code policy ([`exit`]), the plumbing that turns a
//! tool library into a process and back ([`cli`]), the HTTP client settings shared by
//! the tools that speak HTTP ([`http`]), the Prometheus text conventions ([`prom`]),
//! numbers from flags and the environment with their ranges ([`bounded`], [`duration`]),
//! input files read with a cap ([`input`]), URL credentials masked in every output
//! ([`redact`]) and input text made safe for a terminal ([`text`]).
//!
//! Tool libraries never call `process::exit` and never print except to the writers
//! they are given in [`cli::Io`], so the xtask and the tests can drive them in-process.

pub mod bounded;
pub mod cli;
pub mod duration;
pub mod exit;
pub mod http;
pub mod input;
pub mod prom;
pub mod record;
pub mod redact;
pub mod text;

pub use cli::Io;
pub use exit::Exit;
pub use record::{Closed, Record, RecordSink, Verdict};
