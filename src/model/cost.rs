//! What a run cost: Lambda's bill (billed GB-seconds and requests, priced from the profile's
//! table) beside what the same run costs on the VM that runs redwhisk's Redis (its hourly price
//! times the run's wall time).

use serde::{Deserialize, Serialize};

/// What the platform billed: every answered invocation (a function error or a timeout is billed
/// too; a throttled request is not).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Bill {
    pub requests: u64,
    /// Sum of the REPORT lines' Billed Duration.
    pub billed_ms: u64,
    /// Sum of Billed Duration × Memory Size (GB-seconds).
    pub gb_seconds: f64,
}

/// The prices a cost was worked out with (US dollars).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prices {
    pub gb_second_usd: f64,
    pub requests_per_million_usd: f64,
    pub vm_hour_usd: f64,
    pub redis_hour_usd: f64,
}

/// A run's cost, in `run.json` as `cost` (Lambda runs only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostRecord {
    pub bill: Bill,
    pub prices: Prices,
    /// The run's wall time (s): what the VM and the ElastiCache node are paid for.
    pub wall_s: f64,
    pub compute_usd: f64,
    pub requests_usd: f64,
    /// The Lambda stack's Redis (ElastiCache) for the wall time; 0 when its price is 0.
    pub redis_usd: f64,
    /// compute + requests + redis.
    pub lambda_usd: f64,
    /// The VM for the same wall time.
    pub vm_usd: f64,
}

impl CostRecord {
    pub fn new(bill: Bill, prices: Prices, wall_s: f64) -> Self {
        let compute_usd = bill.gb_seconds * prices.gb_second_usd;
        let requests_usd = bill.requests as f64 / 1e6 * prices.requests_per_million_usd;
        let redis_usd = wall_s / 3600.0 * prices.redis_hour_usd;
        Self {
            bill,
            prices,
            wall_s,
            compute_usd,
            requests_usd,
            redis_usd,
            lambda_usd: compute_usd + requests_usd + redis_usd,
            vm_usd: wall_s / 3600.0 * prices.vm_hour_usd,
        }
    }

    /// One line for reports: `cost: Lambda $… (… GB-s, … requests) vs VM $… (… s at $…/h)`.
    pub fn line(&self) -> String {
        let redis = if self.redis_usd > 0.0 {
            format!(" + Redis ${:.6}", self.redis_usd)
        } else {
            String::new()
        };
        format!(
            "cost: Lambda ${:.6} ({:.3} GB-s ${:.6} + {} requests ${:.6}{redis}) vs VM ${:.6} ({:.1} s at ${}/h)",
            self.lambda_usd,
            self.bill.gb_seconds,
            self.compute_usd,
            self.bill.requests,
            self.requests_usd,
            self.vm_usd,
            self.wall_s,
            self.prices.vm_hour_usd
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_million_one_second_gigabyte_invocations_cost_what_aws_says() {
        let bill = Bill {
            requests: 1_000_000,
            billed_ms: 1_000_000_000,
            gb_seconds: 1_000_000.0,
        };
        let prices = Prices {
            gb_second_usd: 0.000_016_666_7,
            requests_per_million_usd: 0.20,
            vm_hour_usd: 0.35,
            redis_hour_usd: 0.0,
        };
        let c = CostRecord::new(bill, prices, 7200.0);
        assert!((c.compute_usd - 16.6667).abs() < 1e-6);
        assert!((c.requests_usd - 0.20).abs() < 1e-12);
        assert!((c.vm_usd - 0.70).abs() < 1e-12);
        assert!((c.lambda_usd - 16.8667).abs() < 1e-6);
        assert!(c.line().contains("vs VM $0.700000"));
    }
}
