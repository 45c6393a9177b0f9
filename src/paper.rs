//! The paper's reported figures (shared/paper, section 6), shown beside ours.

use serde::{Deserialize, Serialize};

use crate::stats::PhaseName;

/// Mean and standard deviation in milliseconds, as the paper reported them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PaperFigure {
    pub mean: f64,
    pub std: f64,
}

/// OpenWhisk + Redis container (the paper's Table 2).
pub fn openwhisk_redis(p: PhaseName) -> Option<PaperFigure> {
    let (mean, std) = match p {
        PhaseName::Write => (178.56, 13.27),
        PhaseName::Read => (168.78, 11.89),
        // The paper's DEL figure is below one loopback round trip per command (see README).
        PhaseName::Delete => (9.76, 2004.56),
        PhaseName::Total => (538.93, 148.93),
        PhaseName::Connect => return None,
    };
    Some(PaperFigure { mean, std })
}

/// AWS Lambda + ElastiCache (the paper's Table 3).
pub fn lambda_elasticache(p: PhaseName) -> Option<PaperFigure> {
    let (mean, std) = match p {
        PhaseName::Write => (3136.24, 945.55),
        PhaseName::Read => (372.56, 2050.89),
        PhaseName::Delete => (165.81, 459.86),
        PhaseName::Total => (6394.37, 2894.35),
        PhaseName::Connect => return None,
    };
    Some(PaperFigure { mean, std })
}

/// The paper's Redis container start, about 2 s.
pub const CONTAINER_START_MS: f64 = 2000.0;

/// The paper's workload: 1000 records, 100 invocations.
pub const RECORDS: u32 = 1000;
pub const INVOCATIONS: u32 = 100;
