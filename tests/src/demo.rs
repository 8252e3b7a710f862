//! The demo stack: the backend simulator behind a real nginx edge, started together
//! and stopped together (dropping the stack stops both, also when a test panics).

use std::io;

use crate::backend::{Backend, BackendConfig};
use crate::edge::{Edge, EdgeConfig, LegacyRoute};

/// A running backend simulator with nginx in front of it.
#[derive(Debug)]
pub struct DemoStack {
    // Field order matters: nginx stops before the backend it proxies to.
    pub edge: Edge,
    pub backend: Backend,
}

impl DemoStack {
    /// Starts the simulator and nginx in front of it.
    pub fn start(backend: BackendConfig, edge: EdgeConfig) -> io::Result<DemoStack> {
        let backend = Backend::start(backend)?;
        let edge = Edge::start(backend.addr(), edge)?;
        Ok(DemoStack { edge, backend })
    }

    /// The default stack: model present, legacy location served, real rate limits.
    pub fn default_stack() -> io::Result<DemoStack> {
        DemoStack::start(BackendConfig::default(), EdgeConfig::default())
    }

    /// The edge's base URL, what the tools point at (`--url`).
    pub fn url(&self) -> String {
        self.edge.url()
    }

    /// Switches the edge's legacy location (the cutover's deploy step).
    pub fn set_legacy(&mut self, legacy: LegacyRoute) -> io::Result<()> {
        self.edge.set_legacy(legacy)
    }
}
