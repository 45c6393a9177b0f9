//! Errors at the OpenWhisk boundary. Each names what to check. No message ever contains the
//! API key: bodies from the server are scrubbed before they are kept.

use std::path::PathBuf;

/// Why an OpenWhisk call failed. A failed *action* is not one of these: it is an
/// [`Activation`](crate::platform::Activation) with `success = false` (HTTP 502 is data).
#[derive(Debug, thiserror::Error)]
pub enum OpenWhiskError {
    /// Missing or malformed host/key settings.
    #[error("OpenWhisk configuration: {0}")]
    Config(String),
    #[error("cannot read the OpenWhisk properties file {path}: {source}")]
    PropsFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// Connection refused, DNS, TLS, timeouts: the host never answered properly. The cause
    /// is the source (printed after this message in an error chain), stripped of its URL:
    /// the API host is already named here.
    #[error(
        "cannot reach OpenWhisk at {apihost} ({what}); check the API host and that OpenWhisk is running"
    )]
    Transport {
        apihost: String,
        what: String,
        #[source]
        source: reqwest::Error,
    },
    #[error(
        "OpenWhisk rejected the key (401 {body}): check `auth` in the profile, WHISK_AUTH or AUTH in ~/.wskprops (`wsk property get --auth`)"
    )]
    Unauthorized { body: String },
    #[error(
        "OpenWhisk refused access to namespace `{namespace}` (403 {body}): check `namespace` in the profile (use `_` for the key's own namespace)"
    )]
    Forbidden { namespace: String, body: String },
    #[error(
        "OpenWhisk has no {what} (404 {body}): check the action name and namespace, and deploy the action first"
    )]
    NotFound { what: String, body: String },
    #[error(
        "action `{name}` already exists (409 {body}): deploy with overwrite (redwhisk always does) or delete it with `wsk action delete {name}`"
    )]
    Conflict { name: String, body: String },
    #[error(
        "OpenWhisk rejected the request ({status} {body}): check the action limits (memory_mb, timeout_ms) and the parameters"
    )]
    BadRequest { status: u16, body: String },
    #[error(
        "OpenWhisk failed ({status} {body}): the platform itself is unhealthy; check the controller and invoker logs"
    )]
    Server { status: u16, body: String },
    #[error("unexpected answer from OpenWhisk ({status} {body})")]
    Unexpected { status: u16, body: String },
    /// Throttled (429) on every try until the deadline.
    #[error(
        "OpenWhisk kept throttling `{name}` (429 x{throttled}) until the {deadline_ms} ms deadline: lower the concurrency or raise the namespace limits"
    )]
    Throttled {
        name: String,
        throttled: u32,
        deadline_ms: u64,
    },
    /// A 202 whose record never appeared before the poll deadline.
    #[error(
        "activation {activation_id} of `{name}` had no record after {deadline_ms} ms of polling: raise platform.poll_deadline_ms, or look later with `wsk activation get {activation_id}`"
    )]
    PollDeadline {
        name: String,
        activation_id: String,
        deadline_ms: u64,
    },
    /// A setting that cannot work, found before anything started.
    #[error("{setting}: {message}")]
    Preflight {
        setting: &'static str,
        message: String,
    },
    #[error("cannot parse the activation record from OpenWhisk: {0}")]
    Record(String),
    /// The action artifact could not be built or found.
    #[error(transparent)]
    Package(#[from] super::package::PackageError),
}
