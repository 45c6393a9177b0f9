//! Results on disk: `results/<UTC time>-<profile>/run.json` and `invocations.csv`.
//!
//! Activations are streamed to a partial file as they complete, so memory does not grow with
//! the number of invocations; `run.json` is assembled from it at the end. Both files appear
//! atomically (written under a temporary name, then renamed). The streamed files are a journal
//! (see `journal.rs`): after a kill -9, `redwhisk results repair` (or the next run) finalises
//! them.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::model::Activation;
use redwhisk_actions::BenchResult;

mod journal;
mod summary;

use journal::{CSV_JOURNAL, JOURNAL};
pub use journal::{RepairError, Repaired, orphans, repair, repair_all};
pub use summary::{SCHEMA_ID, build_summary, profile_record, stats_summary};

pub use crate::model::run::{
    ClientWaits, Commands, HostInfo, PaperPhases, PaperRecord, PhaseIntervals, Phases,
    PlatformSide, PlatformTimings, ProfileRecord, RUN_SCHEMA, ReadError, RedisRecord, RunRecord,
    RunStatsSummary, RunSummary, WorkloadRecord,
};

/// `share.json`, typed (defined with case study 2).
pub use crate::share::{SHARE_SCHEMA, ShareSummary};

const CSV_HEADER: &str = "index,activation_id,status,success,cold,start_ms,end_ms,duration_ms,client_latency_ms,wait_time_ms,init_time_ms,throttled,throttle_wait_ms,polls,poll_overhead_ms,log_fetch_ms,connect_ms,write_ms,read_ms,delete_ms,total_ms,records,mismatches,errors,error";

/// The results root when none is given: `results/` under the working directory.
pub const DEFAULT_ROOT: &str = "results";

/// [`DEFAULT_ROOT`] as a path.
pub fn default_root() -> PathBuf {
    PathBuf::from(DEFAULT_ROOT)
}

/// Write `path` atomically (a hidden temporary name, then renamed): `header`, then one line
/// per row. Build rows with [`csv_field`] for text and [`csv_ms`] for optional times.
pub fn write_csv(
    path: &Path,
    header: &str,
    rows: impl IntoIterator<Item = String>,
) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "CSV path has no file name"))?;
    let tmp = path.with_file_name(format!(".{}.tmp", name.to_string_lossy()));
    {
        let mut out = BufWriter::new(File::create(&tmp)?);
        writeln!(out, "{header}")?;
        for row in rows {
            writeln!(out, "{row}")?;
        }
        out.flush()?;
    }
    fs::rename(&tmp, path)
}

/// An optional time in ms with three decimals; empty when absent.
pub fn csv_ms(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.3}")).unwrap_or_default()
}

/// Writes one run's results directory.
#[derive(Debug)]
pub struct ResultsWriter {
    dir: PathBuf,
    jsonl: BufWriter<File>,
    csv: BufWriter<File>,
}

/// `<root>/<UTC time>-<profile>`; a numeric suffix keeps two runs in the same second apart.
pub fn run_dir_name(started: DateTime<Utc>, profile: &str) -> String {
    format!("{}-{profile}", started.format("%Y%m%dT%H%M%SZ"))
}

/// Make a new directory `<root>/<base>`, or `<base>-2`, `<base>-3`… when taken. Made here with
/// `create_dir`, so two jobs starting in the same second (in this process or another) never
/// share one.
pub fn unique_dir(root: &Path, base: &str) -> io::Result<PathBuf> {
    fs::create_dir_all(root)?;
    let mut n = 1;
    loop {
        let dir = if n == 1 {
            root.join(base)
        } else {
            root.join(format!("{base}-{n}"))
        };
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(e),
        }
    }
}

impl ResultsWriter {
    pub fn create(root: &Path, profile: &str, started: DateTime<Utc>) -> io::Result<Self> {
        let dir = unique_dir(root, &run_dir_name(started, profile))?;
        let journal = File::create(dir.join(JOURNAL))?;
        // Held while this writer lives: a repair leaves a live run alone.
        journal.lock()?;
        let jsonl = BufWriter::new(journal);
        let mut csv = BufWriter::new(File::create(dir.join(CSV_JOURNAL))?);
        writeln!(csv, "{CSV_HEADER}")?;
        csv.flush()?;
        Ok(Self { dir, jsonl, csv })
    }

    /// Record the summary as planned, so a run killed mid-way can be finalised from it.
    pub fn write_head(&self, head: &RunSummary) -> io::Result<()> {
        journal::write_head(&self.dir, head)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Append one activation (and its parsed bench result) to both files.
    pub fn append(&mut self, a: &Activation, bench: Option<&BenchResult>) -> io::Result<()> {
        serde_json::to_writer(&mut self.jsonl, a)?;
        self.jsonl.write_all(b"\n")?;
        // One record per write: a kill -9 can cut at most the last one.
        self.jsonl.flush()?;
        let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
        let f = csv_ms;
        let error = a.error_text().unwrap_or_default();
        writeln!(
            self.csv,
            "{},{},{},{},{},{},{},{},{:.3},{},{},{},{:.3},{},{:.3},{},{},{},{},{},{},{},{},{},{}",
            a.index,
            a.activation_id,
            csv_field(a.response.status.as_str()),
            a.response.success,
            a.is_cold(),
            a.start,
            a.end,
            a.duration,
            a.client_latency_ms,
            opt(a.wait_time_ms),
            opt(a.init_time_ms),
            a.throttled,
            a.throttle_wait_ms,
            a.polls,
            a.poll_overhead_ms,
            f(a.log_fetch_ms),
            f(bench.map(|b| b.connect_ms)),
            f(bench.map(|b| b.write_ms)),
            f(bench.map(|b| b.read_ms)),
            f(bench.map(|b| b.delete_ms)),
            f(bench.map(|b| b.total_ms)),
            opt(bench.map(|b| u64::from(b.records))),
            opt(bench.map(|b| b.mismatches)),
            opt(bench.map(|b| b.errors)),
            csv_field(&error),
        )?;
        self.csv.flush()
    }

    /// Write `run.json` (the summary plus every activation) and rename both files into
    /// place. Returns the directory.
    pub fn finish(mut self, summary: &RunSummary) -> io::Result<PathBuf> {
        self.jsonl.flush()?;
        self.csv.flush()?;
        drop(self.jsonl);
        drop(self.csv);
        journal::assemble(&self.dir, summary)?;
        Ok(self.dir)
    }
}

/// A text field, quoted (with doubled quotes) when it holds a comma, quote or line break.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_escaping() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
    }

    #[test]
    fn finish_makes_valid_json_with_no_activations() {
        let root = tempfile::tempdir().unwrap();
        let w = ResultsWriter::create(root.path(), "p", Utc::now()).unwrap();
        let summary = RunSummary::from_json(include_str!("../tests/fixtures/run-v1.json")).unwrap();
        let dir = w.finish(&summary).unwrap();
        let back = RunRecord::read(&dir).unwrap();
        assert_eq!(back.summary, summary);
        assert!(back.activations.is_empty());
        let csv = fs::read_to_string(dir.join("invocations.csv")).unwrap();
        assert_eq!(csv.trim(), CSV_HEADER);
    }
}
