//! `[platform] kind = "lambda"`: AWS Lambda, or a local Lambda emulator (the AWS Lambda Runtime
//! Interface Emulator in a container), and the price table a run's cost is worked out from.
//! The checks of the written settings are in `lambda_check`.

use std::time::Duration;

use serde::Serialize;

/// The Lambda runtime the function runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LambdaRuntime {
    /// The native bench as a `bootstrap` custom runtime (the `lambda_runtime` crate).
    #[serde(rename = "provided.al2023")]
    ProvidedAl2023,
    /// The Node.js bench as `index.js` with `exports.handler` (the paper's set-up).
    #[serde(rename = "nodejs20.x")]
    Nodejs20,
}

impl LambdaRuntime {
    pub fn as_str(self) -> &'static str {
        match self {
            LambdaRuntime::ProvidedAl2023 => "provided.al2023",
            LambdaRuntime::Nodejs20 => "nodejs20.x",
        }
    }
}

/// Where the function runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Emulator {
    /// AWS (or whatever `endpoint` names) through the Lambda API.
    None,
    /// Containers on this host running the AWS Lambda Runtime Interface Emulator.
    Local,
}

/// Prices in US dollars. Defaults: AWS's public us-east-1 prices for x86 Lambda (see
/// docs/lambda.md for the date they were read).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Price {
    /// Per GB-second of billed duration.
    pub gb_second_usd: f64,
    /// Per million requests.
    pub requests_per_million_usd: f64,
    /// The VM that runs redwhisk's Redis (and OpenWhisk), per hour: the comparison line.
    pub vm_hour_usd: f64,
    /// The Lambda stack's Redis (an ElastiCache node) per hour; 0 leaves it out.
    pub redis_hour_usd: f64,
}

/// AWS Lambda x86, us-east-1, first pricing tier.
pub const DEFAULT_GB_SECOND_USD: f64 = 0.000_016_666_7;
pub const DEFAULT_REQUESTS_PER_MILLION_USD: f64 = 0.20;
/// EC2 m1.xlarge on demand, Linux, us-east-1 (the paper's VM: 8 vCPU, 16 GB).
pub const DEFAULT_VM_HOUR_USD: f64 = 0.35;

impl Default for Price {
    fn default() -> Self {
        Self {
            gb_second_usd: DEFAULT_GB_SECOND_USD,
            requests_per_million_usd: DEFAULT_REQUESTS_PER_MILLION_USD,
            vm_hour_usd: DEFAULT_VM_HOUR_USD,
            redis_hour_usd: 0.0,
        }
    }
}

/// The validated `[platform]` of kind `lambda`.
#[derive(Debug, Clone, Serialize)]
pub struct LambdaConfig {
    pub region: String,
    pub function_name: String,
    pub runtime: LambdaRuntime,
    pub memory_mb: u32,
    /// The function's time limit (whole seconds, as Lambda takes it).
    #[serde(with = "super::error::millis")]
    pub timeout: Duration,
    /// Needed to create a function on AWS; the emulator ignores it.
    pub role_arn: Option<String>,
    pub vpc_subnet_ids: Vec<String>,
    pub vpc_security_group_ids: Vec<String>,
    /// The Lambda API endpoint; `None`: `AWS_ENDPOINT_URL_LAMBDA`, then `AWS_ENDPOINT_URL`, then
    /// AWS's own for the region.
    pub endpoint: Option<String>,
    pub emulator: Emulator,
    /// The Redis host as the function must address it (default: the endpoint's host).
    pub redis_host_for_actions: Option<String>,
    pub price: Price,
}
