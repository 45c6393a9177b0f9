//! Speaking Redis Cluster: one connection per master, each command sent to the master of its
//! key's slot, MOVED and ASK followed (and counted), a failing-over shard retried.
//!
//! Why not the redis crate's `ClusterClient`: it follows redirections inside and says nothing
//! of them, and the bench must report how many it met. Routing is small: CRC16 of the key (or
//! its `{hash tag}`) modulo 16384, a slot table from `CLUSTER SLOTS`, refreshed on MOVED.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use redis::Value;
use serde::{Deserialize, Serialize};

use crate::conn::{self, Access};
use crate::error::ActionError;

/// Redirections and retries met by a cluster client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterCounters {
    /// `-MOVED` replies followed (the slot table was refreshed after each).
    pub moved: u64,
    /// `-ASK` replies followed (a slot being migrated).
    pub ask: u64,
    /// Commands sent again after `-TRYAGAIN`, `-CLUSTERDOWN` or a lost connection.
    pub retries: u64,
    /// Masters the client knew at the end.
    pub nodes: u64,
}

/// The slot of `key` (Redis Cluster's hash: CRC16/XMODEM of the hash tag or the key).
pub fn slot(key: &[u8]) -> u16 {
    let tagged = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            rest.iter()
                .position(|&b| b == b'}')
                .filter(|&close| close > 0)
                .map(|close| &rest[..close])
        })
        .unwrap_or(key);
    crc16::State::<crc16::XMODEM>::calculate(tagged) % 16384
}

/// How long a command may keep being retried while its shard fails over.
const RETRY_WINDOW: Duration = Duration::from_secs(10);
/// How long one command on a cluster node may wait for its reply: a frozen master (SIGSTOP)
/// is then treated like a lost one — the slot table asked again of another node, the command
/// retried within the outage window — instead of holding the invocation for the 30 s I/O
/// deadline of a single server.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the first node has to answer before the others are tried beside it.
const HEAD_START: Duration = Duration::from_millis(50);
const MAX_REDIRECTS: u32 = 16;

/// A connection to every master of a cluster.
pub struct ClusterConn {
    access: Access,
    /// `(first, last, "host:port")`, sorted by slot.
    slots: Vec<(u16, u16, String)>,
    conns: HashMap<String, redis::Connection>,
    pub counters: ClusterCounters,
    /// How long a command is retried through a failover before its error is returned.
    retry_window: Duration,
    /// When the current outage began (the first retryable failure since the last success):
    /// one window per outage, not per command, so a cluster that stays down fails every later
    /// command at once instead of holding each for the whole window.
    down_since: Option<Instant>,
    /// Round trips spent connecting (seed + CLUSTER SLOTS + each master's connect).
    pub connect_round_trips: u64,
    /// Every node known from the parameters (`host:port`), asked for the slot table when the
    /// masters in use fail.
    seeds: Vec<String>,
}

