//! From the raw file to a validated [`Profile`]: every check, each error naming the field
//! and what to fix.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::duration::{
    INVOCATION_TIMEOUT, NODE_TIMEOUT, POLL_DEADLINE, READY_TIMEOUT, STOP_TIMEOUT,
};
use super::error::ProfileError;
use super::raw::{RawPlatform, RawProfile, RawRedis, RawWorkload};
use super::types::*;
use crate::model::Mode;
use crate::secret::Secret;

pub(super) fn syntax_error(text: &str, file: &str, e: &toml::de::Error) -> ProfileError {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
        .unwrap_or(1);
    let message = e
        .message()
        .trim()
        .replace('\n', " ")
        .replace("expected i64", "expected an integer")
        .replace("expected u64", "expected an integer");
    // A number beyond i64: toml reports it as an i128 of the wrong type.
    if message.starts_with("invalid type: integer") && message.contains("as i128") {
        let number = message.split('`').nth(1).unwrap_or("it");
        return ProfileError::Syntax {
            file: file.to_string(),
            line,
            message: format!(
                "the number {number} is too large for any setting (the largest is {}); use a value in the setting's range (see the profile reference in README.md)",
                i64::MAX
            ),
        };
    }
    let hint = if message.starts_with("unknown field") {
        " (remove it or fix its spelling; see the profile reference in README.md)"
    } else {
        ""
    };
    ProfileError::Syntax {
        file: file.to_string(),
        line,
        message: format!("{message}{hint}"),
    }
}

fn invalid(file: &str, field: &str, message: impl Into<String>) -> ProfileError {
    ProfileError::Invalid {
        file: file.to_string(),
        field: field.to_string(),
        message: message.into(),
    }
}

fn one_of<T: Copy>(
    file: &str,
    field: &str,
    value: &str,
    options: &[(&str, T)],
) -> Result<T, ProfileError> {
    options
        .iter()
        .find(|(name, _)| *name == value)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<_> = options.iter().map(|(n, _)| format!("\"{n}\"")).collect();
            invalid(
                file,
                field,
                format!("\"{value}\" is not valid; use one of {}", names.join(", ")),
            )
        })
}

/// The allowed range of a workload value, shared by the profile field and its command-line
/// flag so both are checked the same way.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub field: &'static str,
    pub flag: &'static str,
    pub min: i64,
    pub max: i64,
}

pub const INVOCATIONS: Limit = Limit {
    field: "workload.invocations",
    flag: "--invocations/-n",
    min: 1,
    max: 10_000_000,
};
pub const CONCURRENCY: Limit = Limit {
    field: "workload.concurrency",
    flag: "--concurrency/-c",
    min: 1,
    max: 1024,
};
pub const RECORDS: Limit = Limit {
    field: "workload.records",
    flag: "--records/-r",
    min: 1,
    max: 10_000_000,
};
pub const MAX_IN_FLIGHT: Limit = Limit {
    field: "workload.max_in_flight",
    flag: "--max-in-flight",
    min: 1,
    max: 1024,
};
/// Open-loop in-flight cap when the profile sets none.
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 64;
/// The highest open-loop rate accepted (arrivals per second).
pub const MAX_RATE: f64 = 100_000.0;

/// Check an open-loop rate; `Err` is the message (the caller names the field or flag).
pub fn check_rate(rate: f64) -> Result<f64, String> {
    if rate.is_finite() && rate > 0.0 && rate <= MAX_RATE {
        Ok(rate)
    } else {
        Err(format!(
            "{rate} is out of range; use arrivals per second above 0 and at most {MAX_RATE}, e.g. 20 or 0.5"
        ))
    }
}

pub const ARRIVALS: [(&str, crate::stats::ArrivalKind); 2] = [
    ("constant", crate::stats::ArrivalKind::Constant),
    ("poisson", crate::stats::ArrivalKind::Poisson),
];

pub const VALUE_SIZE: Limit = Limit {
    field: "workload.value_size",
    flag: "--value-size",
    min: 1,
    max: 512 * 1024 * 1024,
};

