//! The Sweep view's table: one row per planned concurrency, filled in as each step's run
//! finishes (the run itself is seen live in the Run pane above), the knee marked.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::fmt::pane;
use crate::tui::app::App;

/// Inner width from which the per-command columns fit.
const FULL: u16 = 90;

/// The steps pane.
pub fn render_sweep(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    if let Some(rs) = &app.rate_sweep {
        render_rate_sweep(app, rs, frame, area);
        return;
    }
    if let Some(r) = &app.rtt_sweep {
        super::rtt_sweep::render_rtt_sweep(app, r, frame, area);
        return;
    }
    let Some(sweep) = &app.sweep else {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "no sweep yet: press w to run case study 1 at concurrency 1, 2, 4, 8, 16 and 32 on the selected profile, W at 0 to 5 ms of emulated RTT to Redis (redwhisk sweep [--rtt] does the same headless)",
                t.dim(),
            ))
            .wrap(ratatui::widgets::Wrap { trim: true })
            .block(pane(t, " Sweep ")),
            area,
        );
        return;
    };
    let full = area.width.saturating_sub(2) >= FULL;
    let (knee, peak) = sweep.knee();
    let running = app.run_active();
    let mut header = vec![
        "conc", "inv", "failed", "inv/s", "cmds/s", "p50 ms", "p99 ms",
    ];
    if full {
        header.extend(["SET p50", "GET p50", ""]);
    } else {
        header.push("");
    }
    let rows = sweep.planned.iter().enumerate().map(|(i, &c)| {
        match sweep.steps.iter().find(|s| s.concurrency == c) {
            Some(s) => {
                let mut cells = vec![
                    Cell::from(c.to_string()),
                    Cell::from(s.invocations.to_string()),
                    Cell::from(s.failed.to_string()),
                    Cell::from(format!("{:.1}", s.invocations_per_s)),
                    Cell::from(format!("{:.0}", s.commands_per_s)),
                    Cell::from(format!("{:.1}", s.total_p50_ms)),
                    Cell::from(format!("{:.1}", s.total_p99_ms)),
                ];
                if full {
                    cells.push(Cell::from(format!("{:.0}µs", s.set_p50_us)));
                    cells.push(Cell::from(format!("{:.0}µs", s.get_p50_us)));
                }
                let mark = if knee == Some(c) { "← knee" } else { "" };
                cells.push(Cell::from(Span::styled(mark, t.ok())));
                let style = if s.failed > 0 {
                    t.warn()
                } else {
                    ratatui::style::Style::default()
                };
                Row::new(cells).style(style)
            }
            None => {
                let state = if running && i == sweep.steps.len() {
                    "running…"
                } else {
                    "pending"
                };
                let mut cells = vec![Cell::from(c.to_string())];
                cells.resize(header.len() - 1, Cell::from(""));
                cells.push(Cell::from(state));
                Row::new(cells).style(t.dim())
            }
        }
    });
    let mut widths = vec![
        Constraint::Length(5),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(8),
    ];
    if full {
        widths.extend([Constraint::Length(8), Constraint::Length(8)]);
    }
    widths.push(Constraint::Fill(1));
    let title = format!(
        " Sweep · {} · {}/{} steps ",
        sweep.profile,
        sweep.steps.len(),
        sweep.planned.len()
    );
    let so_far = if sweep.live { " so far" } else { "" };
    let knee_line = match knee {
        Some(k) => {
            let long = format!(
                "knee: concurrency {k}, the smallest reaching 90% of the peak {peak:.1} invocations/s{so_far}"
            );
            let short = format!("knee: c={k}, the smallest at 90% of peak {peak:.1} inv/s{so_far}");
            let fits = long.chars().count() + 2 <= usize::from(area.width);
            Line::from(Span::styled(if fits { long } else { short }, t.dim()))
        }
        None => Line::from(Span::styled("knee: after the first step", t.dim())),
    };
    let block = super::fmt::pane_fit(t, &title, area);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [table_area, knee_area] = inner.layout(&ratatui::layout::Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(1),
    ]));
    frame.render_widget(
        Table::new(rows, widths).header(Row::new(header).style(t.label())),
        table_area,
    );
    frame.render_widget(
        Paragraph::new(super::fmt::fit_line(
            knee_line,
            usize::from(knee_area.width),
        )),
        knee_area,
    );
}

