//! Test equipment shared by every crate's tests and by `cargo xtask demo`:
//!
//! - [`bench`]: what the benchmarks share (the release binary, medians, figures).
//! - [`bins`]: the paths of the workspace binaries, for cross-tool tests.
//! - [`backend`]: a simulator of the assistant backend with fault injection.
//! - [`edge`]: a real nginx in front of it, configured like the real edge.
//! - [`latency`]: a loopback TCP proxy that adds a round trip, for links 30–150 ms long.
//! - [`demo`]: both together, the demo stack.
//! - [`docker`]: a locally built test image (no registry is assumed) and test scopes
//!   that label every object a test creates and remove exactly those.
//! - [`fake_docker`]: one fake Docker Engine on a Unix socket, answering as a test's
//!   handler says (JSON, raw bytes, silence), or never reading at all.
//! - [`process`]: running a binary under test with a deadline (bytes or a file on
//!   stdin, the run as text, its JSON-line records); promtool's check.
//! - [`tls`]: a real nginx serving HTTPS with a self-signed certificate.
//! - [`canary`]: the secret canary's forms (plain, percent-encoded, base64), none of
//!   which an output may hold.
//! - [`controls`]: terminal controls quoted from input reach stderr escaped.
//! - [`inputs`]: FIFOs filled by a writer thread, and the cap on endless inputs.
//! - [`require`]: finding the external programs tests need, failing loudly (never
//!   skipping) when one is missing.
//! - [`text_view`]: reading the `--format text` checklist back.

pub mod backend;
pub mod bench;
pub mod bins;
pub mod canary;
pub mod controls;
pub mod demo;
pub mod docker;
pub mod edge;
pub mod fake_docker;
pub mod fake_edge;
pub mod http1;
pub mod inputs;
pub mod latency;
pub mod process;
pub mod require;
pub mod text_view;
pub mod tls;

pub use backend::{Backend, BackendConfig, Fault, MetricsFormat, Provider};
pub use demo::DemoStack;
pub use edge::{Edge, EdgeConfig, LegacyRoute};
pub use latency::LatencyProxy;
