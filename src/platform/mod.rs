//! Platforms run actions: the embedded `local` platform (native actions as processes under
//! OpenWhisk's native contract) and OpenWhisk itself. Both produce OpenWhisk-shaped
//! [`Activation`] records.

pub use crate::model::activation;
pub(crate) mod builtin;
mod error;
pub mod lambda;
pub mod local;
pub mod openwhisk;

pub use crate::model::activation::{Activation, ActivationResponse, ActivationStatus, Annotation};
pub use builtin::BuiltinAction;
pub use error::PlatformError;
pub use lambda::LambdaPlatform;
pub use local::LocalPlatform;
pub use openwhisk::OpenWhiskPlatform;

use crate::event::EventSink;
use crate::profile::{PlatformConfig, Profile};

/// A platform chosen by the profile. Cheap to clone; invocations may run concurrently.
#[derive(Debug, Clone)]
pub enum Platform {
    /// Native actions as local processes under OpenWhisk's native contract.
    Local(LocalPlatform),
    /// Apache OpenWhisk over its REST API (boxed: it holds a URL and settings).
    OpenWhisk(Box<OpenWhiskPlatform>),
    /// AWS Lambda through its API, or the local Lambda emulator in containers.
    Lambda(LambdaPlatform),
}

impl Platform {
    /// The platform the profile names.
    pub fn new(profile: &Profile) -> Result<Self, PlatformError> {
        match &profile.platform {
            PlatformConfig::Local(_) => Ok(Platform::Local(LocalPlatform::from_profile(profile)?)),
            PlatformConfig::OpenWhisk(_) => Ok(Platform::OpenWhisk(Box::new(
                OpenWhiskPlatform::new(profile)?,
            ))),
            PlatformConfig::Lambda(_) => Ok(Platform::Lambda(LambdaPlatform::new(profile)?)),
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Platform::Local(_) => "local",
            Platform::OpenWhisk(p) => p.label(),
            Platform::Lambda(p) => p.label(),
        }
    }

    /// Make `action` invocable under `name` (overwriting an earlier version).
    pub async fn deploy(
        &self,
        action: BuiltinAction,
        name: &str,
        events: &EventSink,
    ) -> Result<(), PlatformError> {
        match self {
            Platform::Local(p) => p.deploy(action, name, events),
            Platform::OpenWhisk(p) => p.deploy(action, name, events).await,
            Platform::Lambda(p) => p.deploy(action, name, events).await,
        }
    }

    /// Invoke and wait for the activation record (a failed action is an `Ok` record).
    pub async fn invoke(
        &self,
        name: &str,
        params: serde_json::Value,
    ) -> Result<Activation, PlatformError> {
        match self {
            Platform::Local(p) => p.invoke(name, params).await,
            Platform::OpenWhisk(p) => p.invoke(name, params).await,
            Platform::Lambda(p) => p.invoke(name, params).await,
        }
    }

    /// A finished activation's record by id, when the platform still has it.
    pub async fn activation(&self, id: &str) -> Result<Option<Activation>, PlatformError> {
        match self {
            Platform::Local(p) => Ok(p.activation(id)),
            Platform::OpenWhisk(p) => p.activation(id).await,
            // Lambda keeps no record to fetch: the answer and its REPORT line are all there is.
            Platform::Lambda(_) => Ok(None),
        }
    }

    /// What the run cost on a platform that bills (Lambda), beside the VM for `wall`.
    pub fn cost(&self, wall: std::time::Duration) -> Option<crate::model::CostRecord> {
        match self {
            Platform::Lambda(p) => Some(p.cost(wall)),
            _ => None,
        }
    }

    /// Remove what the platform started for the run (the local Lambda's containers). Safe to
    /// call more than once; nothing to do for the other platforms.
    pub async fn close(&self) {
        if let Platform::Lambda(p) = self {
            p.close().await;
        }
    }
}
