//! What a key means. A key becomes an [`Action`] (see `keys.rs`); the app turns an action into
//! a state change and, at most, one engine command (see `perform.rs`). A leaf: it imports no
//! other file of the console, so the key table, the state and the help can all name actions.

/// Everything the user can ask of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Start case study 1 on the selected profile.
    Run,
    /// Start the data-sharing experiment on the selected profile.
    Share,
    /// Start a sweep (case study 1 at concurrency 1, 2, 4, … 32) on the selected profile.
    Sweep,
    /// Choose how `r` runs: as the profile says, an open loop at 5, 10, 20, 40 or 80
    /// arrivals per second, or a closed loop (cycles).
    CycleLoop,
    /// Start an RTT sweep (case study 1 at 0 to 5 ms of emulated distance to Redis).
    RttSweep,
    /// Cancel the active run (its partial results are kept).
    Cancel,
    /// Start the selected profile's Redis.
    RedisUp,
    /// Save and stop the selected profile's Redis.
    RedisDown,
    /// Start the scale-to-zero gateway for the selected profile, or stop the running one.
    ToggleGateway,
    /// Say where the last run's results are.
    Export,
    /// Clear the log and the finished run's figures.
    Clear,
    /// Quit (asks first while a run is active).
    Quit,
    /// Quit after the confirmation.
    ConfirmQuit,
    /// Close the help overlay or the quit question.
    Dismiss,
    /// Open the workload editor for the selected profile.
    EditWorkload,
    /// Editor: the field above.
    EditPrev,
    /// Editor: the field below.
    EditNext,
    /// Editor: more of the field (doubles, +1, the other mode).
    EditMore,
    /// Editor: less of the field.
    EditLess,
    /// Editor: use the values for the next runs of the profile.
    EditApply,
    /// Editor: the file's values again.
    EditReset,
    /// Editor: use the values and write them into the profile's file.
    EditSave,
    /// Acknowledge the error flashed in the header.
    Acknowledge,
    /// Show or hide the help overlay.
    ToggleHelp,
    /// Select the next profile (wraps).
    NextProfile,
    /// Select the previous profile (wraps).
    PrevProfile,
    /// Select the profile with this 0-based index (keys 1–9).
    SelectProfile(u8),
    /// Scroll the log towards older lines.
    LogUp,
    /// Scroll the log towards newer lines.
    LogDown,
    /// Scroll the log a page up.
    LogPageUp,
    /// Scroll the log a page down.
    LogPageDown,
    /// Back to following the newest log line.
    LogEnd,
    /// Jump to the oldest log line.
    LogHome,
    /// Show the next view (Run → Share → Results → Compare).
    NextView,
    /// Show the previous view.
    PrevView,
    /// Results: move the cursor up.
    ResultsUp,
    /// Results: move the cursor down.
    ResultsDown,
    /// Results: open the selected run in the Run or Share view.
    OpenResult,
    /// Results: mark the selected run; two marked open Compare.
    MarkResult,
    /// Results: the first row.
    ResultsHome,
    /// Results: the last row.
    ResultsEnd,
    /// Results: order by date, p50, p99 or throughput (cycles).
    SortResults,
    /// Results: type a filter (Enter keeps it, Esc clears it).
    FilterResults,
    /// Report overlay: a line up.
    ReportUp,
    /// Report overlay: a line down.
    ReportDown,
    /// Report overlay: a page up.
    ReportPageUp,
    /// Report overlay: a page down.
    ReportPageDown,
    /// Report overlay: the first line.
    ReportHome,
    /// Report overlay: the last page.
    ReportEnd,
}
