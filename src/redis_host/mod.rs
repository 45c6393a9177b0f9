//! The Redis host: a Redis that exists only while functions need it.
//!
//! Three backends behind one type, chosen per profile: `process` (a `redis-server` child),
//! `docker` (a container through bollard) and `external` (a Redis we do not own).
//! Start and stop are safe to repeat; every step is reported as [`EngineEvent`]s.

mod error;
mod types;

pub use error::HostError;
pub use types::{ColdStart, Endpoint, RedisState, RedisStatus, StopMode, StopReport};

use crate::event::EventSink;
use crate::profile::Profile;

/// One profile's Redis host.
#[derive(Debug)]
pub struct RedisHost {
    profile: Profile,
}

impl RedisHost {
    pub fn new(profile: &Profile) -> Result<Self, HostError> {
        Ok(Self {
            profile: profile.clone(),
        })
    }

    /// Ensure image → create → start → wait for PONG. Returns where to connect.
    pub async fn up(&mut self, _events: &EventSink) -> Result<Endpoint, HostError> {
        Err(HostError::NotImplemented(
            self.profile.redis.backend.label(),
        ))
    }

    /// SHUTDOWN SAVE (or NOSAVE) and wait for exit; or a crash stop (SIGKILL, no save).
    pub async fn down(
        &mut self,
        _mode: StopMode,
        _events: &EventSink,
    ) -> Result<StopReport, HostError> {
        Err(HostError::NotImplemented(
            self.profile.redis.backend.label(),
        ))
    }

    /// State, endpoint, uptime, keys, memory, persistence, last save.
    pub async fn status(&self) -> Result<RedisStatus, HostError> {
        Err(HostError::NotImplemented(
            self.profile.redis.backend.label(),
        ))
    }
}
