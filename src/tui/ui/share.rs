//! The Share view's matrix: one row per persistence × stop cell, filling in live, coloured by
//! verdict (green as expected, red unexpected, yellow cycles that failed to run).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::fmt::{self, pane};
use crate::share::{CellSummary, Verdict};
use crate::tui::app::App;
use crate::tui::theme::Theme;
use crate::tui::views::ShareSource;

/// Inner width from which the start and restore columns fit.
const FULL: u16 = 100;
/// From this width the matrix adds the tails (p99) of stop, start and restore, the whole
/// cycle's p50 and the errors: a 200-column terminal has the room.
const WIDE: u16 = 170;

/// A verdict's colour. The verdict is the same type share.json stores.
fn verdict_style(t: Theme, s: &CellSummary) -> Style {
    if s.cycles == 0 {
        t.dim()
    } else if s.errors > 0 {
        t.warn()
    } else if verdict_as_expected(s) {
        t.ok()
    } else {
        t.error()
    }
}

/// The verdict in a dozen characters, for narrow screens.
fn short_verdict(s: &CellSummary) -> String {
    match s.verdict {
        Verdict::NoCycles => "no cycles".into(),
        Verdict::CyclesFailed { failed } => format!("! {failed} failed"),
        Verdict::Survived => "✓ kept".into(),
        Verdict::Lost => "✓ lost".into(),
        Verdict::UnexpectedLoss { lost, of } => format!("✗ {lost}/{of} lost"),
        Verdict::UnexpectedSurvival { kept, of } => format!("✗ {kept}/{of} kept"),
    }
}

fn verdict_as_expected(s: &CellSummary) -> bool {
    s.verdict.is_as_expected()
}

/// The matrix pane.
pub fn render_share(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let Some(share) = &app.share else {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "no data-sharing experiment yet: press s to run one on the selected profile, or open a share run from Results",
                t.dim(),
            ))
            .wrap(ratatui::widgets::Wrap { trim: true })
            .block(pane(t, " Case study 2: persistence × stop ")),
            area,
        );
        return;
    };
    let (done, planned) = share.progress();
    let from = match &share.source {
        // Live while the experiment runs; then how it ended.
        ShareSource::Live => match app.run.as_ref().and_then(|r| r.finished.as_ref()) {
            Some(f) => format!("this session, {}", f.outcome.label()),
            None => "live".to_string(),
        },
        ShareSource::File(dir) => dir
            .file_name()
            .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into()),
    };
    let block = super::fmt::pane_fit(
        t,
        &format!(" Case study 2: persistence × stop · {done}/{planned} cycles · {from} "),
        area,
    );
    let full = block.inner(area).width >= FULL;
    let wide = block.inner(area).width >= WIDE;
    let mut header = vec!["persistence", "stop", "cycles", "correct", "lost", "stop"];
    let mut widths = vec![
        Constraint::Length(12),
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(7),
    ];
    if full {
        header.extend(["start", "restore"]);
        widths.extend([Constraint::Length(7), Constraint::Length(8)]);
    }
    if wide {
        header.extend(["stop99", "start99", "restore99", "cycle", "errors"]);
        widths.extend([
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(9),
            Constraint::Length(7),
            Constraint::Length(6),
        ]);
    }
    header.push(if wide {
        "verdict (times in ms: p50, p99 marked 99; cycle: a whole cycle's p50)"
    } else if full {
        "verdict (times: p50 ms)"
    } else {
        "verdict"
    });
    widths.push(Constraint::Fill(1));
    let rows = share.rows.iter().enumerate().map(|(i, r)| {
        let s = &r.summary;
        let p50 = |m: &crate::stats::Summary| {
            if m.n == 0 {
                "-".to_string()
            } else {
                fmt::ms(m.p50)
            }
        };
        let p99 = |m: &crate::stats::Summary| {
            if m.n == 0 {
                "-".to_string()
            } else {
                fmt::ms(m.p99)
            }
        };
        let live_now = share.source == ShareSource::Live
            && share.current == Some(i)
            && app.run_active()
            && s.cycles < u64::from(r.planned);
        let said = if full {
            s.verdict.to_string()
        } else {
            short_verdict(s)
        };
        let verdict = if live_now {
            Span::styled(format!("running… {said}"), t.warn())
        } else if s.cycles == 0 {
            Span::styled("waiting", t.dim())
        } else {
            Span::styled(said, verdict_style(t, s))
        };
        let planned = if r.planned > 0 {
            format!("{}/{}", s.cycles, r.planned)
        } else {
            s.cycles.to_string()
        };
        let mut cells = vec![
            Cell::from(Span::styled(s.persistence.clone(), t.label())),
            Cell::from(Span::styled(s.stop.clone(), t.label())),
            Cell::from(planned),
            Cell::from(Span::styled(
                s.correct.to_string(),
                if s.cycles > 0 && s.correct == s.cycles {
                    t.ok()
                } else {
                    Style::new()
                },
            )),
            Cell::from(s.keys_lost.to_string()),
            Cell::from(p50(&s.stop_ms)),
        ];
        if full {
            cells.push(Cell::from(p50(&s.start_ms)));
            cells.push(Cell::from(p50(&s.restore_ms)));
        }
        if wide {
            cells.extend([
                Cell::from(p99(&s.stop_ms)),
                Cell::from(p99(&s.start_ms)),
                Cell::from(p99(&s.restore_ms)),
                Cell::from(p50(&s.cycle_ms)),
                Cell::from(Span::styled(
                    s.errors.to_string(),
                    if s.errors > 0 {
                        t.error()
                    } else {
                        Style::new()
                    },
                )),
            ]);
        }
        cells.push(Cell::from(Line::from(verdict)));
        Row::new(cells)
    });
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(t.header()))
        .column_spacing(1)
        .block(block);
    frame.render_widget(table, area);
}