impl Limit {
    /// Check a command-line value; the error names the flag and the matching profile field.
    pub fn check_flag(&self, value: u32) -> Result<u32, ProfileError> {
        let v = i64::from(value);
        if v < self.min || v > self.max {
            return Err(ProfileError::Flag {
                flag: self.flag.into(),
                message: format!(
                    "{v} is out of range; use a value from {} to {} (the limits of `{}` in a profile)",
                    self.min, self.max, self.field
                ),
            });
        }
        Ok(value)
    }

    fn check(&self, file: &str, value: Option<i64>, default: i64) -> Result<i64, ProfileError> {
        ranged(file, self.field, value, default, self.min, self.max)
    }
}

fn ranged(
    file: &str,
    field: &str,
    value: Option<i64>,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ProfileError> {
    let v = value.unwrap_or(default);
    if v < min || v > max {
        return Err(invalid(
            file,
            field,
            format!("{v} is out of range; use a value from {min} to {max}"),
        ));
    }
    Ok(v)
}

pub(super) fn validate(
    raw: RawProfile,
    file: &str,
    stem: &str,
    source: Option<PathBuf>,
) -> Result<Profile, ProfileError> {
    let name = raw.name.unwrap_or_else(|| stem.to_string());
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid(
            file,
            "name",
            format!("\"{name}\" is not valid; use letters, digits, '-' and '_' only"),
        ));
    }
    let redis = validate_redis(raw.redis.unwrap_or_default(), file, &name)?;
    let platform = validate_platform(raw.platform.unwrap_or_default(), file)?;
    let workload = validate_workload(raw.workload.unwrap_or_default(), file)?;
    let snapshots = raw
        .snapshots
        .map(|s| {
            super::snapshots::validate(
                s,
                file,
                &redis.persistence,
                matches!(redis.backend, Backend::External { .. }),
            )
        })
        .transpose()?;
    if redis.cluster.is_some() {
        for (present, section) in [
            (snapshots.is_some(), "snapshots"),
            (raw.gateway.is_some(), "gateway"),
        ] {
            if present {
                return Err(invalid(
                    file,
                    section,
                    format!(
                        "[{section}] does not work with [redis.cluster] yet (it serves one Redis); remove one of the two sections"
                    ),
                ));
            }
        }
    }
    let gateway = super::gateway::validate_gateway(raw.gateway.unwrap_or_default(), file)?;
    Ok(Profile {
        name,
        description: raw.description.unwrap_or_default(),
        source,
        origin: file.to_string(),
        redis,
        platform,
        workload,
        snapshots,
        gateway,
    })
}

/// The base directory for per-profile data: `$XDG_DATA_HOME/redwhisk` or `~/.local/share/redwhisk`.
pub fn data_home() -> PathBuf {
    if let Some(dir) = std::env::var_os("REDWHISK_DATA_DIR") {
        return PathBuf::from(dir);
    }
    dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("redwhisk")
}

fn expand_home(path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => dirs::home_dir().unwrap_or_default().join(rest),
        None => PathBuf::from(path),
    }
}

