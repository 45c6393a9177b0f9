//! Profiles: TOML files read as a [`raw::RawProfile`], then validated into a [`Profile`].
//!
//! Errors name the file, the line and what to fix. Command-line overrides are applied last
//! with [`Overrides::apply`].

mod discover;
pub mod duration;
mod error;
mod gateway;
pub mod lambda;
mod lambda_check;
pub mod netem;
pub mod raw;
mod save;
pub mod snapshots;
mod types;
mod validate;

pub use crate::model::Mode;
pub use discover::{ProfileEntry, default_profile, find_profile, list_profiles, user_profile_dir};
pub use duration::{DurationError, DurationRange};
pub use error::ProfileError;
pub(crate) use error::millis;
pub use gateway::GatewayConfig;
pub use lambda::{Emulator, LambdaConfig, LambdaRuntime, Price};
pub use netem::{NetemMethod, NetworkEmulation};
pub use save::save_workload;
pub use types::{
    ActionKind, AppendFsync, ArrivalKind, Backend, ClusterConfig, DockerNetwork, LocalConfig,
    OpenLoop, OpenWhiskConfig, Overrides, Persistence, PlatformConfig, Profile, RedisConfig,
    SavePoint, TLS_CA_FILE_ENV, Workload,
};
pub use validate::{DEFAULT_MAX_IN_FLIGHT, check_rate};
pub use validate::{Limit, VALUE_SIZE, data_home};
use validate::{check_workload, syntax_error, validate};

use std::path::{Path, PathBuf};
use std::time::Duration;

use raw::RawProfile;

/// The profile compiled into the binary, used when no file is given and none is found.
pub const EMBEDDED_DEFAULT: &str = include_str!("../../profiles/local.toml");

impl Overrides {
    /// The profile with the values given, each checked against the same limits as its
    /// profile field (the profile itself is left as it was validated).
    pub fn applied_to(&self, profile: &Profile) -> Result<Profile, ProfileError> {
        use validate::{CONCURRENCY, INVOCATIONS, RECORDS, VALUE_SIZE};
        let mut p = profile.clone();
        let w = &mut p.workload;
        if let Some(n) = self.invocations {
            w.invocations = INVOCATIONS.check_flag(n)?;
        }
        if let Some(c) = self.concurrency {
            w.concurrency = CONCURRENCY.check_flag(c)?;
        }
        if let Some(r) = self.records {
            w.records = RECORDS.check_flag(r)?;
        }
        if let Some(v) = self.value_size {
            w.value_size = VALUE_SIZE.check_flag(v)?;
        }
        if let Some(m) = self.mode {
            w.mode = m;
        }
        self.apply_open(w)?;
        let file = p.display_source();
        check_workload(&p.workload, &file)?;
        if let Some(c) = self.persistence {
            p.redis.persistence = p.redis.persistence.chosen(c);
        }
        if let Some(c) = self.platform {
            p.platform = p
                .platform
                .chosen(c)
                .map_err(|message| ProfileError::Invalid {
                    file: file.clone(),
                    field: "platform".into(),
                    message,
                })?;
        }
        Ok(p)
    }
}

impl Persistence {
    /// The editor's choice; RDB keeps the profile's save points when it had RDB already.
    pub fn chosen(&self, c: crate::model::workload::PersistenceChoice) -> Persistence {
        match (c, self) {
            (crate::model::workload::PersistenceChoice::Rdb, Persistence::Rdb { .. }) => {
                self.clone()
            }
            _ => Persistence::from(c),
        }
    }

    /// As the editor offers it.
    pub fn choice(&self) -> crate::model::workload::PersistenceChoice {
        use crate::model::workload::PersistenceChoice as C;
        match self {
            Persistence::None => C::None,
            Persistence::Rdb { .. } => C::Rdb,
            Persistence::Aof {
                appendfsync: AppendFsync::Everysec,
            } => C::AofEverysec,
            Persistence::Aof {
                appendfsync: AppendFsync::Always,
            } => C::AofAlways,
        }
    }
}

