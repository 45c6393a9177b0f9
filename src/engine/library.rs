//! The results library: the runs under a results root, opened and compared for the console.
//! File-system work happens here (on a blocking thread), never in the UI; what it finds goes
//! back as events.

use std::path::{Path, PathBuf};

use crate::compare::{Comparison, Side, check_loops, compare, workload_mismatches};
use crate::event::{EngineEvent, EventSink, Level};
use crate::experiments::failover::FailoverReport;
use crate::experiments::gateway_share::ShareGatewayReport;
use crate::experiments::gateway_study::StudyReport;
use crate::experiments::{Context, EngineError, EngineResult};
pub use crate::model::library::{Kind, ResultEntry};
use crate::model::rate_sweep::RateSweepReport;
use crate::model::rtt_sweep::RttSweepReport;
use crate::model::sweep::SweepReport;
use crate::results::{RunRecord, RunSummary};
use crate::share::ShareSummary;
use chrono::{DateTime, Utc};

/// What the listing reads of a gateway study or a gateway share (their reports are written,
/// not read back, elsewhere): the profile, the count and how it ended.
#[derive(Debug, serde::Deserialize)]
struct GatewayHead {
    profile: String,
    #[serde(default)]
    invocations: u64,
    #[serde(default)]
    cycles: u64,
    #[serde(default)]
    cancelled: bool,
    /// A study's connect after a wake; a share's reader connect, which holds a wake.
    #[serde(default, alias = "reader_connect_p50_ms")]
    connect_p50_woken_ms: Option<f64>,
    #[serde(default, alias = "reader_connect_p99_ms")]
    connect_p99_woken_ms: Option<f64>,
    #[serde(default)]
    as_expected: Option<bool>,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// When a report without its own start time was written.
fn written_at(path: &Path) -> DateTime<Utc> {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map(DateTime::<Utc>::from)
        .unwrap_or_default()
}

fn ended(cancelled: bool) -> String {
    if cancelled { "cancelled" } else { "done" }.into()
}

fn entry(dir: &Path) -> Option<ResultEntry> {
    let base = |kind, profile: String, started_at, count, outcome| ResultEntry {
        dir: dir.to_path_buf(),
        kind,
        profile,
        started_at,
        count,
        outcome,
        p50_ms: None,
        p99_ms: None,
        throughput: None,
    };
    if dir.join("run.json").is_file() {
        let text = std::fs::read_to_string(dir.join("run.json")).ok()?;
        let s = RunSummary::from_json(&text).ok()?;
        let total = &s.summary.phases_ms.total;
        let secs = s.elapsed_ms / 1000.0;
        let mut e = base(
            Kind::Run,
            s.profile.name.clone(),
            s.started_at,
            s.summary.completed,
            s.outcome.as_str().to_string(),
        );
        e.p50_ms = (total.n > 0).then_some(total.p50);
        e.p99_ms = (total.n > 0).then_some(total.p99);
        e.throughput = (secs > 0.0).then(|| s.summary.completed as f64 / secs);
        return Some(e);
    }
    if dir.join("share.json").is_file() {
        let s = ShareSummary::read(dir).ok()?;
        return Some(base(
            Kind::Share,
            s.profile.name.clone(),
            s.started_at,
            s.cycles.len() as u64,
            if s.partial { "partial" } else { "done" }.into(),
        ));
    }
    let path = dir.join("sweep.json");
    if let Some(r) = read_json::<SweepReport>(&path) {
        let best = r
            .steps
            .iter()
            .max_by(|a, b| a.invocations_per_s.total_cmp(&b.invocations_per_s));
        let mut e = base(
            Kind::Sweep,
            r.profile.clone(),
            written_at(&path),
            r.steps.len() as u64,
            ended(r.cancelled),
        );
        e.p50_ms = best.map(|s| s.total_p50_ms);
        e.p99_ms = best.map(|s| s.total_p99_ms);
        e.throughput = (r.peak_invocations_per_s > 0.0).then_some(r.peak_invocations_per_s);
        return Some(e);
    }
    let path = dir.join("rate-sweep.json");
    if let Some(r) = read_json::<RateSweepReport>(&path) {
        let mut e = base(
            Kind::RateSweep,
            r.profile.clone(),
            written_at(&path),
            r.steps.len() as u64,
            ended(r.cancelled),
        );
        e.throughput = r.saturation;
        return Some(e);
    }
    let path = dir.join(crate::experiments::rtt_sweep::RTT_SWEEP_JSON);
    if let Some(r) = read_json::<RttSweepReport>(&path) {
        return Some(base(
            Kind::RttSweep,
            r.profile.clone(),
            written_at(&path),
            r.steps.len() as u64,
            ended(r.cancelled),
        ));
    }
    let path = dir.join("failover.json");
    if let Some(r) = read_json::<FailoverReport>(&path) {
        let outcome = if r.lost_acknowledged == 0 {
            "done"
        } else {
            "lost"
        };
        return Some(base(
            Kind::Failover,
            r.profile.clone(),
            written_at(&path),
            r.writes,
            outcome.into(),
        ));
    }
    for (file, kind) in [
        ("study.json", Kind::GatewayStudy),
        ("share-gateway.json", Kind::GatewayShare),
    ] {
        let path = dir.join(file);
        if let Some(r) = read_json::<GatewayHead>(&path) {
            let count = if kind == Kind::GatewayStudy {
                r.invocations
            } else {
                r.cycles
            };
            let outcome = match (r.cancelled, r.as_expected) {
                (true, _) => "cancelled",
                (false, Some(false)) => "UNEXPECTED",
                _ => "done",
            };
            let mut e = base(kind, r.profile, written_at(&path), count, outcome.into());
            e.p50_ms = r.connect_p50_woken_ms;
            e.p99_ms = r.connect_p99_woken_ms;
            return Some(e);
        }
    }
    None
}

/// Every readable run under `root`, newest first. Unreadable directories are skipped.
pub fn list(root: &Path) -> Vec<ResultEntry> {
    let Ok(dirs) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut out: Vec<ResultEntry> = dirs
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter_map(|p| entry(&p))
        .collect();
    out.sort_by(|a, b| b.started_at.cmp(&a.started_at).then(b.dir.cmp(&a.dir)));
    out
}

/// List `root` and send [`EngineEvent::ResultsListed`].
pub async fn list_task(root: PathBuf, sink: EventSink) {
    let shown = root.display().to_string();
    match tokio::task::spawn_blocking(move || list(&root)).await {
        Ok(entries) => sink.send(EngineEvent::ResultsListed(entries)),
        Err(e) => sink.warn(format!("cannot list {shown}: {e}")),
    }
}

/// Read one results directory and send it as [`EngineEvent::RunOpened`] or
/// [`EngineEvent::ShareOpened`].
pub async fn open_task(dir: PathBuf, sink: EventSink) {
    let shown = dir.display().to_string();
    let read = tokio::task::spawn_blocking(move || {
        if let Some(ev) = open_other(&dir) {
            return Ok(ev);
        }
        if dir.join("share.json").is_file() {
            ShareSummary::read(&dir).map(|s| EngineEvent::ShareOpened {
                dir: dir.clone(),
                summary: Box::new(s),
            })
        } else {
            RunRecord::read(&dir).map(|r| EngineEvent::RunOpened {
                dir: dir.clone(),
                record: Box::new(r),
            })
        }
    })
    .await;
    match read {
        Ok(Ok(ev)) => sink.send(ev),
        Ok(Err(e)) => sink.warn(format!("cannot open {shown}: {e}")),
        Err(e) => sink.warn(format!("cannot open {shown}: {e}")),
    }
}

/// A sweep read back as its own event; a failover, a gateway study or a gateway share as its
/// report's text (the console shows it in a report overlay).
fn open_other(dir: &Path) -> Option<EngineEvent> {
    if let Some(r) = read_json::<SweepReport>(&dir.join("sweep.json")) {
        return Some(EngineEvent::SweepOpened(Box::new(r)));
    }
    if let Some(r) = read_json::<RateSweepReport>(&dir.join("rate-sweep.json")) {
        return Some(EngineEvent::RateSweepOpened(Box::new(r)));
    }
    let rtt = dir.join(crate::experiments::rtt_sweep::RTT_SWEEP_JSON);
    if let Some(r) = read_json::<RttSweepReport>(&rtt) {
        return Some(EngineEvent::RttSweepOpened(Box::new(r)));
    }
    let shown = dir.display();
    if let Some(r) = read_json::<FailoverReport>(&dir.join("failover.json")) {
        return Some(EngineEvent::ReportOpened {
            dir: dir.to_path_buf(),
            title: format!("failover on `{}`", r.profile),
            text: crate::experiments::failover::failover_text(&r),
        });
    }
    if let Some(r) = read_json::<StudyReport>(&dir.join("study.json")) {
        return Some(EngineEvent::ReportOpened {
            dir: dir.to_path_buf(),
            title: format!("gateway study on `{}`", r.profile),
            text: crate::experiments::gateway_study::study_text(&r),
        });
    }
    if let Some(r) = read_json::<ShareGatewayReport>(&dir.join("share-gateway.json")) {
        return Some(EngineEvent::ReportOpened {
            dir: dir.to_path_buf(),
            title: format!("gateway share on `{}`", r.profile),
            text: crate::experiments::gateway_share::share_gateway_text(&r),
        });
    }
    // A study or share whose report this version cannot read in full: its key figures.
    for file in ["study.json", "share-gateway.json"] {
        if let Some(r) = read_json::<GatewayHead>(&dir.join(file)) {
            let ms = |v: Option<f64>| v.map_or_else(|| "-".into(), |v| format!("{v:.1} ms"));
            return Some(EngineEvent::Log {
                level: Level::Info,
                message: format!(
                    "gateway {} on `{}`: {} {}, connect after a wake p50 {} p99 {}{}; details in {shown}/{file}",
                    if file == "study.json" {
                        "study"
                    } else {
                        "share"
                    },
                    r.profile,
                    r.invocations.max(r.cycles),
                    if file == "study.json" {
                        "invocations"
                    } else {
                        "cycles"
                    },
                    ms(r.connect_p50_woken_ms),
                    ms(r.connect_p99_woken_ms),
                    if r.cancelled { ", cancelled" } else { "" }
                ),
            });
        }
    }
    None
}

/// Compare two runs (B against A) and send [`EngineEvent::Compared`].
pub async fn compare_task(a: PathBuf, b: PathBuf, sink: EventSink) {
    let work = tokio::task::spawn_blocking(move || -> EngineResult<Comparison> {
        let side = |p: &Path| {
            let r = RunRecord::read(p).with_context(|| format!("cannot read {}", p.display()))?;
            let name = p
                .file_name()
                .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into());
            Ok::<_, EngineError>((Side::from_run(name, &r), r.summary))
        };
        let ((a, sa), (b, sb)) = (side(&a)?, side(&b)?);
        let warnings = workload_mismatches(&sa, &sb);
        // The console refuses mixed loops as `redwhisk compare` does without its flag.
        if let Err(refusal) = check_loops(&a, &b, false) {
            return Err(EngineError::Failed(refusal));
        }
        let mut c = compare(&a, &b);
        c.warnings = warnings;
        Ok(c)
    })
    .await;
    match work {
        Ok(Ok(c)) => sink.send(EngineEvent::Compared(Box::new(c))),
        Ok(Err(e)) => sink.warn(format!("cannot compare: {}", e.chain())),
        Err(e) => sink.warn(format!("cannot compare: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorded_fixtures_list_newest_first() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/console");
        let got = list(&root);
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got.windows(2).all(|w| w[0].started_at >= w[1].started_at));
        let share = got.iter().find(|e| e.kind == Kind::Share).unwrap();
        assert_eq!(share.count, 24);
        let run = got.iter().find(|e| e.dir.ends_with("r1000-local")).unwrap();
        assert_eq!((run.count, run.outcome.as_str()), (30, "done"));
        assert!(list(Path::new("/nonexistent")).is_empty());
    }