fn validate_redis(r: RawRedis, file: &str, profile: &str) -> Result<RedisConfig, ProfileError> {
    let backend_name = r.backend.as_deref().unwrap_or("process");
    #[derive(Clone, Copy)]
    enum B {
        P,
        D,
        E,
    }
    let b = one_of(
        file,
        "redis.backend",
        backend_name,
        &[("process", B::P), ("docker", B::D), ("external", B::E)],
    )?;
    if !matches!(b, B::E) && r.url.is_some() {
        return Err(invalid(
            file,
            "redis.url",
            "only the external backend takes a url; remove it or set backend = \"external\"",
        ));
    }
    let mut password = r.password.filter(|p| !p.is_empty()).map(Secret::new);
    let backend = match b {
        B::P => Backend::Process {
            server_bin: r.server_bin.unwrap_or_else(|| "redis-server".into()),
        },
        B::D => {
            let network = one_of(
                file,
                "redis.network",
                r.network.as_deref().unwrap_or("host"),
                &[
                    ("host", DockerNetwork::Host),
                    ("bridge", DockerNetwork::Bridge),
                ],
            )?;
            let image = r.image.unwrap_or_else(|| "redis:7-alpine".into());
            if image.trim().is_empty() || image.chars().any(char::is_whitespace) {
                return Err(invalid(
                    file,
                    "redis.image",
                    format!(
                        "\"{image}\" is not an image name; write e.g. \"redis:7-alpine\", or \"redwhisk/redis:local\" after `redwhisk image build-local`"
                    ),
                ));
            }
            Backend::Docker {
                image,
                network,
                keep_container: r.keep_container.unwrap_or(false),
                container_name: r
                    .container_name
                    .unwrap_or_else(|| format!("redwhisk-{profile}")),
                pull: r.pull.unwrap_or(true),
            }
        }
        B::E => {
            let url = r.url.ok_or_else(|| {
                invalid(file, "redis.url", "the external backend needs `url = \"redis://host:port\"` (or rediss:// for TLS)")
            })?;
            let (clean, from_url) =
                split_url_password(&url).map_err(|m| invalid(file, "redis.url", m))?;
            if password.is_none() {
                password = from_url;
            }
            let seeds = r
                .cluster
                .as_ref()
                .and_then(|c| c.seeds.clone())
                .unwrap_or_default();
            for seed in &seeds {
                let (_, pw) = split_url_password(seed)
                    .map_err(|m| invalid(file, "redis.cluster.seeds", m))?;
                if pw.is_some() {
                    return Err(invalid(
                        file,
                        "redis.cluster.seeds",
                        format!(
                            "a seed carries a password; give it once, in redis.password or redis.url, and list seeds as redis://host:port ({})",
                            seed.split('@').next_back().unwrap_or_default()
                        ),
                    ));
                }
            }
            Backend::External { url: clean, seeds }
        }
    };
    let bind_text = r.bind.as_deref().unwrap_or("127.0.0.1");
    let bind: IpAddr = bind_text.parse().map_err(|_| {
        invalid(
            file,
            "redis.bind",
            format!("\"{bind_text}\" is not an IP address; use e.g. \"127.0.0.1\""),
        )
    })?;
    let port = ranged(file, "redis.port", r.port, 0, 0, 65535)? as u16;
    let persistence = match one_of(
        file,
        "redis.persistence",
        r.persistence.as_deref().unwrap_or("rdb"),
        &[("none", 0), ("rdb", 1), ("aof", 2)],
    )? {
        0 => Persistence::None,
        1 => {
            let texts = r.save.unwrap_or_else(|| {
                DEFAULT_SAVE_POINTS
                    .iter()
                    .map(|(s, c)| format!("{s} {c}"))
                    .collect()
            });
            let mut save = Vec::new();
            for t in texts {
                let parts: Vec<_> = t.split_whitespace().collect();
                let parsed = match parts.as_slice() {
                    [s, c] => s.parse().ok().zip(c.parse().ok()),
                    _ => None,
                };
                let (seconds, changes) = parsed.ok_or_else(|| {
                    invalid(file, "redis.save", format!("\"{t}\" is not a save point; write \"<seconds> <changes>\", e.g. \"60 1000\""))
                })?;
                save.push(SavePoint { seconds, changes });
            }
            Persistence::Rdb { save }
        }
        _ => Persistence::Aof {
            appendfsync: one_of(
                file,
                "redis.appendfsync",
                r.appendfsync.as_deref().unwrap_or("everysec"),
                &[
                    ("everysec", AppendFsync::Everysec),
                    ("always", AppendFsync::Always),
                ],
            )?,
        },
    };
    // Absolute from here on: a relative path would mean something else to Docker (a named
    // volume) than to redis-server (the current directory). Relative means "from the current
    // directory", as on a command line.
    let data_dir = r
        .data_dir
        .map(|d| expand_home(&d))
        .unwrap_or_else(|| data_home().join(profile));
    let data_dir = std::path::absolute(&data_dir).unwrap_or(data_dir);
    let ready_timeout = READY_TIMEOUT.field(
        file,
        "redis.ready_timeout_ms",
        r.ready_timeout_ms,
        Duration::from_secs(10),
    )?;
    let stop_timeout = STOP_TIMEOUT.field(
        file,
        "redis.stop_timeout_ms",
        r.stop_timeout_ms,
        Duration::from_secs(30),
    )?;
    let node_timeout = |ms: Option<i64>| {
        NODE_TIMEOUT.field(
            file,
            "redis.cluster.node_timeout_ms",
            ms,
            Duration::from_secs(5),
        )
    };
    let cluster = match r.cluster {
        None => None,
        // An external cluster: its shape is its own; redwhisk checks it is `ok` and the
        // actions speak cluster to it.
        Some(c) if matches!(b, B::E) => {
            if c.shards.is_some() || c.replicas.is_some() {
                return Err(invalid(
                    file,
                    "redis.cluster",
                    "an external cluster's shards and replicas are its own (redwhisk starts no node of it): remove `shards` and `replicas`, keep an empty [redis.cluster] to say the url is a cluster node",
                ));
            }
            let timeout = node_timeout(c.node_timeout_ms)?;
            Some(ClusterConfig {
                shards: 0,
                replicas: 0,
                node_timeout: timeout,
            })
        }
        Some(c) if c.seeds.is_some() => {
            return Err(invalid(
                file,
                "redis.cluster.seeds",
                "seeds name the nodes of an external cluster; a cluster redwhisk starts knows its own nodes: remove `seeds`",
            ));
        }
        Some(c) => {
            let shards = ranged(file, "redis.cluster.shards", c.shards, 3, 1, 64)?;
            let replicas = ranged(file, "redis.cluster.replicas", c.replicas, 0, 0, 4)?;
            let timeout = node_timeout(c.node_timeout_ms)?;
            if port > 0 && i64::from(port) + shards * (1 + replicas) + 10_000 > 65_535 {
                return Err(invalid(
                    file,
                    "redis.port",
                    format!(
                        "a cluster uses ports {port}.. and their bus ports (+10000), which pass 65535; use a base port below {}",
                        65_535 - 10_000 - shards * (1 + replicas)
                    ),
                ));
            }
            Some(ClusterConfig {
                shards: shards as u16,
                replicas: replicas as u16,
                node_timeout: timeout,
            })
        }
    };
    let network_emulation = match r.network_emulation {
        None => None,
        Some(_) if cluster.is_some() => {
            return Err(invalid(
                file,
                "redis.network_emulation",
                "[redis.network_emulation] does not work with [redis.cluster] yet (the proxy fronts one Redis); remove one of the two sections",
            ));
        }
        Some(_) if matches!(&backend, Backend::External { url, .. } if url.starts_with("rediss://")) =>
        {
            return Err(invalid(
                file,
                "redis.network_emulation",
                "an external rediss:// (TLS) Redis cannot be reached through the shaping proxy (the certificate names the server, not the proxy); remove the section or use redis://",
            ));
        }
        Some(n) => Some(super::netem::validate(n, file)?),
    };
    let tls = matches!(&backend, Backend::External { url, .. } if url.starts_with("rediss://"));
    let tls_ca_file = match r.tls_ca_file {
        Some(_) if !tls => {
            return Err(invalid(
                file,
                "redis.tls_ca_file",
                "only an external Redis reached by rediss:// (TLS) is verified against a CA file; remove the setting or use backend = \"external\" with url = \"rediss://host:port\"",
            ));
        }
        Some(f) if f.trim().is_empty() => {
            return Err(invalid(
                file,
                "redis.tls_ca_file",
                "is empty; name a PEM file of CA certificates, or remove the setting",
            ));
        }
        Some(f) => Some(expand_home(&f)),
        None if tls => std::env::var_os(super::types::TLS_CA_FILE_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
        None => None,
    };
    Ok(RedisConfig {
        backend,
        bind,
        port,
        password,
        persistence,
        data_dir,
        ready_timeout,
        stop_timeout,
        cluster,
        cluster_node: None,
        network_emulation,
        tls_ca_file,
    })
}

/// Split `redis://user:pass@host:port/db` into a URL without the password and the password.
fn split_url_password(url: &str) -> Result<(String, Option<Secret>), String> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        format!("\"{url}\" has no scheme; write redis://host:port or rediss://host:port")
    })?;
    if scheme != "redis" && scheme != "rediss" {
        return Err(format!(
            "scheme \"{scheme}\" is not supported; use redis:// or rediss://"
        ));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    check_host_port(
        url,
        authority.rsplit_once('@').map_or(authority, |(_, h)| h),
    )?;
    let Some((userinfo, hostport)) = authority.rsplit_once('@') else {
        return Ok((url.to_string(), None));
    };
    let (user, pass) = match userinfo.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (userinfo, None),
    };
    let user_part = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    Ok((
        format!("{scheme}://{user_part}{hostport}{path}"),
        pass.filter(|p| !p.is_empty()).map(Secret::new),
    ))
}

