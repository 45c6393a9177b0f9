//! The run pane: experiment, progress n / N, failures, elapsed and ETA, rate, cold and warm.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};

use super::fmt::{self, pane};
use crate::tui::app::App;

/// The run pane.
pub fn render_run(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let block = pane(t, " Run ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(run) = &app.run else {
        let hint = match app.selected_profile().and_then(|p| p.info.as_ref().ok()) {
            Some(i) => format!(
                "no run yet. Press r to run `{}`: {} invocations × {} records.",
                app.selected_name(),
                i.invocations,
                i.records
            ),
            None => "no run yet; select a valid profile and press r.".into(),
        };
        // The default (as the profile says) keeps the hint as it was; a choice is shown.
        let hint = if app.loop_choice == crate::tui::state::LoopChoice::Profile {
            hint
        } else {
            format!("{hint} Loop: {} (o changes it).", app.loop_choice.label())
        };
        frame.render_widget(
            Paragraph::new(Span::styled(hint, t.dim())).wrap(ratatui::widgets::Wrap { trim: true }),
            inner,
        );
        return;
    };
    let [head, gauge, rest] = inner.layout(&Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Fill(1),
    ]));
    let phase_style = match run.phase {
        crate::event::Phase::Done => t.ok(),
        crate::event::Phase::Failed => t.error(),
        // Cancelled and every phase still under way.
        _ => t.warn(),
    };
    frame.render_widget(
        Paragraph::new(fmt::fit_lines(
            vec![
                Line::from(Span::styled(run.experiment.clone(), t.title())),
                Line::from(vec![
                    Span::styled(format!("{:<9}", "phase"), t.label()),
                    Span::styled(run.phase.label(), phase_style),
                    Span::styled(format!("  on `{}`", run.profile), t.dim()),
                ]),
            ],
            head.width,
        )),
        head,
    );
    let done = run.stats.completed;
    let ratio = if run.planned == 0 {
        0.0
    } else {
        (done as f64 / f64::from(run.planned)).clamp(0.0, 1.0)
    };
    frame.render_widget(
        Gauge::default()
            .gauge_style(t.gauge())
            .ratio(ratio)
            .use_unicode(true)
            .label(format!("{done}/{}", run.planned)),
        gauge,
    );
    let now = app.now;
    let eta = run.eta(now).map_or_else(|| "-".into(), fmt::duration);
    // A share's progress counts cycles (start, write, stop, restart, check), not invocations.
    let unit = if run.share { "cycles/s" } else { "inv/s" };
    let rate = run
        .rate(now)
        .map_or_else(|| "-".into(), |r| format!("{r:.1} {unit}"));
    let failed_style = if run.stats.failed > 0 {
        t.error()
    } else {
        t.ok()
    };
    let lines = vec![
        Line::from(vec![
            Span::styled(format!("{:<9}", "elapsed"), t.label()),
            Span::raw(format!("{}  ETA {eta}", fmt::duration(run.elapsed(now)))),
        ]),
        Line::from(vec![
            Span::styled(format!("{:<9}", "rate"), t.label()),
            Span::raw(rate),
        ]),
        Line::from(vec![
            Span::styled(format!("{:<9}", "failed"), t.label()),
            Span::styled(run.stats.failed.to_string(), failed_style),
            Span::raw(if run.share {
                String::new()
            } else {
                format!(
                    "  cold {}  warm {}",
                    run.stats.cold_count(),
                    run.stats.warm_count()
                )
            }),
            // Keys the run did not write itself change what it measures: shown when any.
            match run.keys_at_start {
                Some(n) if n > 0 && !run.share => {
                    Span::styled(format!("  keys at start {n}"), t.warn())
                }
                _ => Span::raw(""),
            },
        ]),
    ];
    let mut lines = lines;
    if let Some(o) = &run.stats.open {
        // Target vs achieved, live: the console's rate, else the schedule's own.
        let target = run.target_rate.map_or_else(
            || format!("schedule {:.1}/s", o.scheduled_rate()),
            |r| format!("target {r}/s"),
        );
        let late_style = if o.late > 0 { t.warn() } else { t.ok() };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<9}", "open"), t.label()),
            Span::raw(format!("{target}  achieved {:.1}/s  ", o.achieved_rate())),
            Span::styled(format!("late {}", o.late), late_style),
        ]));
    }
    // From 90 columns the pane's other half says how the run is going: latency so far, the
    // phases' means, commands per second, and where the results went.
    let (left, right) = fmt::split_wide(rest);
    frame.render_widget(Paragraph::new(fmt::fit_lines(lines, left.width)), left);
    if let Some(right) = right {
        frame.render_widget(
            Paragraph::new(fmt::fit_lines(wide_run_lines(app, run, now), right.width)),
            right,
        );
    }
}

