//! The bench action (case study 1): connect, SET every record, GET and check every value, DEL
//! every record, each phase on a monotonic clock. See actions/README.md for what each timer holds.

use std::time::Instant;

use redis::Value;

use crate::cluster::ClusterConn;
use crate::conn::{self, Access};
use crate::error::ActionError;
use crate::phase::{self, Command};
use crate::protocol::{BenchParams, BenchResult, PhaseLatency, RoundTrips};
use crate::values;

/// The largest test data set we pre-generate (records × value_size).
const MAX_DATA_BYTES: u64 = 1 << 30;

/// The values of one run, pre-generated so no timer includes generating them.
pub(crate) struct Values {
    buf: Vec<u8>,
    size: usize,
}

impl Values {
    pub(crate) fn generate(seed: u64, n: usize, size: usize) -> Self {
        let mut buf = Vec::with_capacity(n * size);
        for i in 0..n {
            values::push_value(seed, i as u64, size, &mut buf);
        }
        Self { buf, size }
    }

    pub(crate) fn get(&self, i: usize) -> &[u8] {
        &self.buf[i * self.size..(i + 1) * self.size]
    }
}

/// Check what every action taking (host, port, count, value_size, prefix) needs.
pub(crate) fn check_common(
    host: &str,
    port: u16,
    count: u32,
    count_name: &str,
    value_size: u32,
    key_prefix: &str,
) -> Result<(), ActionError> {
    let bad = |m: String| Err(ActionError::BadParams(m));
    if host.trim().is_empty() {
        return bad("`host` is empty; give the Redis IP address, e.g. \"127.0.0.1\"".into());
    }
    if port == 0 {
        return bad("`port` is 0; give the port Redis listens on".into());
    }
    if count == 0 {
        return bad(format!("`{count_name}` is 0; use at least 1"));
    }
    if value_size == 0 {
        return bad("`value_size` is 0; use at least 1 byte".into());
    }
    if key_prefix.is_empty() {
        return bad("`key_prefix` is empty; use e.g. \"rw\"".into());
    }
    let bytes = u64::from(count) * u64::from(value_size);
    if bytes > MAX_DATA_BYTES {
        return bad(format!(
            "{count_name} × value_size = {bytes} bytes is over the {MAX_DATA_BYTES}-byte limit; lower one of them"
        ));
    }
    Ok(())
}

/// The activation id of the activation this process runs now, when an action loop (which
/// serves many activations, each with its own id) set it; it wins over `__OW_ACTIVATION_ID`.
static LOOP_ACTIVATION_ID: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Set (or clear) the current activation's id for an action loop ([`crate::contract::run_loop`]).
pub(crate) fn set_loop_activation_id(id: Option<String>) {
    *LOOP_ACTIVATION_ID
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = id;
}

/// This invocation's unique key component: the activation id, else random.
fn invocation_id() -> String {
    let from_loop = LOOP_ACTIVATION_ID
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    from_loop
        .or_else(|| std::env::var("__OW_ACTIVATION_ID").ok())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("{:016x}", values::fresh_seed()))
}

/// GET replies that are not exactly the value written (a missing key counts too).
fn count_mismatches(replies: &[Value], vals: &Values) -> u64 {
    replies
        .iter()
        .enumerate()
        .filter(|(i, v)| !matches!(v, Value::BulkString(b) if b.as_slice() == vals.get(*i)))
        .count() as u64
}

/// What [`check_common`] asks of the bench's parameters.
fn check(p: &BenchParams) -> Result<(), ActionError> {
    check_common(
        &p.host,
        p.port,
        p.records,
        "records",
        p.value_size,
        &p.key_prefix,
    )
}

/// Run the bench action, logging what it does on stderr (the activation's logs).
pub fn run(p: &BenchParams) -> Result<BenchResult, ActionError> {
    run_with_log(p, |line| eprintln!("{line}"))
}