/// The `host[:port]` of a Redis URL, checked when the profile is read rather than at start: a
/// host is given, and a port is a number from 1 to 65535 (`[::1]:6379` for IPv6).
fn check_host_port(url: &str, hostport: &str) -> Result<(), String> {
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        match rest.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':')),
            None => return Err(format!("\"{url}\": an IPv6 address needs a closing ]")),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(format!("\"{url}\" names no host; write redis://host:port"));
    }
    if let Some(p) = port
        && !matches!(p.parse::<u16>(), Ok(1..))
    {
        return Err(format!(
            "\"{url}\": the port `{p}` must be a number from 1 to 65535"
        ));
    }
    Ok(())
}

/// `redis.save` when the profile does not say (Redis' own defaults): (seconds, changes).
const DEFAULT_SAVE_POINTS: [(u64, u64); 3] = [(3600, 1), (300, 100), (60, 10000)];

/// [`DEFAULT_SAVE_POINTS`] as the profile holds them.
pub fn default_save_points() -> Vec<SavePoint> {
    DEFAULT_SAVE_POINTS
        .iter()
        .map(|&(seconds, changes)| SavePoint { seconds, changes })
        .collect()
}

/// `platform.keep_warm` when the profile does not say.
pub const DEFAULT_KEEP_WARM: bool = false;

