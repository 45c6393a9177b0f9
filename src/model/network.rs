//! The network path between the functions and Redis: what emulation a run asked for and the
//! round trip actually measured through it (`[redis.network_emulation]`, docs/network-emulation.md).

use serde::{Deserialize, Serialize};

/// Round trips measured with PING (one connection, one PING at a time), in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RttSample {
    pub pings: u32,
    pub min_ms: f64,
    pub median_ms: f64,
    pub mean_ms: f64,
    pub max_ms: f64,
}

impl RttSample {
    /// Summarise PING round trips (ms); `None` for no samples.
    pub fn of(mut ms: Vec<f64>) -> Option<Self> {
        if ms.is_empty() {
            return None;
        }
        ms.sort_by(f64::total_cmp);
        let n = ms.len();
        let median = if n % 2 == 1 {
            ms[n / 2]
        } else {
            (ms[n / 2 - 1] + ms[n / 2]) / 2.0
        };
        Some(Self {
            pings: u32::try_from(n).unwrap_or(u32::MAX),
            min_ms: ms[0],
            median_ms: median,
            mean_ms: ms.iter().sum::<f64>() / n as f64,
            max_ms: ms[n - 1],
        })
    }
}

/// The emulated path a run used, and what was measured through it before the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkRecord {
    /// How the delay was made: `userspace` (redwhisk's shaping proxy).
    pub method: String,
    /// Requested round-trip time (each direction delayed by half).
    pub rtt_ms: f64,
    /// Requested jitter: each direction varies uniformly within ± jitter_ms / 2.
    pub jitter_ms: f64,
    /// Requested rate per direction; `None`: not limited.
    pub rate_mbit: Option<f64>,
    /// Where the functions connect (the proxy), `host:port`.
    pub proxy: String,
    /// PING round trips through the path (functions → proxy → Redis and back).
    pub measured: RttSample,
    /// PING round trips straight to Redis, measured at the same time (redwhisk's own control
    /// connections go this way).
    pub direct: RttSample,
}

impl NetworkRecord {
    /// What the path adds to a round trip beyond its requested RTT: the proxy's own cost
    /// (median through the path − requested RTT − median direct).
    pub fn proxy_added_ms(&self) -> f64 {
        self.measured.median_ms - self.rtt_ms - self.direct.median_ms
    }

    /// One line for reports: requested and measured.
    pub fn summary(&self) -> String {
        let rate = self
            .rate_mbit
            .map_or_else(|| "unlimited rate".to_string(), |r| format!("{r} Mbit/s"));
        format!(
            "network emulation ({}): rtt {} ms ± {} ms jitter, {rate}; measured rtt {:.3} ms median ({} PINGs through {}), direct {:.3} ms: the proxy adds {:.3} ms",
            self.method,
            self.rtt_ms,
            self.jitter_ms,
            self.measured.median_ms,
            self.measured.pings,
            self.proxy,
            self.direct.median_ms,
            self.proxy_added_ms()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_summarise_with_a_true_median() {
        let s = RttSample::of(vec![3.0, 1.0, 2.0, 10.0]).unwrap();
        assert_eq!(s.pings, 4);
        assert_eq!(s.min_ms, 1.0);
        assert_eq!(s.median_ms, 2.5);
        assert_eq!(s.mean_ms, 4.0);
        assert_eq!(s.max_ms, 10.0);
        assert_eq!(RttSample::of(vec![]), None);
    }
}
