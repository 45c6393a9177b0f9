//! Judging one cycle and aggregating a cell: pure, unit-tested.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::stats::{Metric, Summary};
use redwhisk_actions::protocol::{ReaderResult, WriterResult};

use super::matrix::Cell;

/// What one cycle saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CycleRecord {
    pub cell: String,
    pub cycle: u32,
    pub written: u64,
    pub found: u64,
    pub missing: u64,
    pub mismatches: u64,
    /// Every key written was read back with its value.
    pub correct: bool,
    pub stop_ms: f64,
    pub start_ms: f64,
    /// From the start of the restart until the first written key was readable (None if never).
    pub restore_ms: Option<f64>,
    pub cycle_ms: f64,
    pub error: Option<String>,
}

/// One cycle judged: what the reader did not get back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judgement {
    /// Keys written that the reader did not find.
    pub missing: u64,
    /// Keys found with a different value.
    pub mismatches: u64,
    /// Every key written was read back with its value.
    pub correct: bool,
}

/// Compare the writer's and the reader's view of one cycle.
pub fn judge(writer: &WriterResult, reader: &ReaderResult) -> Judgement {
    let mismatches = reader.mismatches.unwrap_or(0);
    let correct = reader.matches
        && reader.missing == 0
        && mismatches == 0
        && reader.found == writer.keys_written
        && reader.expected_digest == writer.digest;
    Judgement {
        missing: reader.missing,
        mismatches,
        correct,
    }
}

/// A cell's verdict: what happened to the writes, against what the cell expects.
///
/// Written to share.json as its sentence (`Display`), and read back from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Verdict {
    /// No cycle ran (cancelled before the first).
    NoCycles,
    /// Some cycles could not run (writer, reader or restart failed).
    CyclesFailed { failed: u64 },
    /// As expected: every write survived the restarts.
    Survived,
    /// As expected: the writes were lost.
    Lost,
    /// Expected to survive, but `lost` of `of` cycles lost data.
    UnexpectedLoss { lost: u64, of: u64 },
    /// Expected to lose, but `kept` of `of` cycles kept the data.
    UnexpectedSurvival { kept: u64, of: u64 },
}

impl Verdict {
    /// Reality matched the expectation (the exit code of `redwhisk share` is 0 only then).
    pub fn is_as_expected(self) -> bool {
        matches!(self, Verdict::Survived | Verdict::Lost)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::NoCycles => f.write_str("no cycles ran"),
            Verdict::CyclesFailed { failed } => write!(f, "{failed} cycles failed to run"),
            Verdict::Survived => f.write_str("as expected: every write survived"),
            Verdict::Lost => f.write_str("as expected: the writes were lost"),
            Verdict::UnexpectedLoss { lost, of } => {
                write!(f, "UNEXPECTED: {lost} of {of} cycles lost data")
            }
            Verdict::UnexpectedSurvival { kept, of } => {
                write!(f, "UNEXPECTED: {kept} of {of} cycles kept the data")
            }
        }
    }
}

impl From<Verdict> for String {
    fn from(v: Verdict) -> Self {
        v.to_string()
    }
}

/// A verdict sentence that no [`Verdict`] prints.
#[derive(Debug, thiserror::Error)]
#[error("unknown verdict `{0}`")]
pub struct UnknownVerdict(String);

impl TryFrom<String> for Verdict {
    type Error = UnknownVerdict;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        let fail = || UnknownVerdict(s.clone());
        let two = |rest: &str, suffix: &str| -> Option<(u64, u64)> {
            let (a, b) = rest.strip_suffix(suffix)?.split_once(" of ")?;
            Some((a.parse().ok()?, b.parse().ok()?))
        };
        Ok(match s.as_str() {
            "no cycles ran" => Verdict::NoCycles,
            "as expected: every write survived" => Verdict::Survived,
            "as expected: the writes were lost" => Verdict::Lost,
            other => {
                if let Some(n) = other.strip_suffix(" cycles failed to run") {
                    Verdict::CyclesFailed {
                        failed: n.parse().map_err(|_| fail())?,
                    }
                } else if let Some(rest) = other.strip_prefix("UNEXPECTED: ") {
                    if let Some((lost, of)) = two(rest, " cycles lost data") {
                        Verdict::UnexpectedLoss { lost, of }
                    } else if let Some((kept, of)) = two(rest, " cycles kept the data") {
                        Verdict::UnexpectedSurvival { kept, of }
                    } else {
                        return Err(fail());
                    }
                } else {
                    return Err(fail());
                }
            }
        })
    }
}

