//! Confidence intervals and dispersion, the way benchmark suites report them (SeBS gives a
//! parametric and a non-parametric 95% interval for each mean).
//!
//! Everything here is pure and deterministic: the bootstrap uses a fixed seed, so the same
//! samples always give the same interval.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Bootstrap resamples drawn for every interval.
pub const RESAMPLES: usize = 2000;
/// The bootstrap's fixed seed (the intervals are reproducible).
pub const SEED: u64 = 0x5eb5_2024;
/// The confidence level of every interval.
pub const LEVEL: f64 = 0.95;

/// A two-sided interval `[lo, hi]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
}

impl Interval {
    pub fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }
}

/// Two-sided 97.5% quantiles of Student's t for 1–30 degrees of freedom.
const T975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// The 97.5% quantile of Student's t with `df` degrees of freedom: the table up to 30, then
/// the Cornish–Fisher expansion around the normal quantile (error below 1e-4 from 30 on).
pub fn t_975(df: u64) -> f64 {
    if df == 0 {
        return f64::INFINITY;
    }
    if let Some(t) = T975.get(df as usize - 1) {
        return *t;
    }
    let z: f64 = 1.959_963_984_540_054;
    let n = df as f64;
    let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
    z + (z3 + z) / (4.0 * n)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * n * n)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * n * n * n)
}

/// Parametric 95% interval of a mean from n, mean and sample standard deviation:
/// mean ± t(0.975, n−1) · std / √n. None below two samples.
pub fn t_interval(n: u64, mean: f64, std: f64) -> Option<Interval> {
    if n < 2 {
        return None;
    }
    let half = t_975(n - 1) * std / (n as f64).sqrt();
    Some(Interval {
        lo: mean - half,
        hi: mean + half,
    })
}

/// Coefficient of variation: std / mean. None when the mean is 0.
pub fn cv(mean: f64, std: f64) -> Option<f64> {
    (mean != 0.0 && mean.is_finite()).then(|| std / mean)
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The percentile interval of already-sorted bootstrap statistics.
fn percentile_interval(sorted: &[f64]) -> Interval {
    let tail = (1.0 - LEVEL) / 2.0;
    let at = |q: f64| {
        let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
        sorted[i.min(sorted.len() - 1)]
    };
    Interval {
        lo: at(tail),
        hi: at(1.0 - tail),
    }
}

fn resample_mean(rng: &mut StdRng, xs: &[f64]) -> f64 {
    let mut sum = 0.0;
    for _ in 0..xs.len() {
        sum += xs[rng.random_range(0..xs.len())];
    }
    sum / xs.len() as f64
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// Non-parametric 95% interval of the mean: the percentile bootstrap, [`RESAMPLES`] resamples
/// with replacement, seed [`SEED`]. None below two samples.
pub fn bootstrap_mean(xs: &[f64]) -> Option<Interval> {
    if xs.len() < 2 {
        return None;
    }
    let mut rng = StdRng::seed_from_u64(SEED);
    let means = (0..RESAMPLES)
        .map(|_| resample_mean(&mut rng, xs))
        .collect();
    Some(percentile_interval(&sorted(means)))
}

/// 95% percentile-bootstrap interval of mean(b) / mean(a), each side resampled independently
/// ([`RESAMPLES`] times, seed [`SEED`]). None when a side has fewer than two samples or a
/// resampled mean of `a` is 0.
pub fn bootstrap_ratio(a: &[f64], b: &[f64]) -> Option<Interval> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut ratios = Vec::with_capacity(RESAMPLES);
    for _ in 0..RESAMPLES {
        let ma = resample_mean(&mut rng, a);
        let mb = resample_mean(&mut rng, b);
        if ma == 0.0 {
            return None;
        }
        ratios.push(mb / ma);
    }
    Some(percentile_interval(&sorted(ratios)))
}

/// One group of observations (e.g. one invocation's per-command latencies): their sum and
/// how many there were.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cluster {
    pub sum: f64,
    pub count: f64,
}

fn resample_clusters(rng: &mut StdRng, xs: &[Cluster]) -> f64 {
    let (mut sum, mut count) = (0.0, 0.0);
    for _ in 0..xs.len() {
        let c = xs[rng.random_range(0..xs.len())];
        sum += c.sum;
        count += c.count;
    }
    if count > 0.0 { sum / count } else { 0.0 }
}

/// 95% cluster-bootstrap interval of the ratio of pooled means (Σsum / Σcount of `b` over
/// that of `a`): whole clusters are resampled, because observations within one invocation are
/// not independent of each other.
pub fn bootstrap_cluster_ratio(a: &[Cluster], b: &[Cluster]) -> Option<Interval> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut ratios = Vec::with_capacity(RESAMPLES);
    for _ in 0..RESAMPLES {
        let ma = resample_clusters(&mut rng, a);
        let mb = resample_clusters(&mut rng, b);
        if ma == 0.0 {
            return None;
        }
        ratios.push(mb / ma);
    }
    Some(percentile_interval(&sorted(ratios)))
}

/// A mean with its spread and both 95% intervals (what run.json and the report carry).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanCi {
    pub n: u64,
    pub mean: f64,
    /// Coefficient of variation (std / mean); null when the mean is 0.
    pub cv: Option<f64>,
    /// mean ± t(0.975, n−1)·std/√n; null below two samples.
    pub t_ci: Option<Interval>,
    /// Percentile bootstrap of the mean; null below two samples.
    pub bootstrap_ci: Option<Interval>,
}