fn validate_platform(p: RawPlatform, file: &str) -> Result<PlatformConfig, ProfileError> {
    let kind = p.kind.as_deref().unwrap_or("local");
    let is_ow = one_of(
        file,
        "platform.kind",
        kind,
        &[("local", false), ("openwhisk", true), ("lambda", true)],
    )?;
    if kind == "lambda" {
        return super::lambda_check::validate(p, file).map(|c| PlatformConfig::Lambda(Box::new(c)));
    }
    if let Some(field) = super::lambda_check::stray_field(&p) {
        return Err(invalid(
            file,
            &format!("platform.{field}"),
            "only applies to kind = \"lambda\"; remove it or set the kind",
        ));
    }
    if !is_ow {
        let stray = [
            ("apihost", p.apihost.is_some()),
            ("auth", p.auth.is_some()),
            ("action_name", p.action_name.is_some()),
            ("fetch_logs", p.fetch_logs.is_some()),
        ];
        if let Some((field, _)) = stray.iter().find(|(_, set)| *set) {
            return Err(invalid(
                file,
                &format!("platform.{field}"),
                "only applies to kind = \"openwhisk\"; remove it or set the kind",
            ));
        }
        return Ok(PlatformConfig::Local(LocalConfig {
            keep_warm: p.keep_warm.unwrap_or(DEFAULT_KEEP_WARM),
        }));
    }
    if p.keep_warm.is_some() {
        return Err(invalid(
            file,
            "platform.keep_warm",
            "only applies to kind = \"local\" (OpenWhisk decides itself how long it keeps containers warm); remove it",
        ));
    }
    let action_kind = one_of(
        file,
        "platform.action_kind",
        p.action_kind.as_deref().unwrap_or("native"),
        &[
            ("native", ActionKind::Native),
            ("nodejs", ActionKind::Nodejs),
        ],
    )?;
    let memory_mb = ranged(file, "platform.memory_mb", p.memory_mb, 256, 128, 512)? as u32;
    let poll_deadline = POLL_DEADLINE.field(
        file,
        "platform.poll_deadline_ms",
        p.poll_deadline_ms,
        Duration::from_secs(300),
    )?;
    Ok(PlatformConfig::OpenWhisk(OpenWhiskConfig {
        apihost: p.apihost,
        auth: p.auth.filter(|a| !a.is_empty()).map(Secret::new),
        namespace: p.namespace.unwrap_or_else(|| "_".into()),
        insecure: p.insecure.unwrap_or(false),
        action_name: p.action_name.unwrap_or_else(|| "redwhisk-bench".into()),
        action_kind,
        nodejs_kind: p.nodejs_kind.unwrap_or_else(|| "nodejs:20".into()),
        memory_mb,
        redis_host_for_actions: p.redis_host_for_actions,
        poll_deadline,
        fetch_logs: p.fetch_logs.unwrap_or(false),
    }))
}