/// A rate sweep: one row per planned rate, the saturation point marked.
fn render_rate_sweep(
    app: &App,
    rs: &crate::tui::views::RateSweepView,
    frame: &mut Frame,
    area: Rect,
) {
    let t = app.theme;
    let saturation = rs.saturation();
    let running = app.run_active();
    let header = vec![
        "rate/s",
        "inv",
        "failed",
        "achieved",
        "late",
        "corr p99",
        "uncorr p99",
        "",
    ];
    let rows =
        rs.planned
            .iter()
            .enumerate()
            .map(|(i, &r)| match rs.steps.iter().find(|s| s.rate == r) {
                Some(s) => {
                    let mark = if saturation == Some(r) {
                        "← saturation"
                    } else if s.sustained {
                        ""
                    } else {
                        "not sustained"
                    };
                    let cells = vec![
                        Cell::from(r.to_string()),
                        Cell::from(s.invocations.to_string()),
                        Cell::from(s.failed.to_string()),
                        Cell::from(format!("{:.1}", s.achieved_rate)),
                        Cell::from(s.late_starts.to_string()),
                        Cell::from(format!("{:.1}", s.corrected_p99_ms)),
                        Cell::from(format!("{:.1}", s.uncorrected_p99_ms)),
                        Cell::from(Span::styled(
                            mark,
                            if s.sustained { t.ok() } else { t.warn() },
                        )),
                    ];
                    Row::new(cells)
                }
                None => {
                    let state = if running && i == rs.steps.len() {
                        "running…"
                    } else {
                        "pending"
                    };
                    let mut cells = vec![Cell::from(r.to_string())];
                    cells.resize(header.len() - 1, Cell::from(""));
                    cells.push(Cell::from(state));
                    Row::new(cells).style(t.dim())
                }
            });
    let widths = [
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(9),
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Length(11),
        Constraint::Fill(1),
    ];
    let title = format!(
        " Rate sweep · {} · {}/{} steps ",
        rs.profile,
        rs.steps.len(),
        rs.planned.len()
    );
    let line = Line::from(Span::styled(
        match saturation {
            Some(r) => format!(
                "saturation point: {r}/s, the highest rate kept within 5% with corrected p99 < {} ms",
                rs.p99_bound_ms
            ),
            None => format!(
                "saturation point: none yet (achieved within 5% and corrected p99 < {} ms)",
                rs.p99_bound_ms
            ),
        },
        t.dim(),
    ));
    let block = pane(t, &title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [table_area, line_area] = inner.layout(&ratatui::layout::Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(1),
    ]));
    frame.render_widget(
        Table::new(rows, widths).header(Row::new(header).style(t.label())),
        table_area,
    );
    frame.render_widget(Paragraph::new(line), line_area);
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use crate::engine::sweep::SweepStep;
    use crate::event::EngineEvent;
    use crate::tui::demo::idle_app;
    use crate::tui::theme::Theme;

    fn step(c: u32, ips: f64) -> SweepStep {
        SweepStep {
            concurrency: c,
            invocations: 64,
            failed: 0,
            window_ms: 1000.0,
            invocations_per_s: ips,
            commands_per_s: ips * 3000.0,
            total_p50_ms: 150.0,
            total_p95_ms: 200.0,
            total_p99_ms: 250.0,
            set_p50_us: 45.0,
            set_p99_us: 90.0,
            get_p50_us: 44.0,
            get_p99_us: 88.0,
            results_dir: PathBuf::from("/tmp/x"),
        }
    }

    fn screen(app: &crate::tui::app::App, w: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(w, 12)).unwrap();
        t.draw(|f| super::render_sweep(app, f, f.area())).unwrap();
        let buf = t.backend().buffer().clone();
        let mut out = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    #[test]
    fn the_table_fills_in_step_by_step_and_names_the_knee() {
        let mut app = idle_app(Theme::new(true));
        assert!(screen(&app, 100).contains("press w"));
        app.apply(EngineEvent::SweepStarted {
            profile: "local".into(),
            concurrencies: vec![1, 2, 4],
        });
        let empty = screen(&app, 100);
        assert!(empty.contains("0/3 steps"), "{empty}");
        assert_eq!(empty.matches("pending").count(), 3, "{empty}");
        app.apply(EngineEvent::SweepStep(Box::new(step(1, 6.0))));
        app.apply(EngineEvent::SweepStep(Box::new(step(2, 13.0))));
        let two = screen(&app, 100);
        assert!(two.contains("2/3 steps"), "{two}");
        assert!(two.contains("13.0") && two.contains("39000"), "{two}");
        assert!(
            two.contains("45µs"),
            "per-command columns at 100 columns: {two}"
        );
        assert!(
            two.lines()
                .any(|l| l.trim_start_matches('│').starts_with("2 ") && l.contains("← knee")),
            "{two}"
        );
        assert_eq!(two.matches("pending").count(), 1, "{two}");
        let narrow = screen(&app, 70);
        assert!(!narrow.contains("45µs"), "{narrow}");
        assert!(narrow.contains("← knee"), "{narrow}");
        // The sweep's end is the sweep's, not the last step's: a step keeps its own time.
        let mut run = crate::tui::demo::running_app(Theme::new(true), 8, 8, 3, false);
        run.apply(EngineEvent::SweepStarted {
            profile: "local".into(),
            concurrencies: vec![1],
        });
        run.apply(EngineEvent::RunFinished {
            outcome: crate::event::Phase::Done,
            results_dir: Some(PathBuf::from("/tmp/sweep")),
            elapsed: std::time::Duration::from_secs(100),
        });
        assert!(!run.sweep.as_ref().unwrap().live);
        let step = run.run.as_ref().unwrap().finished.as_ref().unwrap().elapsed;
        assert!(step < std::time::Duration::from_secs(100), "{step:?}");
        let logged: Vec<String> = run.log.lines.iter().map(|l| l.message.clone()).collect();
        assert!(
            logged
                .iter()
                .any(|l| l.starts_with("sweep done after 100.0 s")),
            "{logged:?}"
        );
    }

    #[test]
    fn o_chooses_an_open_loop_and_w_then_sweeps_rates_naming_the_saturation_point() {
        use crate::event::EngineCommand;
        use crate::model::rate_sweep::{RateStep, sustained};
        use crate::tui::action::Action;
        let mut app = idle_app(Theme::new(true));
        let profile = app.selected_name().to_string();
        // profile → 5/s → … → 80/s → closed → profile.
        app.perform(Action::CycleLoop);
        assert_eq!(
            app.perform(Action::Run),
            Some(EngineCommand::RunLoop {
                profile: profile.clone(),
                rate: Some(5)
            })
        );
        assert_eq!(
            app.perform(Action::Sweep),
            Some(EngineCommand::RateSweep {
                profile: profile.clone()
            })
        );
        for _ in 0..5 {
            app.perform(Action::CycleLoop);
        }
        assert_eq!(
            app.perform(Action::Run),
            Some(EngineCommand::RunLoop {
                profile: profile.clone(),
                rate: None
            })
        );
        app.perform(Action::CycleLoop);
        assert_eq!(
            app.perform(Action::Run),
            Some(EngineCommand::Run { profile })
        );

        let step = |rate: f64, achieved: f64, p99: f64| RateStep {
            rate,
            invocations: 50,
            failed: 0,
            scheduled_rate: rate,
            achieved_rate: achieved,
            late_starts: 3,
            corrected_p50_ms: 10.0,
            corrected_p99_ms: p99,
            uncorrected_p50_ms: 9.0,
            uncorrected_p99_ms: 20.0,
            sustained: sustained(rate, achieved, p99, 250.0),
            results_dir: PathBuf::from("/tmp/x"),
        };
        app.apply(EngineEvent::RateSweepStarted {
            profile: "local".into(),
            rates: vec![5.0, 10.0, 20.0],
            p99_bound_ms: 250.0,
        });
        app.apply(EngineEvent::RateSweepStep(Box::new(step(5.0, 5.0, 30.0))));
        app.apply(EngineEvent::RateSweepStep(Box::new(step(10.0, 9.0, 900.0))));
        let out = screen(&app, 100);
        assert!(
            out.contains("Rate sweep") && out.contains("2/3 steps"),
            "{out}"
        );
        assert!(
            out.contains("← saturation") && out.contains("not sustained"),
            "{out}"
        );
        assert!(out.contains("saturation point: 5/s"), "{out}");
        assert_eq!(out.matches("pending").count(), 1, "{out}");
        // A concurrency sweep replaces it.
        app.apply(EngineEvent::SweepStarted {
            profile: "local".into(),
            concurrencies: vec![1],
        });
        assert!(app.rate_sweep.is_none() && !screen(&app, 100).contains("Rate sweep"));
    }
}
