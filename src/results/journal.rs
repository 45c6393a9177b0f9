//! The streamed files of a run are a journal: each activation is appended (and flushed) as one
//! line as soon as it completes, next to a head file written before the first invocation. If
//! redwhisk is killed (kill -9, power loss), [`repair`] turns what is there into a valid
//! `run.json` marked `partial` and `interrupted`, dropping only a torn last record.
//!
//! A live writer holds an exclusive lock on its journal, so a repair never touches a run that
//! is still going.

use std::fs::{self, File, TryLockError};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::RunSummary;
use crate::model::{Activation, Phase};
use crate::stats::RunStats;

pub(crate) const JOURNAL: &str = ".activations.jsonl.partial";
pub(crate) const CSV_JOURNAL: &str = ".invocations.csv.partial";
pub(crate) const HEAD: &str = ".run.head.json.partial";

/// What a repair did to one directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    pub dir: PathBuf,
    /// Activations kept in run.json.
    pub kept: u64,
    /// Records dropped because they were cut mid-line (at most the last one, normally).
    pub dropped: u64,
}

impl std::fmt::Display for Repaired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "finalised the interrupted run {} ({} activations kept, {} torn record{} dropped; run.json marked partial and interrupted)",
            self.dir.display(),
            self.kept,
            self.dropped,
            if self.dropped == 1 { "" } else { "s" }
        )
    }
}

/// Why a directory could not be repaired.
#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{}: no head file ({HEAD}): this run was interrupted before its first invocation or was written by an older redwhisk; nothing to finalise (delete the directory)",
        dir.display()
    )]
    NoHead { dir: PathBuf },
    #[error("{}: the head file is unreadable: {detail}", path.display())]
    BadHead { path: PathBuf, detail: String },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> RepairError + '_ {
    move |source| RepairError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Write the head (the summary as planned) atomically.
pub(crate) fn write_head(dir: &Path, head: &RunSummary) -> io::Result<()> {
    let tmp = dir.join(format!("{HEAD}.tmp"));
    fs::write(&tmp, serde_json::to_vec_pretty(head)?)?;
    fs::rename(&tmp, dir.join(HEAD))
}

/// Directories under `root` left with a journal and no run.json by a writer that is gone.
pub fn orphans(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(root) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|d| d.join(JOURNAL).is_file() && !d.join("run.json").exists())
        .filter(|d| !writer_alive(d))
        .collect();
    found.sort();
    found
}

/// Is a live writer holding the journal's lock?
fn writer_alive(dir: &Path) -> bool {
    match File::open(dir.join(JOURNAL)) {
        Ok(f) => matches!(f.try_lock(), Err(TryLockError::WouldBlock)),
        Err(_) => false,
    }
}

/// Repair every orphan under `root`; failures are returned beside the successes.
pub fn repair_all(root: &Path) -> Vec<Result<Repaired, RepairError>> {
    orphans(root).iter().map(|d| repair(d)).collect()
}

/// Finalise one interrupted run directory.
pub fn repair(dir: &Path) -> Result<Repaired, RepairError> {
    let head_path = dir.join(HEAD);
    let text = match fs::read_to_string(&head_path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(RepairError::NoHead {
                dir: dir.to_path_buf(),
            });
        }
        Err(e) => return Err(io_err(&head_path)(e)),
    };
    let mut summary: RunSummary =
        serde_json::from_str(&text).map_err(|e| RepairError::BadHead {
            path: head_path.clone(),
            detail: e.to_string(),
        })?;
    let journal = dir.join(JOURNAL);
    let (lines, dropped) = complete_records(&journal)?;
    let mut stats = RunStats::new();
    for line in &lines {
        if let Ok(a) = serde_json::from_str::<Activation>(line) {
            stats.record(&a);
        }
    }
    // Keep the clean records only, then cut a torn last CSV line the same way.
    let clean = dir.join(format!("{JOURNAL}.clean"));
    {
        let mut out = File::create(&clean).map_err(io_err(&clean))?;
        for l in &lines {
            writeln!(out, "{l}").map_err(io_err(&clean))?;
        }
        out.sync_all().map_err(io_err(&clean))?;
    }
    fs::rename(&clean, &journal).map_err(io_err(&journal))?;
    cut_torn_line(&dir.join(CSV_JOURNAL))?;

    let finished: DateTime<Utc> = fs::metadata(&journal)
        .and_then(|m| m.modified())
        .map(DateTime::<Utc>::from)
        .unwrap_or_else(|_| Utc::now());
    summary.outcome = Phase::Interrupted;
    summary.partial = true;
    summary.interrupted = true;
    summary.finished_at = finished;
    summary.elapsed_ms = (finished - summary.started_at)
        .to_std()
        .map_or(0.0, crate::stats::ms);
    let rate = summary.workload.open_loop.map_or(0.0, |o| o.rate);
    summary.summary = super::stats_summary(&stats, rate);
    assemble(dir, &summary).map_err(io_err(dir))?;
    Ok(Repaired {
        dir: dir.to_path_buf(),
        kept: lines.len() as u64,
        dropped,
    })
}

/// The journal's complete, parseable lines, and how many were dropped (torn or garbled).
fn complete_records(journal: &Path) -> Result<(Vec<String>, u64), RepairError> {
    let f = File::open(journal).map_err(io_err(journal))?;
    let mut kept = Vec::new();
    let mut dropped = 0;
    let mut reader = BufReader::new(f);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(io_err(journal))?;
        if n == 0 {
            break;
        }
        let complete = buf.ends_with(b"\n");
        let line = String::from_utf8_lossy(&buf).trim_end().to_string();
        if line.is_empty() {
            continue;
        }
        if complete && serde_json::from_str::<Activation>(&line).is_ok() {
            kept.push(line);
        } else {
            dropped += 1;
        }
    }
    Ok((kept, dropped))
}

/// Drop everything after the last newline of a file (a record cut mid-line).
fn cut_torn_line(path: &Path) -> Result<(), RepairError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(path)(e)),
    };
    if bytes.ends_with(b"\n") || bytes.is_empty() {
        return Ok(());
    }
    let keep = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let f = fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io_err(path))?;
    f.set_len(keep as u64).map_err(io_err(path))
}
/// Write `dir/run.json` from `summary` and the journal, then put invocations.csv in place and
/// remove the journal files.
pub(crate) fn assemble(dir: &Path, summary: &RunSummary) -> io::Result<()> {
    {
        let partial = dir.join(JOURNAL);
        let tmp = dir.join(".run.json.tmp");
        {
            let mut out = BufWriter::new(File::create(&tmp)?);
            let head = serde_json::to_string_pretty(summary)?;
            let head = head.trim_end().strip_suffix('}').ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    "run summary must be a JSON object",
                )
            })?;
            out.write_all(head.trim_end().as_bytes())?;
            out.write_all(b",\n  \"activations\": [")?;
            for (i, line) in BufReader::new(File::open(&partial)?).lines().enumerate() {
                let line = line?;
                if line.is_empty() {
                    continue;
                }
                out.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
                out.write_all(line.as_bytes())?;
            }
            out.write_all(b"\n  ]\n}\n")?;
            out.flush()?;
            out.get_ref().sync_all()?;
        }
        fs::rename(&tmp, dir.join("run.json"))?;
        fs::rename(dir.join(CSV_JOURNAL), dir.join("invocations.csv"))?;
        fs::remove_file(&partial)?;
        match fs::remove_file(dir.join(HEAD)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}
