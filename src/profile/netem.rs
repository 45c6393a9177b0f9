//! The `[redis.network_emulation]` section: the functions reach Redis through a path with this
//! round-trip time, jitter and rate (docs/network-emulation.md).

use serde::{Deserialize, Serialize};

use super::error::ProfileError;

/// The largest RTT and jitter accepted, in milliseconds (a 10 s round trip is far past any
/// distance on Earth; beyond it a typo is likelier than an experiment).
pub const MAX_RTT_MS: f64 = 10_000.0;
/// The highest rate accepted, in Mbit/s (100 Gbit/s).
pub const MAX_RATE_MBIT: f64 = 100_000.0;

/// A number as TOML writes it: `1` and `1.0` both mean one.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum RawNumber {
    Int(i64),
    Float(f64),
}

impl RawNumber {
    fn value(self) -> f64 {
        match self {
            RawNumber::Int(i) => i as f64,
            RawNumber::Float(f) => f,
        }
    }
}

/// The section exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNetworkEmulation {
    pub method: Option<String>,
    pub rtt_ms: Option<RawNumber>,
    pub jitter_ms: Option<RawNumber>,
    pub rate_mbit: Option<RawNumber>,
}

/// How the delay is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetemMethod {
    /// redwhisk's shaping proxy: a TCP proxy that delays and paces each direction.
    Userspace,
}

impl NetemMethod {
    pub fn label(self) -> &'static str {
        match self {
            NetemMethod::Userspace => "userspace",
        }
    }
}

/// The validated section.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NetworkEmulation {
    pub method: NetemMethod,
    /// Round-trip time added: each direction is delayed by half of it.
    pub rtt_ms: f64,
    /// Each direction's delay varies uniformly within ± jitter_ms / 2 (order kept).
    pub jitter_ms: f64,
    /// Bytes per direction are paced to this rate; `None`: not limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_mbit: Option<f64>,
}

impl NetworkEmulation {
    /// The same path at another round-trip time (a step of `sweep --rtt`).
    pub fn with_rtt(self, rtt_ms: f64) -> Self {
        Self { rtt_ms, ..self }
    }

    /// Only a round-trip time (no jitter, no rate limit).
    pub fn rtt_only(rtt_ms: f64) -> Self {
        Self {
            method: NetemMethod::Userspace,
            rtt_ms,
            jitter_ms: 0.0,
            rate_mbit: None,
        }
    }
}

fn invalid(file: &str, field: &str, message: String) -> ProfileError {
    ProfileError::Invalid {
        file: file.to_string(),
        field: format!("redis.network_emulation.{field}"),
        message,
    }
}

/// Check an RTT in milliseconds (the profile field and `sweep --rtt` alike).
pub fn check_rtt_ms(v: f64) -> Result<f64, String> {
    if v.is_finite() && (0.0..=MAX_RTT_MS).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "{v} is out of range; use milliseconds from 0 to {MAX_RTT_MS} (e.g. 0.5)"
        ))
    }
}

/// Validate the section; every error names the field and what to write instead.
pub(super) fn validate(
    r: RawNetworkEmulation,
    file: &str,
) -> Result<NetworkEmulation, ProfileError> {
    let method = match r.method.as_deref() {
        None | Some("userspace") => NetemMethod::Userspace,
        Some("tc") => {
            return Err(invalid(
                file,
                "method",
                "\"tc\" (tc qdisc netem) is not implemented: this redwhisk offers only the userspace shaping proxy (the kernels it is built and tested on have no sch_netem); write method = \"userspace\" or leave it out".into(),
            ));
        }
        Some(other) => {
            return Err(invalid(
                file,
                "method",
                format!("\"{other}\" is not valid; use \"userspace\""),
            ));
        }
    };
    let rtt_ms = match r.rtt_ms {
        None => {
            return Err(invalid(
                file,
                "rtt_ms",
                "missing: say the round-trip time to emulate in milliseconds, e.g. rtt_ms = 1"
                    .into(),
            ));
        }
        Some(v) => check_rtt_ms(v.value()).map_err(|m| invalid(file, "rtt_ms", m))?,
    };
    let jitter_ms = match r.jitter_ms {
        None => 0.0,
        Some(v) => {
            let v = v.value();
            if !(v.is_finite() && (0.0..=MAX_RTT_MS).contains(&v)) {
                return Err(invalid(
                    file,
                    "jitter_ms",
                    format!("{v} is out of range; use milliseconds from 0 to {MAX_RTT_MS}"),
                ));
            }
            v
        }
    };
    let rate_mbit = match r.rate_mbit {
        None => None,
        Some(v) => {
            let v = v.value();
            if !(v.is_finite() && v > 0.0 && v <= MAX_RATE_MBIT) {
                return Err(invalid(
                    file,
                    "rate_mbit",
                    format!(
                        "{v} is out of range; use Mbit/s above 0 and up to {MAX_RATE_MBIT}, or leave it out for no limit"
                    ),
                ));
            }
            Some(v)
        }
    };
    Ok(NetworkEmulation {
        method,
        rtt_ms,
        jitter_ms,
        rate_mbit,
    })
}