fn addr_of(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn split_addr(addr: &str) -> Option<(String, u16)> {
    let (h, p) = addr.rsplit_once(':')?;
    Some((
        h.trim_start_matches('[').trim_end_matches(']').to_string(),
        p.parse().ok()?,
    ))
}

/// `CLUSTER SLOTS` → `(first, last, "host:port")`. A node that announces an empty host is
/// reached at the host the reply came from (Redis 7 does that when it does not know its IP).
fn parse_slots(v: &Value, via_host: &str) -> Vec<(u16, u16, String)> {
    let mut out = Vec::new();
    let Value::Array(ranges) = v else {
        return out;
    };
    for r in ranges {
        let Value::Array(parts) = r else { continue };
        let (Some(Value::Int(a)), Some(Value::Int(b)), Some(Value::Array(master))) =
            (parts.first(), parts.get(1), parts.get(2))
        else {
            continue;
        };
        let host = match master.first() {
            Some(Value::BulkString(h)) if !h.is_empty() => String::from_utf8_lossy(h).into_owned(),
            _ => via_host.to_string(),
        };
        let Some(Value::Int(port)) = master.get(1) else {
            continue;
        };
        out.push((*a as u16, *b as u16, addr_of(&host, *port as u16)));
    }
    out.sort();
    out
}

/// The key of a single-key command (its first argument).
fn key_of(cmd: &redis::Cmd) -> Vec<u8> {
    match cmd.args_iter().nth(1) {
        Some(redis::Arg::Simple(k)) => k.to_vec(),
        _ => Vec::new(),
    }
}

fn is_retryable(e: &redis::RedisError) -> bool {
    matches!(
        e.code(),
        Some("TRYAGAIN" | "CLUSTERDOWN" | "LOADING" | "MASTERDOWN")
    ) || e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
}

impl ClusterConn {
    /// Connect to the seed, learn the slot table, connect to every master.
    pub fn connect(host: &str, port: u16, access: &Access) -> Result<Self, ActionError> {
        let mut seed = conn::connect(host, port, access)?;
        let slots_reply: Value = redis::cmd("CLUSTER")
            .arg("SLOTS")
            .query(&mut seed.con)
            .map_err(|source| ActionError::NotACluster {
                addr: addr_of(host, port),
                source,
            })?;
        let slots = parse_slots(&slots_reply, host);
        if slots.is_empty() {
            return Err(ActionError::BadParams(format!(
                "`cluster` is true but {} serves no slots (CLUSTER SLOTS is empty): is the cluster formed?",
                addr_of(host, port)
            )));
        }
        let mut me = Self {
            access: access.clone(),
            slots,
            conns: HashMap::new(),
            counters: ClusterCounters::default(),
            retry_window: RETRY_WINDOW,
            down_since: None,
            connect_round_trips: seed.round_trips + 1,
            seeds: vec![addr_of(host, port)],
        };
        let _ = seed.con.set_read_timeout(Some(REPLY_TIMEOUT));
        me.conns.insert(addr_of(host, port), seed.con);
        let masters: Vec<String> = me.slots.iter().map(|s| s.2.clone()).collect();
        for m in masters {
            // A master that is down right now (a failover under way) is not an error yet: its
            // commands retry within the outage window, by when a replica may serve its slots.
            if let Err(e) = me.conn(&m) {
                eprintln!("cluster: master {m} not reachable at connect ({e}); retrying on use");
            }
        }
        me.counters.nodes = me.conns.len() as u64;
        Ok(me)
    }

    /// [`ClusterConn::connect`] through `host:port`, else through each of `nodes` in turn
    /// (the first node may be the one that is down): the first that answers is the seed. A
    /// refused password or a node that is not in cluster mode ends the search at once.
    pub fn connect_any(
        host: &str,
        port: u16,
        access: &Access,
        nodes: &[String],
    ) -> Result<Self, ActionError> {
        let mut seeds = vec![addr_of(host, port)];
        for n in nodes {
            if !seeds.contains(n) {
                seeds.push(n.clone());
            }
        }
        // Every node is tried at once (the first after a head start, so a healthy cluster is
        // always reached through it): a frozen node accepts the connection and never answers,
        // and trying the nodes in turn would charge each invocation its full connect deadline.
        let (tx, rx) = std::sync::mpsc::channel();
        for (i, addr) in seeds.iter().enumerate() {
            let Some((h, p)) = split_addr(addr) else {
                return Err(ActionError::BadParams(format!("bad node address {addr}")));
            };
            let (tx, access) = (tx.clone(), access.clone());
            std::thread::spawn(move || {
                if i > 0 {
                    std::thread::sleep(HEAD_START);
                }
                let _gone = tx.send((i, Self::connect(&h, p, &access)));
            });
        }
        drop(tx);
        let mut first_error = None;
        for (i, result) in rx {
            match result {
                Ok(mut c) => {
                    if i > 0 {
                        eprintln!(
                            "cluster: {} did not answer first; connected through {}",
                            seeds[0], seeds[i]
                        );
                    }
                    c.seeds.clone_from(&seeds);
                    return Ok(c);
                }
                Err(e) if e.is_unreachable() => {
                    if i == 0 || first_error.is_none() {
                        first_error = Some(e);
                    }
                }
                // A refused password or a node not in cluster mode fails on every node.
                Err(e) => return Err(e),
            }
        }
        Err(first_error.unwrap_or_else(|| ActionError::BadParams("no cluster node given".into())))
    }

    /// Change how long a command is retried through a failover (zero: report every failure,
    /// as the failover experiment does to measure the window).
    pub fn set_retry_window(&mut self, d: Duration) {
        self.retry_window = d;
    }

    /// The master serving `key` now, as `host:port`.
    pub fn master_for(&self, key: &[u8]) -> String {
        self.route(key)
    }

    /// `WAIT numreplicas timeout` on the master serving `key`: how many of its replicas have
    /// acknowledged every write sent on that connection so far.
    pub fn wait_replicas(
        &mut self,
        key: &[u8],
        replicas: u32,
        timeout_ms: u64,
    ) -> redis::RedisResult<i64> {
        let addr = self.route(key);
        let c = self.conn(&addr).map_err(|e| {
            redis::RedisError::from(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                e.to_string(),
            ))
        })?;
        redis::cmd("WAIT").arg(replicas).arg(timeout_ms).query(c)
    }

    fn master_of(&self, slot: u16) -> Option<&str> {
        self.slots
            .iter()
            .find(|(a, b, _)| *a <= slot && slot <= *b)
            .map(|s| s.2.as_str())
    }

    fn conn(&mut self, addr: &str) -> Result<&mut redis::Connection, ActionError> {
        if !self.conns.contains_key(addr) {
            let (h, p) = split_addr(addr)
                .ok_or_else(|| ActionError::BadParams(format!("bad node address {addr}")))?;
            let c = conn::connect(&h, p, &self.access)?;
            let _ = c.con.set_read_timeout(Some(REPLY_TIMEOUT));
            self.connect_round_trips += c.round_trips;
            self.conns.insert(addr.to_string(), c.con);
        }
        self.conns
            .get_mut(addr)
            .ok_or_else(|| ActionError::BadParams(format!("no connection to {addr}")))
    }

    fn refresh(&mut self, via: &str) {
        let via_host = split_addr(via).map(|(h, _)| h).unwrap_or_default();
        if let Ok(c) = self.conn(via)
            && let Ok(v) = redis::cmd("CLUSTER").arg("SLOTS").query::<Value>(c)
        {
            let slots = parse_slots(&v, &via_host);
            if !slots.is_empty() {
                self.slots = slots;
            }
        }
        self.counters.nodes = self
            .slots
            .iter()
            .map(|s| s.2.as_str())
            .collect::<std::collections::HashSet<_>>()
            .len() as u64;
    }

    /// Refresh the slot table through the first node other than `bad` that answers.
    fn refresh_elsewhere(&mut self, bad: &str) {
        let mut candidates: Vec<String> =
            self.conns.keys().filter(|a| *a != bad).cloned().collect();
        for s in &self.seeds {
            if s != bad && !candidates.contains(s) {
                candidates.push(s.clone());
            }
        }
        for c in candidates {
            self.refresh(&c);
            if self.conns.contains_key(&c) {
                return;
            }
        }
    }

    /// The master for `key` now.
    fn route(&self, key: &[u8]) -> String {
        self.master_of(slot(key))
            .map(str::to_string)
            .unwrap_or_else(|| self.slots[0].2.clone())
    }

    /// Send one single-key command, following MOVED/ASK and retrying through a failover.
    pub fn query(&mut self, cmd: &redis::Cmd) -> redis::RedisResult<Value> {
        let key = key_of(cmd);
        let mut addr = self.route(&key);
        let mut asking = false;
        let mut redirects = 0;
        loop {
            let r = match self.conn(&addr) {
                Ok(c) => {
                    if asking {
                        let _: redis::RedisResult<Value> = redis::cmd("ASKING").query(c);
                    }
                    cmd.query::<Value>(c)
                }
                Err(e) => Err(redis::RedisError::from(std::io::Error::new(
                    std::io::ErrorKind::ConnectionRefused,
                    e.to_string(),
                ))),
            };
            asking = false;
            let e = match r {
                Ok(v) => {
                    self.down_since = None;
                    return Ok(v);
                }
                Err(e) => e,
            };
            if let Some((to, _slot)) = e.redirect_node()
                && redirects < MAX_REDIRECTS
            {
                redirects += 1;
                let to = to.to_string();
                if e.code() == Some("ASK") {
                    self.counters.ask += 1;
                    asking = true;
                } else {
                    self.counters.moved += 1;
                    self.refresh(&to);
                }
                addr = to;
                continue;
            }
            let lost = e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal();
            let lost = lost || e.is_timeout();
            if lost {
                self.conns.remove(&addr);
                // Ask another node who serves the slot now (a replica may have taken over):
                // a master in use, else any node the parameters named.
                self.refresh_elsewhere(&addr);
            }
            if is_retryable(&e) {
                let since = *self.down_since.get_or_insert_with(Instant::now);
                if since.elapsed() < self.retry_window {
                    self.counters.retries += 1;
                    std::thread::sleep(Duration::from_millis(50));
                    addr = self.route(&key);
                    continue;
                }
            }
            return Err(e);
        }
    }

    /// Send `cmds` as one pipeline per master, in order within each; commands answered with
    /// a redirection are sent again one by one. Returns the replies in `cmds` order and the
    /// round trips taken.
    pub fn pipeline(
        &mut self,
        cmds: Vec<redis::Cmd>,
    ) -> redis::RedisResult<(Vec<redis::RedisResult<Value>>, u64)> {
        let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, c) in cmds.iter().enumerate() {
            let addr = self.route(&key_of(c));
            match groups.iter_mut().find(|g| g.0 == addr) {
                Some(g) => g.1.push(i),
                None => groups.push((addr, vec![i])),
            }
        }
        let mut out: Vec<Option<redis::RedisResult<Value>>> =
            (0..cmds.len()).map(|_| None).collect();
        let mut round_trips = 0;
        for (addr, idx) in groups {
            let mut pipe = redis::pipe();
            pipe.ignore_errors();
            for &i in &idx {
                pipe.add_command(cmds[i].clone());
            }
            let got: redis::RedisResult<Vec<redis::RedisResult<Value>>> = match self.conn(&addr) {
                Ok(c) => pipe.query(c),
                Err(e) => Err(redis::RedisError::from(std::io::Error::new(
                    std::io::ErrorKind::ConnectionRefused,
                    e.to_string(),
                ))),
            };
            round_trips += 1;
            match got {
                Ok(replies) => {
                    for (&i, r) in idx.iter().zip(replies) {
                        out[i] = Some(r);
                    }
                }
                Err(e) if is_retryable(&e) => {
                    self.conns.remove(&addr);
                    for &i in &idx {
                        out[i] = None;
                    }
                }
                Err(e) => return Err(e),
            }
        }
        let mut replies = Vec::with_capacity(cmds.len());
        for (i, r) in out.into_iter().enumerate() {
            match r {
                Some(Err(e)) if e.redirect_node().is_some() || is_retryable(&e) => {
                    round_trips += 1;
                    replies.push(self.query(&cmds[i]));
                }
                Some(r) => replies.push(r),
                None => {
                    round_trips += 1;
                    replies.push(self.query(&cmds[i]));
                }
            }
        }
        Ok((replies, round_trips))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_redis_cluster_keyslot() {
        // Values from `CLUSTER KEYSLOT` on redis-server 7.0.
        assert_eq!(slot(b"foo"), 12182);
        assert_eq!(slot(b"bar"), 5061);
        assert_eq!(slot(b"{user1000}.following"), slot(b"user1000"));
        assert_eq!(
            slot(b"foo{}{bar}"),
            slot(b"foo{}{bar}"),
            "empty tag: whole key"
        );
        assert_eq!(slot(b"123456789"), 0x31C3, "CRC16/XMODEM check value");
    }
}
