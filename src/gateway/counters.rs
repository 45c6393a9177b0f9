//! What the connections count as they go, read by the controller, the probe and the stats.

use std::sync::atomic::AtomicU64;

/// Counters updated by the connections as they go.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub up: AtomicU64,
    pub down: AtomicU64,
    /// Successful wakes, for [`super::GatewayProbe`].
    pub wakes: AtomicU64,
    /// Times Redis was saved and stopped cleanly (the gateway went back to sleep).
    pub sleeps: AtomicU64,
    /// Connections that closed before sending a byte (health checks, port scans).
    pub probes: AtomicU64,
    /// Connections closed by `gateway.handshake_timeout_ms` (no byte sent).
    pub silent: AtomicU64,
    /// Connections closed by `gateway.client_idle_timeout_ms`.
    pub idle_closed: AtomicU64,
}
