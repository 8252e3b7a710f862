//! The library half of the xtask: the parts other crates of the repository drive
//! directly. Today that is [`nginx`], the cutover's reader of nginx configurations,
//! which the fuzz targets in `fuzz/` feed untrusted configurations; the playbooks
//! themselves are the binary (`main.rs`).

pub mod nginx;
