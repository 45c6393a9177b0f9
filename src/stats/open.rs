//! Open-loop timing: each invocation's intended start, when it was actually sent and when it
//! ended, and the aggregates a run reports — latency corrected for coordinated omission
//! (from the intended start) beside the uncorrected one (from the send), late starts, and
//! throughput per second.

use serde::{Deserialize, Serialize};

use super::series::Series;
use super::summary::{Metric, Summary};

/// A start later than this after its intended time counts as late (ms). Tokio's timers have
/// a 1 ms granularity and a wake-up on a busy machine adds a millisecond or two; anything
/// beyond 5 ms is a real wait (for a free slot under `max_in_flight`, or a 429's back-off).
pub const LATE_TOLERANCE_MS: f64 = 5.0;

/// One open-loop invocation's times. Offsets are milliseconds after the schedule's origin
/// (the first arrival's intended start).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// The intended start as wall-clock epoch milliseconds (to line up with outside events).
    pub intended_at: i64,
    pub intended_ms: f64,
    /// The first request left (before any 429).
    pub sent_ms: f64,
    pub done_ms: f64,
    /// Sent − intended, plus the time spent on 429 answers and their back-off.
    pub start_delay_ms: f64,
    /// Done − intended: what a user arriving on schedule would have waited.
    pub corrected_ms: f64,
    /// Done − accepted send: what a closed-loop client measures.
    pub uncorrected_ms: f64,
    /// `start_delay_ms` exceeds [`LATE_TOLERANCE_MS`].
    pub late: bool,
}

impl Timing {
    /// Build from the three instants (ms after the origin) and the 429 wait.
    pub fn new(
        intended_at: i64,
        intended_ms: f64,
        sent_ms: f64,
        done_ms: f64,
        throttle_wait_ms: f64,
    ) -> Self {
        let start_delay_ms = (sent_ms - intended_ms).max(0.0) + throttle_wait_ms.max(0.0);
        let corrected_ms = (done_ms - intended_ms).max(0.0);
        Self {
            intended_at,
            intended_ms,
            sent_ms,
            done_ms,
            start_delay_ms,
            corrected_ms,
            uncorrected_ms: (corrected_ms - start_delay_ms).max(0.0),
            late: start_delay_ms > LATE_TOLERANCE_MS,
        }
    }
}

/// How many recent corrected / uncorrected values the console's chart keeps.
pub const RECENT_OPEN: usize = 240;

/// The open-loop aggregates of a run.
#[derive(Debug, Clone)]
pub struct OpenStats {
    pub corrected: Metric,
    pub uncorrected: Metric,
    /// Every invocation's start delay; and only the late ones'.
    pub start_delay: Metric,
    pub late_delay: Metric,
    pub late: u64,
    /// Per phase, the phase time plus the invocation's start delay.
    phases_corrected: [Metric; 5],
    /// Completions per second after the origin.
    pub per_second: Vec<u64>,
    n: u64,
    last_intended_ms: f64,
    last_started_ms: f64,
    pub recent_corrected: Series,
    pub recent_uncorrected: Series,
}

impl Default for OpenStats {
    fn default() -> Self {
        Self {
            corrected: Metric::new(),
            uncorrected: Metric::new(),
            start_delay: Metric::new(),
            late_delay: Metric::new(),
            late: 0,
            phases_corrected: Default::default(),
            per_second: Vec::new(),
            n: 0,
            last_intended_ms: 0.0,
            last_started_ms: 0.0,
            recent_corrected: Series::new(RECENT_OPEN),
            recent_uncorrected: Series::new(RECENT_OPEN),
        }
    }
}

