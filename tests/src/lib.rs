//! Test equipment shared by every crate's tests and by `cargo xtask demo`:
//!
//! - [`docker`]: a locally built test image (no registry is assumed) and test scopes
//!   that label every object a test creates and remove exactly those.
//! - [`require`]: finding the external programs tests need, failing loudly (never
//!   skipping) when one is missing.

pub mod docker;
pub mod require;