/// A cell's aggregate.
#[derive(Debug, Clone, Default)]
pub struct CellStats {
    pub cycles: u64,
    pub correct: u64,
    pub keys_written: u64,
    pub keys_lost: u64,
    pub errors: u64,
    pub stop: Metric,
    pub start: Metric,
    pub restore: Metric,
    pub cycle: Metric,
}

/// One cell's result, as in share.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellSummary {
    pub persistence: String,
    pub stop: String,
    pub cycles: u64,
    pub correct: u64,
    pub keys_written: u64,
    pub keys_lost: u64,
    pub errors: u64,
    pub expected_to_survive: bool,
    pub expectation: String,
    pub verdict: Verdict,
    pub stop_ms: Summary,
    pub start_ms: Summary,
    pub restore_ms: Summary,
    pub cycle_ms: Summary,
}

impl CellStats {
    pub fn record(&mut self, c: &CycleRecord) {
        self.cycles += 1;
        if c.error.is_some() {
            self.errors += 1;
        }
        if c.correct {
            self.correct += 1;
        }
        self.keys_written += c.written;
        self.keys_lost += c.missing + c.mismatches;
        self.stop.record_ms(c.stop_ms);
        self.start.record_ms(c.start_ms);
        if let Some(r) = c.restore_ms {
            self.restore.record_ms(r);
        }
        self.cycle.record_ms(c.cycle_ms);
    }