/// Run the bench action, giving each log line to `log` (in-process callers keep them quiet).
pub fn run_with_log(
    p: &BenchParams,
    mut log: impl FnMut(&str),
) -> Result<BenchResult, ActionError> {
    check(p)?;
    let n = p.records as usize;
    let seed = p.seed.unwrap_or_else(values::fresh_seed);
    let key_space = format!("{}:{}", p.key_prefix, invocation_id());
    let keys: Vec<String> = (0..n).map(|i| format!("{key_space}:{i}")).collect();
    let vals = Values::generate(seed, n, p.value_size as usize);
    log(&format!(
        "bench: {n} records of {} bytes, {:?} mode, keys {key_space}:0..{}",
        p.value_size,
        p.mode,
        n - 1
    ));

    let access = Access::new(p.password.as_deref(), p.tls, p.tls_ca.as_deref());
    let total = Instant::now();
    let (mut single, mut cluster) = (None, None);
    let connect_round_trips;
    let con: &mut dyn phase::Exec = if p.cluster {
        let c = cluster.insert(ClusterConn::connect_any(
            &p.host, p.port, &access, &p.nodes,
        )?);
        connect_round_trips = c.connect_round_trips;
        c
    } else {
        let c = single.insert(conn::connect_single(&p.host, p.port, &access)?);
        connect_round_trips = c.round_trips;
        &mut c.con
    };
    let connect_ms = total.elapsed().as_secs_f64() * 1e3;
    let write = phase::run(con, "write", n, p.mode, |i| {
        Command::set(keys[i].as_bytes(), vals.get(i))
    })?;
    let read = phase::run(con, "read", n, p.mode, |i| Command::get(keys[i].as_bytes()))?;
    let delete = phase::run(con, "delete", n, p.mode, |i| {
        Command::del(keys[i].as_bytes())
    })?;
    let total_ms = total.elapsed().as_secs_f64() * 1e3;

    let mismatches = count_mismatches(&read.replies, &vals);
    Ok(BenchResult {
        action: "bench".into(),
        mode: p.mode,
        records: p.records,
        value_size: p.value_size,
        connect_ms,
        write_ms: write.ms,
        read_ms: read.ms,
        delete_ms: delete.ms,
        total_ms,
        mismatches,
        errors: write.errors + read.errors + delete.errors,
        round_trips: RoundTrips {
            connect: connect_round_trips,
            write: write.round_trips,
            read: read.round_trips,
            delete: delete.round_trips,
        },
        latency_us: PhaseLatency {
            write: write.latency,
            read: read.latency,
            delete: delete.latency,
        },
        cluster: cluster.map(|c| c.counters),
    })
}

/// The write phase `rounds` times back to back on one connection, with the same keys each
/// time (the first round inserts them, the others overwrite them): how `redis-benchmark -c 1
/// -P n -r n` runs its pipelines. `key_prefix` is not used: see the keys below. Returns ms
/// per round (one clock around all the rounds, divided by `rounds`) and the SETs answered
/// with an error reply. `redwhisk bench action` compares it with redis-benchmark like for
/// like; an activation runs the phase once, which [`run_with_log`] measures.
pub fn write_rounds_ms(p: &BenchParams, rounds: u32) -> Result<(f64, u64), ActionError> {
    check(p)?;
    if p.cluster {
        return Err(ActionError::BadParams(
            "back-to-back write rounds take one Redis, not a cluster".into(),
        ));
    }
    let n = p.records as usize;
    // Keys as long as redis-benchmark's (`key:` and 12 digits, 16 bytes), so both sides send
    // Redis the same bytes; an activation's keys (prefix, activation id, index) are ~2x longer.
    let keys: Vec<String> = (0..n).map(|i| format!("rwb:{i:012}")).collect();
    let vals = Values::generate(
        p.seed.unwrap_or_else(values::fresh_seed),
        n,
        p.value_size as usize,
    );
    let access = Access::new(p.password.as_deref(), p.tls, p.tls_ca.as_deref());
    let mut c = conn::connect_single(&p.host, p.port, &access)?;
    let rounds = rounds.max(1);
    let mut errors = 0;
    let started = Instant::now();
    for _ in 0..rounds {
        let w = phase::run(&mut c.con, "write", n, p.mode, |i| {
            Command::set(keys[i].as_bytes(), vals.get(i))
        })?;
        errors += w.errors;
    }
    let ms = started.elapsed().as_secs_f64() * 1e3 / f64::from(rounds);
    Ok((ms, errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatches_count_wrong_missing_and_error_replies() {
        let vals = Values::generate(1, 4, 8);
        let mut replies: Vec<Value> = (0..4)
            .map(|i| Value::BulkString(vals.get(i).to_vec()))
            .collect();
        assert_eq!(count_mismatches(&replies, &vals), 0);
        replies[1] = Value::BulkString(b"xxxxxxxx".to_vec());
        replies[2] = Value::Nil;
        assert_eq!(count_mismatches(&replies, &vals), 2);
    }
}