impl OpenStats {
    /// Fold one invocation in; `phases` are its bench phase times when it returned them.
    pub fn record(&mut self, t: &Timing, phases: Option<[f64; 5]>) {
        self.n += 1;
        self.corrected.record_ms(t.corrected_ms);
        self.uncorrected.record_ms(t.uncorrected_ms);
        self.recent_corrected.push(t.corrected_ms);
        self.recent_uncorrected.push(t.uncorrected_ms);
        self.start_delay.record_ms(t.start_delay_ms);
        if t.late {
            self.late += 1;
            self.late_delay.record_ms(t.start_delay_ms);
        }
        self.last_intended_ms = self.last_intended_ms.max(t.intended_ms);
        self.last_started_ms = self.last_started_ms.max(t.intended_ms + t.start_delay_ms);
        if t.done_ms.is_finite() && t.done_ms >= 0.0 {
            let sec = (t.done_ms / 1000.0) as usize;
            // A bound against a nonsense value: a day of seconds.
            if sec < 86_400 {
                if self.per_second.len() <= sec {
                    self.per_second.resize(sec + 1, 0);
                }
                self.per_second[sec] += 1;
            }
        }
        if let Some(p) = phases {
            for (m, v) in self.phases_corrected.iter_mut().zip(p) {
                m.record_ms(v + t.start_delay_ms);
            }
        }
    }

    /// Invocations recorded.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// The rate the schedule itself held: (n − 1) arrivals over the span of intended starts
    /// (for a Poisson schedule this differs from the target by chance).
    pub fn scheduled_rate(&self) -> f64 {
        rate(self.n, self.last_intended_ms)
    }

    /// The rate invocations actually started at: (n − 1) over the span from the origin to the
    /// last accepted start (429 waits included).
    pub fn achieved_rate(&self) -> f64 {
        rate(self.n, self.last_started_ms)
    }

    /// A phase's corrected latency (phase time + start delay), by the phase's position in
    /// `PhaseName::ALL` (connect, write, read, delete, total).
    pub fn phase_corrected(&self, phase: usize) -> Summary {
        self.phases_corrected
            .get(phase)
            .map(Metric::summary)
            .unwrap_or_default()
    }
}

fn rate(n: u64, span_ms: f64) -> f64 {
    if n < 2 || span_ms <= 0.0 {
        return 0.0;
    }
    (n - 1) as f64 * 1000.0 / span_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrected_is_uncorrected_plus_the_start_delay_and_late_needs_more_than_the_tolerance() {
        let t = Timing::new(0, 100.0, 100.0 + LATE_TOLERANCE_MS, 150.0, 0.0);
        assert!(!t.late);
        assert_eq!(t.corrected_ms, 50.0);
        assert_eq!(t.uncorrected_ms, 45.0);
        // A 429 wait of 30 ms after an on-time send: late by the wait, not slower.
        let t = Timing::new(0, 100.0, 100.0, 180.0, 30.0);
        assert!(t.late);
        assert_eq!(t.start_delay_ms, 30.0);
        assert_eq!(t.uncorrected_ms, 50.0);
        assert_eq!(t.corrected_ms, 80.0);
    }

    #[test]
    fn a_stall_is_counted_once_per_invocation_it_held_up() {
        // 10 arrivals 100 ms apart; a 1 s stall holds arrivals 1..=9 until t = 1000 ms, after
        // which each takes 10 ms.
        let mut s = OpenStats::default();
        for i in 0..10 {
            let intended = f64::from(i) * 100.0;
            let sent = if i == 0 { 0.0 } else { 1000.0 + f64::from(i) };
            let done = if i == 0 { 1000.0 } else { sent + 10.0 };
            s.record(&Timing::new(0, intended, sent, done, 0.0), None);
        }
        assert_eq!(s.late, 9);
        assert!(s.corrected.summary().p99 >= 900.0);
        assert!(s.corrected.summary().p50 >= 500.0);
        assert!(s.uncorrected.summary().p50 <= 10.1);
        assert_eq!(s.per_second, vec![0, 10]);
        assert!((s.scheduled_rate() - 10.0).abs() < 1e-9);
        assert!(s.achieved_rate() < s.scheduled_rate());
    }
}