    /// Reports written by the real commands (`failover`, `run --via-gateway`, `share
    /// --via-gateway`) open as their CLI text, titled by kind and profile.
    #[test]
    fn failovers_and_gateway_studies_open_as_their_reports() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports");
        let cases = [
            (
                "20261207T192038Z-fo-failover",
                "failover on `fo`",
                "verdict: recovered",
            ),
            (
                "20261207T191835Z-local-via-gateway",
                "gateway study on `local`",
                "case study 3",
            ),
            (
                "20261207T192036Z-local-share-via-gateway",
                "gateway share on `local`",
                "every key survived every sleep",
            ),
        ];
        for (dir, want_title, want_text) in cases {
            let dir = root.join(dir);
            match open_other(&dir) {
                Some(EngineEvent::ReportOpened {
                    dir: d,
                    title,
                    text,
                }) => {
                    assert_eq!(d, dir);
                    assert_eq!(title, want_title);
                    assert!(text.contains(want_text), "{title}: {text}");
                    assert!(text.lines().count() > 5, "{text}");
                }
                other => panic!("{}: {other:?}", dir.display()),
            }
        }
        // The listing shows each with its own kind.
        let kinds: Vec<Kind> = list(&root).iter().map(|e| e.kind).collect();
        for k in [Kind::Failover, Kind::GatewayStudy, Kind::GatewayShare] {
            assert!(kinds.contains(&k), "{kinds:?}");
        }
    }

    /// A gateway study or share this version cannot read in full (an older or newer report:
    /// here without its `rows`) still opens, as its key figures in the log; a report that is
    /// not JSON at all is not taken for one.
    #[test]
    fn a_gateway_report_this_version_cannot_read_falls_back_to_its_key_figures() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports");
        for (fixture, file, says) in [
            (
                "20261207T191835Z-local-via-gateway",
                "study.json",
                "gateway study on `local`: 4 invocations",
            ),
            (
                "20261207T192036Z-local-share-via-gateway",
                "share-gateway.json",
                "gateway share on `local`: 3 cycles",
            ),
        ] {
            let text = std::fs::read_to_string(root.join(fixture).join(file)).unwrap();
            let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert!(doc.as_object_mut().unwrap().remove("rows").is_some());
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(file), doc.to_string()).unwrap();
            match open_other(dir.path()) {
                Some(EngineEvent::Log { level, message }) => {
                    assert_eq!(level, Level::Info);
                    assert!(message.starts_with(says), "{message}");
                    // Both kinds carry their connect-after-a-wake figures (a share's are its
                    // reader's connects).
                    assert!(message.contains("connect after a wake p50 "), "{message}");
                    assert!(!message.contains("p50 -"), "{message}");
                    assert!(message.contains("details in"), "{message}");
                }
                other => panic!("{file} without its rows: {other:?}"),
            }
            std::fs::write(dir.path().join(file), "{not json").unwrap();
            assert!(open_other(dir.path()).is_none());
        }
    }
}
