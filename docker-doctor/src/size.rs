//! Byte sizes as people write them on the command line (`10GB`, `512MB`, `1.5GiB`),
//! powers of 1024, for the size flags: day2-core's one size parser, which the other
//! tools' size flags use too. Values inside `.wslconfig` are read with WSL's stricter
//! syntax instead: [`crate::wslconfig::memory_size`].

pub use day2_core::bounded::{human_size as human, parse_size};
