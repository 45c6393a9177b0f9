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
        let hint = format!("{hint} Loop: {} (o changes it).", app.loop_choice.label());
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
        Paragraph::new(vec![
            Line::from(Span::styled(run.experiment.clone(), t.title())),
            Line::from(vec![
                Span::styled(format!("{:<9}", "phase"), t.label()),
                Span::styled(run.phase.label(), phase_style),
                Span::styled(format!("  on `{}`", run.profile), t.dim()),
            ]),
        ]),
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
    let rate = run
        .rate(now)
        .map_or_else(|| "-".into(), |r| format!("{r:.1} inv/s"));
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
            Span::raw(format!(
                "  cold {}  warm {}",
                run.stats.cold_count(),
                run.stats.warm_count()
            )),
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
    frame.render_widget(Paragraph::new(lines), rest);
}