impl From<crate::model::workload::PersistenceChoice> for Persistence {
    /// The setting a choice stands for; RDB with Redis' default save points.
    fn from(c: crate::model::workload::PersistenceChoice) -> Self {
        use crate::model::workload::PersistenceChoice as C;
        match c {
            C::None => Persistence::None,
            C::Rdb => Persistence::Rdb {
                save: validate::default_save_points(),
            },
            C::AofEverysec => Persistence::Aof {
                appendfsync: AppendFsync::Everysec,
            },
            C::AofAlways => Persistence::Aof {
                appendfsync: AppendFsync::Always,
            },
        }
    }
}

impl PlatformConfig {
    /// As the editor offers it.
    pub fn choice(&self) -> crate::model::workload::PlatformChoice {
        use crate::model::workload::PlatformChoice as C;
        match self {
            PlatformConfig::Local(l) if l.keep_warm => C::LocalWarm,
            PlatformConfig::Local(_) => C::Local,
            PlatformConfig::OpenWhisk(_) => C::OpenWhisk,
            PlatformConfig::Lambda(_) => C::Lambda,
        }
    }

    /// The editor's choice: the embedded platform either way, or the remote one this
    /// profile's file configures (another remote platform needs its settings in the file).
    pub fn chosen(&self, c: crate::model::workload::PlatformChoice) -> Result<Self, String> {
        use crate::model::workload::PlatformChoice as C;
        match c {
            C::Local | C::LocalWarm => Ok(PlatformConfig::Local(LocalConfig {
                keep_warm: c == C::LocalWarm,
            })),
            _ if c == self.choice() => Ok(self.clone()),
            _ => Err(format!(
                "is {} in the file; {} needs its settings there: set [platform] kind = \"{}\" and its fields in the profile's file",
                self.label(),
                c.as_str(),
                c.as_str()
            )),
        }
    }
}

impl Overrides {
    /// `--rate` turns a closed loop open (or changes the rate); `--arrivals` and
    /// `--max-in-flight` need a rate from either side; `--duration` sets the invocations.
    fn apply_open(&self, w: &mut Workload) -> Result<(), ProfileError> {
        use validate::{DEFAULT_MAX_IN_FLIGHT, MAX_IN_FLIGHT, check_rate};
        let flag = |flag: &str, message: String| ProfileError::Flag {
            flag: flag.into(),
            message,
        };
        if let Some(rate) = self.rate {
            let rate = check_rate(rate).map_err(|m| flag("--rate", m))?;
            let o = w.open.get_or_insert(OpenLoop {
                rate,
                arrivals: ArrivalKind::Constant,
                max_in_flight: DEFAULT_MAX_IN_FLIGHT,
                seed: w.seed.unwrap_or(crate::stats::arrivals::DEFAULT_SEED),
            });
            o.rate = rate;
        }
        let needs_rate = |name: &str| {
            flag(
                name,
                "applies to an open loop only; give --rate (arrivals per second) or set workload.rate in the profile".into(),
            )
        };
        if let Some(a) = self.arrivals {
            w.open
                .as_mut()
                .ok_or_else(|| needs_rate("--arrivals"))?
                .arrivals = a;
        }
        if let Some(m) = self.max_in_flight {
            let m = MAX_IN_FLIGHT.check_flag(m)?;
            w.open
                .as_mut()
                .ok_or_else(|| needs_rate("--max-in-flight"))?
                .max_in_flight = m;
        }
        if let Some(d) = self.duration {
            let o = w.open.as_ref().ok_or_else(|| needs_rate("--duration"))?;
            let n = (o.rate * d.as_secs_f64()).round();
            if !(1.0..=10_000_000.0).contains(&n) {
                return Err(flag(
                    "--duration",
                    format!(
                        "{} s at {} per second is {n} invocations; give a duration that makes 1 to 10000000",
                        d.as_secs_f64(),
                        o.rate
                    ),
                ));
            }
            w.invocations = n as u32;
        }
        Ok(())
    }
}

/// A validated profile is only read: an experiment that needs a variant (a cell's data
/// directory, a sweep step's concurrency, a cluster node) derives a new one here, so every
/// variant is made the same way and none is half-changed.
impl Profile {
    /// The same profile on another data directory.
    pub fn with_data_dir(&self, dir: PathBuf) -> Profile {
        let mut p = self.clone();
        p.redis.data_dir = dir;
        p
    }

    /// The same profile under another name (its snapshots then live under a prefix of their
    /// own, and its state and lock files are its own).
    pub fn renamed(&self, name: impl Into<String>) -> Profile {
        let mut p = self.clone();
        p.name = name.into();
        p
    }

