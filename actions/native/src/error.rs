//! Why an action failed. Every variant becomes the `{"error": "..."}` result, so each message
//! says what to check; none may contain the password.

/// An action's failure, reported as an application error (`{"error": ...}`), never a panic.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("bad parameters: {0}")]
    BadParams(String),
    #[error(
        "cannot resolve host `{host}`: {source}. Pass an IP address such as 127.0.0.1 \
         (the statically linked action binary cannot use the system's name service)"
    )]
    Resolve {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "cannot connect to Redis at {addr}: {source}. Check that Redis is running there and \
         that `host` and `port` are right"
    )]
    Connect {
        addr: String,
        #[source]
        source: redis::RedisError,
    },
    #[error("cannot connect to Redis at {addr} over TLS: {why} ({source})")]
    Tls {
        addr: String,
        why: &'static str,
        #[source]
        source: redis::RedisError,
    },
    #[error(
        "cannot connect to Redis at {addr}: it dropped the connection before answering \
         ({source}); if that port speaks TLS, set `tls` true (redwhisk: use rediss://)"
    )]
    MaybeTls {
        addr: String,
        #[source]
        source: redis::RedisError,
    },
    #[error(
        "Redis at {addr} rejected the password: check the `password` parameter (redwhisk: \
         redis.password or the password in redis.url) ({source})"
    )]
    WrongPassword {
        addr: String,
        #[source]
        source: redis::RedisError,
    },
    #[error("Redis at {addr} requires a password: pass `password` ({source})")]
    PasswordRequired {
        addr: String,
        #[source]
        source: redis::RedisError,
    },
    #[error(
        "a password was given but Redis at {addr} has none configured: remove `password` ({source})"
    )]
    NoPasswordConfigured {
        addr: String,
        #[source]
        source: redis::RedisError,
    },
    #[error("connection to Redis lost during the {phase} phase: {source}")]
    Lost {
        phase: &'static str,
        #[source]
        source: redis::RedisError,
    },
    #[error(
        "`cluster` is true but Redis at {addr} is not a cluster node ({source}): set `cluster = false`, or point at a node of a Redis Cluster"
    )]
    NotACluster {
        addr: String,
        #[source]
        source: redis::RedisError,
    },
    #[error("unknown action `{0}`: use bench, writer or reader")]
    UnknownAction(String),
    /// Another variant's message with the password replaced (Redis never echoes it, but a
    /// future error text might).
    #[error("{0}")]
    Redacted(String),
}

impl ActionError {
    /// The node could not be reached (name, connection, or no answer in time): another node
    /// of a cluster may do. A refused password or a bad parameter would fail on every node.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            ActionError::Resolve { .. }
                | ActionError::Connect { .. }
                | ActionError::MaybeTls { .. }
        )
    }
}
