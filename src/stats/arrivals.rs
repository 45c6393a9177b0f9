//! Open-loop arrival schedules: the intended start time of every invocation, at a constant
//! rate or as a Poisson process (exponential inter-arrival times), from a fixed seed so a run
//! can be repeated arrival for arrival. Pure: times are seconds from the first arrival.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// The seed of a Poisson schedule when the profile gives none (`workload.seed`).
pub const DEFAULT_SEED: u64 = 0x0a11_2026;

/// How arrivals are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ArrivalKind {
    /// Exactly `1/rate` apart (wrk2's constant throughput).
    #[default]
    Constant,
    /// A Poisson process: independent exponential gaps of mean `1/rate` (k6's
    /// `constant-arrival-rate` is constant; SeBS's and real serverless traffic are bursty).
    Poisson,
}

impl ArrivalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ArrivalKind::Constant => "constant",
            ArrivalKind::Poisson => "poisson",
        }
    }
}

/// The schedule: yields each arrival's intended start in seconds after the first (0.0).
#[derive(Debug, Clone)]
pub struct Arrivals {
    kind: ArrivalKind,
    rate: f64,
    rng: StdRng,
    index: u64,
    at: f64,
}

impl Arrivals {
    /// `rate` arrivals per second (must be > 0 and finite; the profile checks it).
    pub fn new(kind: ArrivalKind, rate: f64, seed: u64) -> Self {
        Self {
            kind,
            rate,
            rng: StdRng::seed_from_u64(seed),
            index: 0,
            at: 0.0,
        }
    }

    /// The next arrival's intended start (seconds after the first arrival).
    pub fn next_offset(&mut self) -> f64 {
        let i = self.index;
        self.index += 1;
        match self.kind {
            // From the index, not summed: no drift over millions of arrivals.
            ArrivalKind::Constant => i as f64 / self.rate,
            ArrivalKind::Poisson => {
                if i > 0 {
                    self.at += exponential(&mut self.rng, self.rate);
                }
                self.at
            }
        }
    }
}

/// One exponential gap of mean `1/rate` by inversion: `-ln(1 - U) / rate`, U in [0, 1).
fn exponential(rng: &mut StdRng, rate: f64) -> f64 {
    let u: f64 = rng.random();
    -(1.0 - u).ln() / rate
}

/// The one-sample Kolmogorov–Smirnov statistic D of `samples` against the exponential
/// distribution of rate `rate` (CDF `1 - e^(-rate x)`).
pub fn ks_exponential(samples: &[f64], rate: f64) -> f64 {
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    v.iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = 1.0 - (-rate * x).exp();
            let above = (i as f64 + 1.0) / n - f;
            let below = f - i as f64 / n;
            above.max(below)
        })
        .fold(0.0, f64::max)
}

/// The KS critical value at significance 0.05 for `n` samples (asymptotic: 1.358 / √n).
pub fn ks_critical_05(n: usize) -> f64 {
    1.358 / (n as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaps(kind: ArrivalKind, rate: f64, seed: u64, n: usize) -> Vec<f64> {
        let mut a = Arrivals::new(kind, rate, seed);
        let times: Vec<f64> = (0..=n).map(|_| a.next_offset()).collect();
        times.windows(2).map(|w| w[1] - w[0]).collect()
    }

    #[test]
    fn constant_arrivals_are_exactly_one_over_the_rate_apart() {
        let mut a = Arrivals::new(ArrivalKind::Constant, 40.0, 1);
        let t: Vec<f64> = (0..5).map(|_| a.next_offset()).collect();
        assert_eq!(t, vec![0.0, 0.025, 0.05, 0.075, 0.1]);
        let mut a = Arrivals::new(ArrivalKind::Constant, 3.0, 1);
        let last = (0..=3_000_000).map(|_| a.next_offset()).last().unwrap();
        assert!((last - 1_000_000.0).abs() < 1e-6, "{last}");
    }

    #[test]
    fn poisson_inter_arrivals_pass_a_kolmogorov_smirnov_test_against_the_exponential() {
        let rate = 20.0;
        let g = gaps(ArrivalKind::Poisson, rate, DEFAULT_SEED, 20_000);
        let d = ks_exponential(&g, rate);
        assert!(
            d < ks_critical_05(g.len()),
            "D = {d}, critical {}",
            ks_critical_05(g.len())
        );
        let mean = g.iter().sum::<f64>() / g.len() as f64;
        assert!((mean * rate - 1.0).abs() < 0.03, "mean gap {mean}");
        // The test can fail: the same gaps against a different rate are rejected, and
        // constant gaps are nowhere near exponential.
        assert!(ks_exponential(&g, rate * 1.2) > ks_critical_05(g.len()));
        let c = gaps(ArrivalKind::Constant, rate, DEFAULT_SEED, 20_000);
        assert!(ks_exponential(&c, rate) > 0.3);
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule_and_another_seed_another() {
        let a = gaps(ArrivalKind::Poisson, 5.0, 7, 100);
        assert_eq!(a, gaps(ArrivalKind::Poisson, 5.0, 7, 100));
        assert_ne!(a, gaps(ArrivalKind::Poisson, 5.0, 8, 100));
    }

    #[test]
    fn ks_statistic_by_hand() {
        // One sample at the median of Exp(1): F = 0.5, D = max(1 - 0.5, 0.5 - 0) = 0.5.
        let d = ks_exponential(&[std::f64::consts::LN_2], 1.0);
        assert!((d - 0.5).abs() < 1e-12);
    }
}