fn validate_workload(w: RawWorkload, file: &str) -> Result<Workload, ProfileError> {
    let mode = one_of(
        file,
        "workload.mode",
        w.mode.as_deref().unwrap_or("sequential"),
        &[
            ("sequential", Mode::Sequential),
            ("pipelined", Mode::Pipelined),
        ],
    )?;
    let seed = match w.seed {
        Some(s) if s < 0 => return Err(invalid(file, "workload.seed", "must be 0 or more")),
        s => s.map(|s| s as u64),
    };
    let open = match w.rate {
        None => {
            for (set, field) in [
                (w.arrivals.is_some(), "workload.arrivals"),
                (w.max_in_flight.is_some(), "workload.max_in_flight"),
            ] {
                if set {
                    return Err(invalid(
                        file,
                        field,
                        "applies to an open loop only; set workload.rate (arrivals per second) too, or remove it",
                    ));
                }
            }
            None
        }
        Some(rate) => Some(OpenLoop {
            rate: check_rate(rate).map_err(|m| invalid(file, "workload.rate", m))?,
            arrivals: one_of(
                file,
                "workload.arrivals",
                w.arrivals.as_deref().unwrap_or("constant"),
                &ARRIVALS,
            )?,
            max_in_flight: MAX_IN_FLIGHT.check(
                file,
                w.max_in_flight,
                i64::from(DEFAULT_MAX_IN_FLIGHT),
            )? as u32,
            seed: seed.unwrap_or(crate::stats::arrivals::DEFAULT_SEED),
        }),
    };
    let workload = Workload {
        open,
        action: w.action.unwrap_or_else(|| "bench".into()),
        invocations: INVOCATIONS.check(file, w.invocations, 100)? as u32,
        concurrency: CONCURRENCY.check(file, w.concurrency, 1)? as u32,
        records: RECORDS.check(file, w.records, 1000)? as u32,
        value_size: VALUE_SIZE.check(file, w.value_size, 32)? as u32,
        mode,
        key_prefix: match w.key_prefix {
            None => "rw".into(),
            Some(p) if p.trim().is_empty() => {
                return Err(invalid(
                    file,
                    "workload.key_prefix",
                    "must not be empty: the bench keys and a cancelled run's clean-up are found by this prefix; write e.g. \"rw\"",
                ));
            }
            Some(p) => p,
        },
        seed,
        timeout: INVOCATION_TIMEOUT.field(
            file,
            "workload.timeout_ms",
            w.timeout_ms,
            Duration::from_secs(60),
        )?,
    };
    check_workload(&workload, file)?;
    Ok(workload)
}

pub(super) fn check_workload(w: &Workload, file: &str) -> Result<(), ProfileError> {
    if w.action != "bench" {
        return Err(invalid(
            file,
            "workload.action",
            format!("\"{}\" is not a known action; use \"bench\"", w.action),
        ));
    }
    if w.invocations == 0 {
        return Err(invalid(file, "workload.invocations", "must be at least 1"));
    }
    if w.concurrency == 0 || w.records == 0 {
        return Err(invalid(
            file,
            "workload",
            "concurrency and records must be at least 1",
        ));
    }
    Ok(())
}
