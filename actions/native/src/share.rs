//! The writer and reader actions (case study 2): one invocation stores a seeded key set, a later
//! one (possibly after Redis was stopped and restored) reads it back and compares digests.

use std::time::Instant;

use redis::Value;

use crate::bench::{Values, check_common};
use crate::conn::{self, Access};
use crate::error::ActionError;
use crate::phase::{self, Command};
use crate::protocol::{ReaderParams, ReaderResult, SHARE_BATCH, WriterParams, WriterResult};
use crate::values;

fn keys(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}:{i}")).collect()
}

/// Digest of the full key set the writer stores for `seed`.
pub(crate) fn expected_digest(keys: &[String], vals: &Values) -> String {
    let mut pairs: Vec<(&[u8], &[u8])> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_bytes(), vals.get(i)))
        .collect();
    values::digest(&mut pairs)
}

/// One connection, or a cluster client when `cluster` is set.
fn open(
    host: &str,
    port: u16,
    access: &Access,
    cluster: bool,
    nodes: &[String],
) -> Result<Box<dyn phase::Exec>, ActionError> {
    Ok(if cluster {
        Box::new(crate::cluster::ClusterConn::connect_any(
            host, port, access, nodes,
        )?)
    } else {
        Box::new(conn::connect_single(host, port, access)?.con)
    })
}

/// Run the writer action.
pub fn write(p: &WriterParams) -> Result<WriterResult, ActionError> {
    check_common(&p.host, p.port, p.keys, "keys", p.value_size, &p.key_prefix)?;
    let n = p.keys as usize;
    let seed = p.seed.unwrap_or_else(values::fresh_seed);
    let keys = keys(&p.key_prefix, n);
    let vals = Values::generate(seed, n, p.value_size as usize);
    eprintln!("writer: {n} keys {}:0..{}", p.key_prefix, n - 1);
    let start = Instant::now();
    let mut c = open(
        &p.host,
        p.port,
        &Access::new(p.password.as_deref(), p.tls, p.tls_ca.as_deref()),
        p.cluster,
        &p.nodes,
    )?;
    let connect_ms = start.elapsed().as_secs_f64() * 1e3;
    let w = phase::pipelined(c.as_mut(), "write", n, SHARE_BATCH, |i| {
        Command::set(keys[i].as_bytes(), vals.get(i))
    })?;
    Ok(WriterResult {
        action: "writer".into(),
        keys_written: n as u64 - w.errors,
        value_size: p.value_size,
        key_prefix: p.key_prefix.clone(),
        seed,
        digest: expected_digest(&keys, &vals),
        connect_ms,
        write_ms: w.ms,
        round_trips: w.round_trips,
        errors: w.errors,
    })
}

/// Run the reader action.
pub fn read(p: &ReaderParams) -> Result<ReaderResult, ActionError> {
    check_common(&p.host, p.port, p.keys, "keys", p.value_size, &p.key_prefix)?;
    if p.seed.is_none() && p.expected_digest.is_none() {
        return Err(ActionError::BadParams(
            "give `seed` (to regenerate the expected values) or `expected_digest` (the writer's digest), or both".into(),
        ));
    }
    let n = p.keys as usize;
    let keys = keys(&p.key_prefix, n);
    let regenerated = p
        .seed
        .map(|seed| Values::generate(seed, n, p.value_size as usize));
    eprintln!("reader: {n} keys {}:0..{}", p.key_prefix, n - 1);
    let start = Instant::now();
    let mut c = open(
        &p.host,
        p.port,
        &Access::new(p.password.as_deref(), p.tls, p.tls_ca.as_deref()),
        p.cluster,
        &p.nodes,
    )?;
    let connect_ms = start.elapsed().as_secs_f64() * 1e3;
    let r = phase::pipelined(c.as_mut(), "read", n, SHARE_BATCH, |i| {
        Command::get(keys[i].as_bytes())
    })?;

    let mut found_pairs: Vec<(&[u8], &[u8])> = Vec::with_capacity(n);
    let mut mismatches = 0;
    for (i, reply) in r.replies.iter().enumerate() {
        if let Value::BulkString(v) = reply {
            found_pairs.push((keys[i].as_bytes(), v.as_slice()));
            if regenerated
                .as_ref()
                .is_some_and(|e| e.get(i) != v.as_slice())
            {
                mismatches += 1;
            }
        }
    }
    let found = found_pairs.len() as u64;
    let digest = values::digest(&mut found_pairs);
    let expected = match (&p.expected_digest, &regenerated) {
        (Some(d), _) => d.trim().to_ascii_lowercase(),
        (None, Some(vals)) => expected_digest(&keys, vals),
        (None, None) => String::new(),
    };
    Ok(ReaderResult {
        action: "reader".into(),
        keys: n as u64,
        found,
        missing: n as u64 - found,
        mismatches: regenerated.as_ref().map(|_| mismatches),
        matches: digest == expected,
        digest,
        expected_digest: expected,
        connect_ms,
        read_ms: r.ms,
        round_trips: r.round_trips,
        errors: r.errors,
    })
}
