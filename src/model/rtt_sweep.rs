//! An RTT sweep's records (`redwhisk sweep --rtt`): one run per emulated distance, each phase's
//! time fitted against the RTT (the slope is round trips per phase), and the RTT at which the
//! function time crosses a budget (`rtt-sweep.json`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::network::RttSample;
use super::workload::Mode;

/// The RTTs (ms) an RTT sweep started from the console runs (`redwhisk sweep --rtt`'s example).
pub const CONSOLE_RTTS: [f64; 7] = [0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0];

/// One distance's figures (phase means in milliseconds).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RttStep {
    /// The RTT asked for.
    pub rtt_ms: f64,
    /// PINGs through the path before the run.
    pub measured: Option<RttSample>,
    pub invocations: u64,
    pub failed: u64,
    pub connect_ms: f64,
    pub write_ms: f64,
    pub read_ms: f64,
    pub delete_ms: f64,
    /// The function time: the action's own total (connect + write + read + delete).
    pub total_ms: f64,
    pub results_dir: PathBuf,
}

/// A least-squares line `time = intercept + slope × rtt`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Fit {
    /// Milliseconds of phase time per millisecond of RTT: the round trips the phase makes.
    pub slope: f64,
    /// The phase time at zero distance, ms.
    pub intercept_ms: f64,
    /// Coefficient of determination (1 = every step on the line).
    pub r2: f64,
}

impl Fit {
    /// The RTT at which the line reaches `time_ms` (`None` for a flat or falling line).
    pub fn rtt_for(&self, time_ms: f64) -> Option<f64> {
        (self.slope > 0.0).then(|| ((time_ms - self.intercept_ms) / self.slope).max(0.0))
    }
}

/// Each phase's fit.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct PhaseFits {
    pub connect: Fit,
    pub write: Fit,
    pub read: Fit,
    pub delete: Fit,
    pub total: Fit,
}

/// Where the function time reaches a given time.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Crossing {
    /// The function time to reach, ms.
    pub time_ms: f64,
    /// The RTT at which it is reached, ms (`None`: never, the time does not grow with RTT).
    pub rtt_ms: Option<f64>,
    /// `true`: between two measured steps (interpolated); `false`: beyond them, from the fit.
    pub within_steps: bool,
}

/// The whole sweep (`rtt-sweep.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RttSweepReport {
    pub profile: String,
    pub backend: String,
    pub platform: String,
    pub mode: Mode,
    pub records: u32,
    pub invocations: u32,
    /// `userspace`: the shaping proxy.
    pub method: String,
    pub steps: Vec<RttStep>,
    /// `None` with fewer than two steps.
    pub fits: Option<PhaseFits>,
    /// `--budget-ms`: where the function time crosses it.
    pub budget: Option<Crossing>,
    /// Where the function time reaches the paper's Lambda + ElastiCache mean (Table 3).
    pub paper_lambda: Option<Crossing>,
    pub cancelled: bool,
    pub results_dir: PathBuf,
}

/// The least-squares line through `(x, y)` points; `None` with fewer than two distinct x.
pub fn fit(points: &[(f64, f64)]) -> Option<Fit> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    let intercept_ms = my - slope * mx;
    let ss_tot: f64 = points.iter().map(|p| (p.1 - my).powi(2)).sum();
    let ss_res: f64 = points
        .iter()
        .map(|p| (p.1 - intercept_ms - slope * p.0).powi(2))
        .sum();
    let r2 = if ss_tot > 0.0 {
        1.0 - ss_res / ss_tot
    } else {
        1.0
    };
    Some(Fit {
        slope,
        intercept_ms,
        r2,
    })
}

/// Each phase fitted against the requested RTT.
pub fn fit_phases(steps: &[RttStep]) -> Option<PhaseFits> {
    let line =
        |f: fn(&RttStep) -> f64| fit(&steps.iter().map(|s| (s.rtt_ms, f(s))).collect::<Vec<_>>());
    Some(PhaseFits {
        connect: line(|s| s.connect_ms)?,
        write: line(|s| s.write_ms)?,
        read: line(|s| s.read_ms)?,
        delete: line(|s| s.delete_ms)?,
        total: line(|s| s.total_ms)?,
    })
}

/// The RTT at which the function time first reaches `time_ms`: interpolated between the two
/// steps around it, or from the fit beyond the steps.
pub fn crossing(steps: &[RttStep], fit: Option<&Fit>, time_ms: f64) -> Crossing {
    let mut sorted: Vec<&RttStep> = steps.iter().collect();
    sorted.sort_by(|a, b| a.rtt_ms.total_cmp(&b.rtt_ms));
    if let Some(first) = sorted.first()
        && first.total_ms >= time_ms
    {
        return Crossing {
            time_ms,
            rtt_ms: Some(first.rtt_ms),
            within_steps: true,
        };
    }
    for w in sorted.windows(2) {
        let (a, b) = (w[0], w[1]);
        if a.total_ms < time_ms && b.total_ms >= time_ms {
            let share = (time_ms - a.total_ms) / (b.total_ms - a.total_ms);
            return Crossing {
                time_ms,
                rtt_ms: Some(a.rtt_ms + share * (b.rtt_ms - a.rtt_ms)),
                within_steps: true,
            };
        }
    }
    Crossing {
        time_ms,
        rtt_ms: fit.and_then(|f| f.rtt_for(time_ms)),
        within_steps: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(rtt: f64, total: f64) -> RttStep {
        RttStep {
            rtt_ms: rtt,
            measured: None,
            invocations: 1,
            failed: 0,
            connect_ms: 1.0 + rtt,
            write_ms: total - 1.0 - rtt,
            read_ms: 0.0,
            delete_ms: 0.0,
            total_ms: total,
            results_dir: PathBuf::new(),
        }
    }

    #[test]
    fn the_fit_recovers_a_line_and_its_round_trips() {
        let f = fit(&[(0.0, 10.0), (1.0, 1010.0), (2.0, 2010.0)]).unwrap();
        assert!((f.slope - 1000.0).abs() < 1e-9, "{f:?}");
        assert!((f.intercept_ms - 10.0).abs() < 1e-9);
        assert!((f.r2 - 1.0).abs() < 1e-12);
        assert_eq!(f.rtt_for(510.0), Some(0.5));
        assert_eq!(fit(&[(1.0, 1.0)]), None);
        assert_eq!(fit(&[(1.0, 1.0), (1.0, 2.0)]), None);
        let flat = fit(&[(0.0, 5.0), (1.0, 5.0)]).unwrap();
        assert_eq!(flat.rtt_for(10.0), None);
    }

    #[test]
    fn crossings_interpolate_between_steps_and_extrapolate_beyond() {
        let steps = [step(0.0, 10.0), step(1.0, 1010.0), step(2.0, 2010.0)];
        let fits = fit_phases(&steps).unwrap();
        assert!((fits.connect.slope - 1.0).abs() < 1e-9);
        let c = crossing(&steps, Some(&fits.total), 1510.0);
        assert_eq!(c.rtt_ms, Some(1.5));
        assert!(c.within_steps);
        let c = crossing(&steps, Some(&fits.total), 3010.0);
        assert!((c.rtt_ms.unwrap() - 3.0).abs() < 1e-9);
        assert!(!c.within_steps);
        let c = crossing(&steps, Some(&fits.total), 5.0);
        assert_eq!(c.rtt_ms, Some(0.0));
    }
}
