//! The results library: the runs under a results root, opened and compared for the console.
//! File-system work happens here (on a blocking thread), never in the UI; what it finds goes
//! back as events.

use std::path::{Path, PathBuf};

use crate::compare::{Comparison, Side, check_loops, compare};
use crate::event::{EngineEvent, EventSink};
use crate::experiments::{Context, EngineError, EngineResult};
pub use crate::model::library::{Kind, ResultEntry};
use crate::results::{RunRecord, RunSummary};
use crate::share::ShareSummary;

fn entry(dir: &Path) -> Option<ResultEntry> {
    if dir.join("run.json").is_file() {
        let text = std::fs::read_to_string(dir.join("run.json")).ok()?;
        let s = RunSummary::from_json(&text).ok()?;
        return Some(ResultEntry {
            dir: dir.to_path_buf(),
            kind: Kind::Run,
            profile: s.profile.name.clone(),
            started_at: s.started_at,
            count: s.summary.completed,
            outcome: s.outcome.as_str().to_string(),
        });
    }
    if dir.join("share.json").is_file() {
        let s = ShareSummary::read(dir).ok()?;
        return Some(ResultEntry {
            dir: dir.to_path_buf(),
            kind: Kind::Share,
            profile: s.profile.name.clone(),
            started_at: s.started_at,
            count: s.cycles.len() as u64,
            outcome: if s.partial { "partial" } else { "done" }.into(),
        });
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

/// Compare two runs (B against A) and send [`EngineEvent::Compared`].
pub async fn compare_task(a: PathBuf, b: PathBuf, sink: EventSink) {
    let work = tokio::task::spawn_blocking(move || -> EngineResult<Comparison> {
        let side = |p: &Path| {
            let r = RunRecord::read(p).with_context(|| format!("cannot read {}", p.display()))?;
            let name = p
                .file_name()
                .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into());
            Ok::<_, EngineError>(Side::from_run(name, &r))
        };
        let (a, b) = (side(&a)?, side(&b)?);
        // The console refuses mixed loops as `redwhisk compare` does without its flag.
        if let Err(refusal) = check_loops(&a, &b, false) {
            return Err(EngineError::Failed(refusal));
        }
        Ok(compare(&a, &b))
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
}
