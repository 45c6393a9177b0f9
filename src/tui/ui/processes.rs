//! The process pane: CPU and resident memory of redwhisk, the processes it started (action
//! processes, a process-backend Redis) and the profile's redis-server, from the engine's
//! procfs samples once a second, and a Docker Redis container from the Docker stats API. On a 2-core machine it shows why a knee comes where it does.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::fmt;
use crate::model::process::ProcessSnapshot;
use crate::tui::app::App;

/// CPU % of one process between two samples (100% is one CPU busy), `None` without both.
pub fn cpu_percent(prev: &ProcessSnapshot, cur: &ProcessSnapshot, pid: u32) -> Option<f64> {
    let before = prev.processes.iter().find(|p| p.pid == pid)?.cpu_ticks;
    let now = cur.processes.iter().find(|p| p.pid == pid)?.cpu_ticks;
    let secs = (cur.at - prev.at).num_milliseconds() as f64 / 1000.0;
    (secs > 0.0 && cur.ticks_per_s > 0)
        .then(|| now.saturating_sub(before) as f64 / cur.ticks_per_s as f64 / secs * 100.0)
}

/// The process pane.
pub fn render_processes(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let (prev, cur) = (&app.processes.0, &app.processes.1);
    let Some(cur) = cur else {
        let block = fmt::pane_fit(t, " Processes · CPU and memory ", area);
        frame.render_widget(
            Paragraph::new(Span::styled(
                "sampled once a second while Redis runs or a run is live",
                t.dim(),
            ))
            .wrap(ratatui::widgets::Wrap { trim: true })
            .block(block),
            area,
        );
        return;
    };
    let total: f64 = prev.as_ref().map_or(0.0, |prev| {
        cur.processes
            .iter()
            .filter_map(|p| cpu_percent(prev, cur, p.pid))
            .sum()
    });
    // Sampling stops with Redis and the run: say how old the figures are rather than pass
    // them off as current.
    let age = (app.now - cur.at).num_seconds();
    let title = if age > 3 {
        format!(
            " Processes · last sampled {} ago · CPU {total:.0}% of {}00% ",
            fmt::uptime(age.unsigned_abs()),
            cur.cpus
        )
    } else {
        format!(
            " Processes · CPU {total:.0}% of {}00% ({} CPUs) · RSS ",
            cur.cpus, cur.cpus
        )
    };
    let block = fmt::pane_fit(t, &title, area);
    let rows = cur.processes.iter().map(|p| {
        let cpu = prev
            .as_ref()
            .and_then(|prev| cpu_percent(prev, cur, p.pid))
            .map_or_else(|| "-".to_string(), |v| format!("{v:.0}%"));
        Row::new(vec![
            Cell::from(Span::styled(fmt::fit(&p.name, 15), t.label())),
            Cell::from(p.pid.to_string()),
            Cell::from(p.role),
            Cell::from(cpu),
            Cell::from(fmt::bytes(p.rss_bytes)),
        ])
    });
    let widths = [
        Constraint::Length(15),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Fill(1),
    ];
    frame.render_widget(
        Table::new(rows, widths)
            .header(Row::new(["process", "pid", "role", "CPU", "RSS"]).style(t.header()))
            .column_spacing(1)
            .block(block),
        area,
    );
}