/// The Run pane's second column.
fn wide_run_lines(
    app: &App,
    run: &crate::tui::state::RunView,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<Line<'static>> {
    use crate::stats::PhaseName;
    let t = app.theme;
    let label = |s: &str| Span::styled(format!("{s:<9}"), t.label());
    let mut lines = Vec::new();
    if run.share {
        return lines;
    }
    let total = run.stats.phase(PhaseName::Total);
    lines.push(Line::from(vec![
        label("latency"),
        Span::raw(if total.n == 0 {
            "-".into()
        } else {
            format!(
                "p50 {}  p99 {}  max {} ms",
                fmt::ms(total.p50),
                fmt::ms(total.p99),
                fmt::ms(total.max)
            )
        }),
    ]));
    let means: Vec<String> = [PhaseName::Write, PhaseName::Read, PhaseName::Delete]
        .into_iter()
        .map(|p| (p, run.stats.phase(p)))
        .filter(|(_, s)| s.n > 0)
        .map(|(p, s)| format!("{} {}", p.as_str(), fmt::ms(s.mean)))
        .collect();
    lines.push(Line::from(vec![
        label("means"),
        Span::raw(if means.is_empty() {
            "-".into()
        } else {
            format!("{} ms", means.join(" · "))
        }),
    ]));
    let commands = run.stats.commands_recorded();
    let secs = run.elapsed(now).as_secs_f64();
    lines.push(Line::from(vec![
        label("commands"),
        Span::raw(if commands == 0 || secs <= 0.0 {
            "-".into()
        } else {
            format!("{commands}  ({:.0}/s)", commands as f64 / secs)
        }),
    ]));
    if let Some(dir) = run.finished.as_ref().and_then(|f| f.results_dir.as_ref()) {
        lines.push(Line::from(vec![
            label("results"),
            Span::styled(dir.display().to_string(), t.dim()),
        ]));
    }
    lines
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use crate::event::EngineEvent;
    use crate::stats::Timing;
    use crate::tui::action::Action;
    use crate::tui::demo::{activation, idle_app, run_start_events};
    use crate::tui::theme::Theme;

    fn screen(
        app: &crate::tui::app::App,
        draw: fn(&crate::tui::app::App, &mut ratatui::Frame, ratatui::layout::Rect),
    ) -> String {
        let mut t = Terminal::new(TestBackend::new(200, 30)).unwrap();
        t.draw(|f| draw(app, f, f.area())).unwrap();
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
    fn an_open_loop_run_shows_target_vs_achieved_and_corrected_vs_uncorrected() {
        let mut app = idle_app(Theme::new(true));
        app.perform(Action::CycleLoop);
        app.perform(Action::CycleLoop); // 10/s
        assert!(screen(&app, super::render_run).contains("Loop: open loop at 10/s"));
        for ev in run_start_events(20) {
            app.apply(ev);
        }
        for i in 0..10u32 {
            let mut a = activation(i);
            let intended = f64::from(i) * 100.0;
            // The fifth started 300 ms late.
            let sent = intended + if i == 5 { 300.0 } else { 1.0 };
            a.open = Some(Timing::new(0, intended, sent, sent + 20.0, 0.0));
            app.apply(EngineEvent::Activation(Box::new(a)));
        }
        let run = screen(&app, super::render_run);
        assert!(
            run.contains("target 10/s") && run.contains("achieved"),
            "{run}"
        );
        assert!(run.contains("late 1"), "{run}");
        let chart = screen(&app, crate::tui::ui::charts::render_latency_chart);
        assert!(
            chart.contains("corrected") && chart.contains("uncorrected"),
            "{chart}"
        );
    }
}
