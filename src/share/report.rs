//! The text table of a share experiment, every cell explained.

use std::fmt::Write as _;

use super::CellSummary;

pub fn share_text_report(cells: &[CellSummary], results_dir: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<13}{:<10}{:>7}{:>11}{:>11}{:>10}{:>10}{:>12}{:>10}  verdict",
        "persistence",
        "stop",
        "cycles",
        "correct",
        "keys lost",
        "stop p50",
        "start p50",
        "restore p50",
        "cycle p50"
    );
    for c in cells {
        let restore = if c.restore_ms.n == 0 {
            "—".to_string()
        } else {
            format!("{:.1}", c.restore_ms.p50)
        };
        let _ = writeln!(
            out,
            "{:<13}{:<10}{:>7}{:>11}{:>11}{:>10.1}{:>10.1}{:>12}{:>10.1}  {}",
            c.persistence,
            c.stop,
            c.cycles,
            format!("{}/{}", c.correct, c.cycles),
            c.keys_lost,
            c.stop_ms.p50,
            c.start_ms.p50,
            restore,
            c.cycle_ms.p50,
            c.verdict
        );
    }
    let _ = writeln!(
        out,
        "\ntimes in ms (p50; share.json has n, mean, std, p95, p99, max)"
    );
    let _ = writeln!(out, "why each cell is expected to keep or lose the writes:");
    for c in cells {
        let _ = writeln!(
            out,
            "  {} × {}: {} — {}",
            c.persistence,
            c.stop,
            if c.expected_to_survive {
                "keeps"
            } else {
                "loses"
            },
            c.expectation
        );
    }
    let _ = writeln!(out, "\nresults: {results_dir} (share.json, cycles.csv)");
    out
}
