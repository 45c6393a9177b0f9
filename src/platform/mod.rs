//! Platforms run actions: the embedded `local` platform (native actions as processes under
//! OpenWhisk's native contract) and OpenWhisk itself. Both produce OpenWhisk-shaped
//! [`Activation`] records.

pub mod activation;
mod error;

pub use activation::{Activation, ActivationStatus, Annotation};
pub use error::PlatformError;

use crate::event::EventSink;
use crate::profile::Profile;

/// Which built-in action to deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BuiltinAction {
    Bench,
    Writer,
    Reader,
}

impl BuiltinAction {
    pub fn as_str(self) -> &'static str {
        match self {
            BuiltinAction::Bench => "bench",
            BuiltinAction::Writer => "writer",
            BuiltinAction::Reader => "reader",
        }
    }
}

/// A platform chosen by the profile. Cheap to clone; invocations may run concurrently.
#[derive(Debug, Clone)]
pub struct Platform {
    label: &'static str,
}

impl Platform {
    pub fn new(profile: &Profile) -> Result<Self, PlatformError> {
        Ok(Self {
            label: profile.platform.label(),
        })
    }

    pub fn label(&self) -> &'static str {
        self.label
    }

    /// Make `action` invocable under `name` (overwriting an earlier version).
    pub async fn deploy(
        &self,
        _action: BuiltinAction,
        _name: &str,
        _events: &EventSink,
    ) -> Result<(), PlatformError> {
        Err(PlatformError::NotImplemented(self.label))
    }

    /// Invoke and wait for the activation record (a failed action is an `Ok` record).
    pub async fn invoke(
        &self,
        _name: &str,
        _params: serde_json::Value,
    ) -> Result<Activation, PlatformError> {
        Err(PlatformError::NotImplemented(self.label))
    }
}
