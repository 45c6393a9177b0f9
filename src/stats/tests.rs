use super::*;
use crate::platform::{Activation, ActivationStatus, activation::ActivationResponse};
use redwhisk_actions::Mode;
use redwhisk_actions::protocol::{PhaseLatency, RoundTrips};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= b.abs() * 0.002 + 1e-9
}

fn bench(total: f64, write_buckets: Vec<[u64; 2]>) -> BenchResult {
    BenchResult {
        action: "bench".into(),
        mode: Mode::Sequential,
        records: 10,
        value_size: 8,
        connect_ms: 0.5,
        write_ms: total / 2.0,
        read_ms: total / 4.0,
        delete_ms: total / 4.0,
        total_ms: total,
        mismatches: 0,
        errors: 0,
        round_trips: RoundTrips::default(),
        latency_us: PhaseLatency {
            write: write_buckets,
            ..Default::default()
        },
        cluster: None,
    }
}

fn activation(i: u32, result: serde_json::Value, success: bool, init: Option<u64>) -> Activation {
    Activation {
        index: i,
        activation_id: format!("{i:032x}"),
        name: "bench".into(),
        namespace: "_".into(),
        start: 0,
        end: 10,
        duration: 10,
        response: ActivationResponse {
            status: if success {
                ActivationStatus::Success
            } else {
                ActivationStatus::ApplicationError
            },
            success,
            result,
            size: None,
            status_code: None,
        },
        logs: vec![],
        annotations: vec![],
        client_latency_ms: 12.0,
        wait_time_ms: Some(1),
        init_time_ms: init,
        kind: None,
        throttled: 0,
        throttle_wait_ms: 0.0,
        polls: 0,
        poll_overhead_ms: 0.0,
        log_fetch_ms: None,
        open: None,
    }
}

#[test]
fn summary_matches_hand_computed() {
    let mut m = Metric::new();
    for v in [1.0, 2.0, 3.0, 4.0, 5.0] {
        m.record_ms(v);
    }
    let s = m.summary();
    assert_eq!(s.n, 5);
    assert!(close(s.mean, 3.0));
    // sample std of 1..5 = sqrt(10/4)
    assert!(close(s.std, 2.5f64.sqrt()), "{}", s.std);
    assert_eq!((s.min, s.max), (1.0, 5.0));
    assert!(close(s.p50, 3.0), "{}", s.p50);
    assert!(close(s.p99, 5.0), "{}", s.p99);
}

#[test]
fn single_value_has_zero_std_and_empty_is_zero() {
    let mut m = Metric::new();
    assert_eq!(m.summary(), Summary::default());
    m.record_ms(7.5);
    assert_eq!(m.summary().std, 0.0);
    assert!(close(m.summary().p95, 7.5));
}

#[test]
fn command_percentiles_are_merged_not_averaged() {
    let mut stats = RunStats::new();
    // invocation A: 99 fast commands; invocation B: 1 slow one.
    let a = bench(10.0, vec![[40, 99]]);
    let b = bench(10.0, vec![[4000, 1]]);
    stats.record(&activation(
        0,
        serde_json::to_value(&a).unwrap(),
        true,
        None,
    ));
    stats.record(&activation(
        1,
        serde_json::to_value(&b).unwrap(),
        true,
        None,
    ));
    let w = stats.command(PhaseName::Write).unwrap();
    assert_eq!(w.n, 100);
    // merged: p50 is the fast value; averaging the two p50s would give ~2020.
    assert!(close(w.p50_us, 40.0), "{}", w.p50_us);
    assert!(close(w.max_us, 4000.0), "{}", w.max_us);
    assert!(
        close(w.mean_us, (40.0 * 99.0 + 4000.0) / 100.0),
        "{}",
        w.mean_us
    );
}

#[test]
fn failures_cold_warm_and_overhead() {
    let mut stats = RunStats::new();
    let ok = serde_json::to_value(bench(10.0, vec![])).unwrap();
    stats.record(&activation(0, ok.clone(), true, Some(30)));
    stats.record(&activation(1, ok, true, None));
    stats.record(&activation(
        2,
        serde_json::json!({"error": "boom"}),
        false,
        None,
    ));
    assert_eq!(stats.completed, 3);
    assert_eq!(stats.failed, 1);
    assert_eq!(stats.succeeded(), 2);
    assert_eq!((stats.cold_count(), stats.warm_count()), (1, 2));
    assert!(close(stats.cold.init_time.summary().mean, 30.0));
    // client 12 ms − action total 10 ms
    assert!(close(stats.overhead.summary().mean, 2.0));
    assert!(close(stats.phase(PhaseName::Write).mean, 5.0));
    assert_eq!(stats.recent(PhaseName::Total).len(), 2);
}

#[test]
fn series_is_bounded() {
    let mut s = Series::new(3);
    for v in 0..10 {
        s.push(v as f64);
    }
    assert_eq!(s.iter().collect::<Vec<_>>(), vec![7.0, 8.0, 9.0]);
    assert_eq!(s.latest(), Some(9.0));
    assert_eq!(s.tail(2).collect::<Vec<_>>(), vec![8.0, 9.0]);
}

#[test]
fn phase_intervals_come_from_every_successful_invocation() {
    let mut stats = RunStats::new();
    // totals 2, 4, 4, 4, 5, 5, 7, 9 (see ci::tests::t_interval_by_hand) and one failure.
    for (i, total) in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
        .into_iter()
        .enumerate()
    {
        let b = bench(total, vec![]);
        stats.record(&activation(
            i as u32,
            serde_json::to_value(&b).unwrap(),
            true,
            None,
        ));
    }
    stats.record(&activation(
        8,
        serde_json::json!({"error": "x"}),
        false,
        None,
    ));
    let c = stats.phase_ci(PhaseName::Total);
    assert_eq!(c.n, 8);
    assert!(close(c.mean, 5.0));
    let t = c.t_ci.unwrap();
    assert!((t.lo - (5.0 - 1.78777)).abs() < 1e-4, "{t:?}");
    assert!(c.bootstrap_ci.unwrap().contains(5.0));
    // write is half the total in `bench`
    assert!(close(stats.phase_ci(PhaseName::Write).mean, 2.5));
}

#[test]
fn medians_and_quantiles() {
    assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    assert!(median(&[]).is_nan());
    assert_eq!(quantile(&[4.0, 1.0, 2.0, 3.0], 0.5), Some(2.0));
    assert_eq!(quantile(&[4.0, 1.0, 2.0, 3.0], 0.99), Some(4.0));
    assert_eq!(quantile(&[], 0.5), None);
    assert_eq!(ms(std::time::Duration::from_micros(1500)), 1.5);
}
