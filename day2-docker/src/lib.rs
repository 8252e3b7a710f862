//! The one Docker layer of the day2 tools (docker-doctor, prune-review,
//! tunnel-check): where the Engine is ([`host`], `DOCKER_HOST` parsed once, by
//! moby's rules), the bounded raw client ([`raw`], every step with a deadline,
//! answers parsed with `httparse`), the `/system/df` model for both of its shapes
//! ([`df`]), and the bollard facade with its one runtime per use ([`engine`]).
//!
//! Every failure is a [`day2_core::Problem`] whose reason the tools write into their
//! records as they did before this crate existed.

pub mod df;
pub mod engine;
pub mod host;
pub mod raw;

pub use engine::Engine;
pub use host::Endpoint;