impl MeanCi {
    /// Everything from the samples themselves.
    pub fn of(xs: &[f64]) -> Self {
        let n = xs.len() as u64;
        if xs.is_empty() {
            return Self {
                n,
                mean: 0.0,
                cv: None,
                t_ci: None,
                bootstrap_ci: None,
            };
        }
        let m = mean(xs);
        let std = if xs.len() > 1 {
            (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
        } else {
            0.0
        };
        Self {
            n,
            mean: m,
            cv: cv(m, std),
            t_ci: t_interval(n, m, std),
            bootstrap_ci: bootstrap_mean(xs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn t_quantiles_match_the_tables() {
        assert_eq!(t_975(1), 12.706);
        assert_eq!(t_975(9), 2.262);
        assert_eq!(t_975(30), 2.042);
        // Published values: t(0.975, 40) = 2.0211, 60 → 2.0003, 120 → 1.9799.
        assert!(close(t_975(40), 2.0211, 2e-4), "{}", t_975(40));
        assert!(close(t_975(60), 2.0003, 2e-4), "{}", t_975(60));
        assert!(close(t_975(120), 1.9799, 2e-4), "{}", t_975(120));
        assert!(close(t_975(1_000_000), 1.95997, 1e-4));
        assert!(t_975(0).is_infinite());
    }

    #[test]
    fn t_interval_by_hand() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sample std √(32/7) = 2.13809;
        // half-width 2.365 · 2.13809 / √8 = 1.78777.
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let c = MeanCi::of(&xs);
        assert_eq!(c.n, 8);
        assert!(close(c.mean, 5.0, 1e-12));
        let t = c.t_ci.unwrap();
        assert!(close(t.lo, 5.0 - 1.78777, 1e-4), "{t:?}");
        assert!(close(t.hi, 5.0 + 1.78777, 1e-4), "{t:?}");
        assert!(close(c.cv.unwrap(), 2.13809 / 5.0, 1e-4));
    }

    #[test]
    fn too_few_samples_give_no_interval() {
        let one = MeanCi::of(&[3.0]);
        assert_eq!((one.t_ci, one.bootstrap_ci), (None, None));
        assert_eq!(one.cv, Some(0.0));
        let none = MeanCi::of(&[]);
        assert_eq!(none.n, 0);
        assert_eq!(none.cv, None);
        assert_eq!(bootstrap_ratio(&[1.0], &[1.0, 2.0]), None);
    }

    #[test]
    fn constant_samples_give_a_point_interval() {
        let xs = [4.0; 50];
        let c = MeanCi::of(&xs);
        assert_eq!(c.bootstrap_ci, Some(Interval { lo: 4.0, hi: 4.0 }));
        assert_eq!(c.t_ci, Some(Interval { lo: 4.0, hi: 4.0 }));
        assert_eq!(c.cv, Some(0.0));
    }

    #[test]
    fn bootstrap_is_reproducible_and_brackets_the_mean() {
        let xs: Vec<f64> = (0..200).map(|i| f64::from(i % 17) + 10.0).collect();
        let a = bootstrap_mean(&xs).unwrap();
        assert_eq!(Some(a), bootstrap_mean(&xs), "fixed seed");
        let m = mean(&xs);
        assert!(a.contains(m));
        // For a large sample the bootstrap and the t interval agree closely.
        let t = MeanCi::of(&xs).t_ci.unwrap();
        assert!(
            close(a.hi - a.lo, t.hi - t.lo, 0.2 * (t.hi - t.lo)),
            "{a:?} vs {t:?}"
        );
    }

    #[test]
    fn ratio_of_a_doubled_sample_is_two() {
        let a: Vec<f64> = (0..100).map(|i| 10.0 + f64::from(i % 7)).collect();
        let b: Vec<f64> = a.iter().map(|x| x * 2.0).collect();
        let r = bootstrap_ratio(&a, &b).unwrap();
        assert!(r.contains(2.0), "{r:?}");
        assert!(!r.contains(1.0), "{r:?}");
        // The same sample on both sides: the interval straddles 1.
        let same = bootstrap_ratio(&a, &a).unwrap();
        assert!(same.contains(1.0), "{same:?}");
        assert!(same.lo > 0.9 && same.hi < 1.1, "{same:?}");
    }

    #[test]
    fn cluster_ratio_pools_counts() {
        // Every invocation of b has the same per-command mean, three times a's.
        let a: Vec<Cluster> = (0..50)
            .map(|i| Cluster {
                sum: 100.0 * f64::from(i % 3 + 1),
                count: 100.0,
            })
            .collect();
        let b: Vec<Cluster> = a
            .iter()
            .map(|c| Cluster {
                sum: c.sum * 3.0,
                count: c.count,
            })
            .collect();
        let r = bootstrap_cluster_ratio(&a, &b).unwrap();
        assert!(r.contains(3.0) && !r.contains(1.0), "{r:?}");
        let zero = [Cluster {
            sum: 0.0,
            count: 1.0,
        }; 3];
        assert_eq!(bootstrap_cluster_ratio(&zero, &zero), None);
    }

    /// The method's false-positive rate: pairs drawn from one distribution are declared
    /// different (interval excludes 1) about 5% of the time, not more than 10%.
    #[test]
    fn same_distribution_is_rarely_called_different() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut draw = |n: usize| -> Vec<f64> {
            // skewed like latencies: 20 ms plus an exponential tail of mean 5 ms
            (0..n)
                .map(|_| 20.0 - 5.0 * (1.0 - rng.random::<f64>()).ln())
                .collect()
        };
        let trials = 100;
        let mut different = 0;
        for _ in 0..trials {
            let (a, b) = (draw(40), draw(40));
            if !bootstrap_ratio(&a, &b).unwrap().contains(1.0) {
                different += 1;
            }
        }
        assert!(
            different <= 10,
            "{different} of {trials} pairs called different"
        );
    }
}