    /// The same profile with another persistence; `none` drops `[snapshots]` (nothing to
    /// snapshot: the profile check refuses that pairing too).
    pub fn with_persistence(&self, persistence: Persistence) -> Profile {
        let mut p = self.clone();
        if persistence == Persistence::None {
            p.snapshots = None;
        }
        p.redis.persistence = persistence;
        p
    }

    /// The same profile without `[snapshots]`.
    pub fn without_snapshots(&self) -> Profile {
        let mut p = self.clone();
        p.snapshots = None;
        p
    }

    /// Case study 1 at `concurrency` in flight, with at least that many invocations.
    pub fn with_concurrency(&self, concurrency: u32) -> Profile {
        let mut p = self.clone();
        p.workload.concurrency = concurrency;
        p.workload.invocations = p.workload.invocations.max(concurrency);
        p
    }

    /// Case study 1 as an open loop at `rate` arrivals per second (the arrivals, in-flight cap
    /// and seed of the profile's open loop, or the defaults), keeping the invocations.
    pub fn with_rate(&self, rate: f64) -> Profile {
        let mut p = self.clone();
        let seed = p
            .workload
            .seed
            .unwrap_or(crate::stats::arrivals::DEFAULT_SEED);
        let o = p.workload.open.get_or_insert(OpenLoop {
            rate,
            arrivals: ArrivalKind::Constant,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            seed,
        });
        o.rate = rate;
        p
    }

    /// Case study 1 as a closed loop of `concurrency`, whatever the profile's `workload.rate`.
    pub fn closed_loop(&self) -> Profile {
        let mut p = self.clone();
        p.workload.open = None;
        p
    }

    /// Case study 1 with the functions `rtt_ms` away from Redis: the profile's
    /// `[redis.network_emulation]` at that RTT (its jitter and rate kept), or an RTT-only one.
    pub fn with_rtt(&self, rtt_ms: f64) -> Profile {
        let mut p = self.clone();
        p.redis.network_emulation = Some(match p.redis.network_emulation {
            Some(n) => n.with_rtt(rtt_ms),
            None => NetworkEmulation::rtt_only(rtt_ms),
        });
        p
    }

    /// Node `i` of this cluster profile: a single Redis of its own (name, data directory
    /// `node-<i>`, port, container name), in cluster mode with `node_timeout`, no snapshots.
    pub fn cluster_node(&self, i: u16, port: u16, node_timeout: Duration) -> Profile {
        let mut n = self.clone();
        n.name = format!("{}-node{i}", self.name);
        n.redis.data_dir = self.redis.data_dir.join(format!("node-{i}"));
        n.redis.port = port;
        n.redis.cluster = None;
        n.redis.cluster_node = Some(node_timeout);
        n.snapshots = None;
        if let Backend::Docker { container_name, .. } = &mut n.redis.backend {
            *container_name = format!("{container_name}-node{i}");
        }
        n
    }

    /// Read and validate a profile file.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
            file: path.display().to_string(),
            source,
        })?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "profile".into());
        // A file with nothing in it is a mistake (an unsaved editor buffer, a truncated copy),
        // not a request for every default: say so rather than run on defaults.
        if text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            return Err(ProfileError::Syntax {
                file: path.display().to_string(),
                line: 1,
                message: "the profile is empty: write at least its [redis] and [platform] sections (copy profiles/local.toml), or leave --profile out for the embedded default".into(),
            });
        }
        Self::parse(
            &text,
            &path.display().to_string(),
            &stem,
            Some(path.to_path_buf()),
        )
    }

    /// The profile compiled into the binary (`profiles/local.toml`).
    pub fn embedded_default() -> Result<Profile, ProfileError> {
        Self::parse(EMBEDDED_DEFAULT, "<embedded local.toml>", "local", None)
    }

    /// Parse profile text. `file` is only used in messages; `stem` is the default name.
    pub fn parse(
        text: &str,
        file: &str,
        stem: &str,
        source: Option<PathBuf>,
    ) -> Result<Profile, ProfileError> {
        let raw: RawProfile = toml::from_str(text).map_err(|e| syntax_error(text, file, &e))?;
        validate(raw, file, stem, source)
    }

    pub fn display_source(&self) -> String {
        self.origin.clone()
    }
}

#[cfg(test)]
mod tests;
