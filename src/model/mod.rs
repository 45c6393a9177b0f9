//! The bottom layer: plain records that every other layer reads and writes. Nothing here
//! imports the engine, a platform, a Redis host or a face; events carry only these types.
//! See ARCHITECTURE.md ("Layers").

pub mod activation;
pub mod cost;
pub mod gateway;
pub mod library;
pub mod network;
pub mod phase;
pub mod process;
pub mod rate_sweep;
pub mod redis;
pub mod rtt_sweep;
pub mod run;
pub mod snapshot;
pub mod sweep;
pub mod workload;

pub use activation::{Activation, ActivationResponse, ActivationStatus, Annotation};
pub use cost::{Bill, CostRecord, Prices};
pub use gateway::{GatewayEvent, GatewaySnapshot, GatewayState};
pub use library::{Kind, ResultEntry};
pub use network::{NetworkRecord, RttSample};
pub use phase::{Level, Phase};
pub use redis::{
    ClusterStart, ColdStart, NodeStatus, RedisState, RedisStatus, StopMode, StopReport,
};
pub use snapshot::{RestoreReport, SnapshotEvent, SnapshotId, SnapshotSummary, UploadOutcome};
pub use sweep::{SweepReport, SweepStep};
pub use workload::Mode;
