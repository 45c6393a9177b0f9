//! Case study 2's records: the matrix of cells, the cycle records and their verdicts, and
//! `share.json`. Pure: the experiment that fills them in is `experiments::share`.

mod matrix;
mod report;
mod summary;
mod verdict;

pub use matrix::{Cell, PersistenceChoice, StopChoice, cells, cells_with};
pub use report::share_text_report;
pub use summary::{SHARE_SCHEMA, ShareOptionsRecord, ShareSummary};
pub use verdict::{CellStats, CellSummary, CycleRecord, Judgement, UnknownVerdict, Verdict, judge};