    pub fn summary(&self, cell: Cell) -> CellSummary {
        let (survive, why) = cell.expectation();
        let ok_cycles = self.cycles - self.errors;
        let verdict = if self.cycles == 0 {
            Verdict::NoCycles
        } else if self.errors > 0 {
            Verdict::CyclesFailed {
                failed: self.errors,
            }
        } else if survive && self.correct == ok_cycles {
            Verdict::Survived
        } else if !survive && self.correct == 0 {
            Verdict::Lost
        } else if survive {
            Verdict::UnexpectedLoss {
                lost: ok_cycles - self.correct,
                of: ok_cycles,
            }
        } else {
            Verdict::UnexpectedSurvival {
                kept: self.correct,
                of: ok_cycles,
            }
        };
        CellSummary {
            persistence: cell.persistence.label().into(),
            stop: cell.stop.label().into(),
            cycles: self.cycles,
            correct: self.correct,
            keys_written: self.keys_written,
            keys_lost: self.keys_lost,
            errors: self.errors,
            expected_to_survive: survive,
            expectation: why.into(),
            verdict,
            stop_ms: self.stop.summary(),
            start_ms: self.start.summary(),
            restore_ms: self.restore.summary(),
            cycle_ms: self.cycle.summary(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::matrix::{PersistenceChoice, StopChoice};
    use super::*;

    fn writer(n: u64) -> WriterResult {
        WriterResult {
            action: "writer".into(),
            keys_written: n,
            value_size: 8,
            key_prefix: "p".into(),
            seed: 1,
            digest: "aaaa".into(),
            connect_ms: 0.1,
            write_ms: 1.0,
            round_trips: 1,
            errors: 0,
        }
    }

    fn reader(found: u64, missing: u64, mismatches: u64, digest: &str) -> ReaderResult {
        ReaderResult {
            action: "reader".into(),
            keys: found + missing,
            found,
            missing,
            mismatches: Some(mismatches),
            digest: digest.into(),
            expected_digest: "aaaa".into(),
            matches: digest == "aaaa",
            connect_ms: 0.1,
            read_ms: 1.0,
            round_trips: 1,
            errors: 0,
        }
    }

    fn record(cell: &str, missing: u64, mismatches: u64, correct: bool) -> CycleRecord {
        CycleRecord {
            cell: cell.into(),
            cycle: 0,
            written: 10,
            found: 10 - missing,
            missing,
            mismatches,
            correct,
            stop_ms: 1.0,
            start_ms: 2.0,
            restore_ms: (missing < 10).then_some(2.5),
            cycle_ms: 10.0,
            error: None,
        }
    }

    fn judged(missing: u64, mismatches: u64, correct: bool) -> Judgement {
        Judgement {
            missing,
            mismatches,
            correct,
        }
    }

    #[test]
    fn a_matching_read_is_correct() {
        assert_eq!(
            judge(&writer(10), &reader(10, 0, 0, "aaaa")),
            judged(0, 0, true)
        );
    }

    #[test]
    fn a_mismatching_read_is_not() {
        // all keys found, but two values differ: the digest differs too
        assert_eq!(
            judge(&writer(10), &reader(10, 0, 2, "bbbb")),
            judged(0, 2, false)
        );
        // keys missing
        assert_eq!(
            judge(&writer(10), &reader(7, 3, 0, "cccc")),
            judged(3, 0, false)
        );
        // a reader that counted fewer keys than were written is not correct even if it matches its own digest
        assert!(!judge(&writer(11), &reader(10, 0, 0, "aaaa")).correct);
    }

    #[test]
    fn every_verdict_reads_back_from_its_sentence() {
        for v in [
            Verdict::NoCycles,
            Verdict::CyclesFailed { failed: 3 },
            Verdict::Survived,
            Verdict::Lost,
            Verdict::UnexpectedLoss { lost: 1, of: 20 },
            Verdict::UnexpectedSurvival { kept: 19, of: 20 },
        ] {
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, format!("\"{v}\""));
            assert_eq!(serde_json::from_str::<Verdict>(&json).unwrap(), v);
        }
        let err = serde_json::from_str::<Verdict>("\"fine, probably\"").unwrap_err();
        assert!(
            err.to_string().contains("unknown verdict `fine, probably`"),
            "{err}"
        );
        assert!(Verdict::Lost.is_as_expected());
        assert!(!Verdict::UnexpectedLoss { lost: 1, of: 2 }.is_as_expected());
        assert!(!Verdict::NoCycles.is_as_expected());
    }

    #[test]
    fn verdicts_compare_reality_with_expectation() {
        let aof = Cell {
            persistence: PersistenceChoice::AofAlways,
            stop: StopChoice::Crash,
            snapshots: false,
        };
        let mut s = CellStats::default();
        s.record(&record("x", 0, 0, true));
        s.record(&record("x", 10, 0, false));
        let sum = s.summary(aof);
        assert_eq!(sum.keys_lost, 10);
        assert_eq!(sum.verdict, Verdict::UnexpectedLoss { lost: 1, of: 2 });
        assert_eq!(
            sum.verdict.to_string(),
            "UNEXPECTED: 1 of 2 cycles lost data"
        );

        let rdb_crash = Cell {
            persistence: PersistenceChoice::Rdb,
            stop: StopChoice::Crash,
            snapshots: false,
        };
        let mut s = CellStats::default();
        s.record(&record("x", 10, 0, false));
        assert_eq!(s.summary(rdb_crash).verdict, Verdict::Lost);
        assert_eq!(
            s.summary(rdb_crash).verdict.to_string(),
            "as expected: the writes were lost"
        );
        assert_eq!(s.summary(rdb_crash).restore_ms.n, 0);
    }

    #[test]
    fn matrix_has_eight_cells() {
        assert_eq!(super::super::matrix::cells(None, None).len(), 8);
        assert_eq!(
            super::super::matrix::cells(Some(PersistenceChoice::Rdb), None).len(),
            2
        );
    }
}
