//! The Sweep view of an RTT sweep (`W`): function time against the emulated RTT, one point per
//! finished step and the least-squares line through them, with the steps listed beside it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph};

use super::fmt::{self, pane};
use crate::tui::app::App;
use crate::tui::views::RttSweepView;

/// Function time (ms) against RTT (ms), and the steps.
pub fn render_rtt_sweep(app: &App, sweep: &RttSweepView, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let title = format!(
        " Sweep · {} · function time against RTT · {}/{} steps ",
        sweep.profile,
        sweep.steps.len(),
        sweep.planned.len()
    );
    let block = pane(t, &title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [chart_area, list_area] = inner.layout(&Layout::horizontal([
        Constraint::Fill(2),
        Constraint::Length(40),
    ]));
    let points: Vec<(f64, f64)> = sweep.steps.iter().map(|s| (s.rtt_ms, s.total_ms)).collect();
    let x_max = sweep
        .planned
        .iter()
        .copied()
        .fold(0.0_f64, f64::max)
        .max(0.001);
    let fit = sweep.fit();
    let line: Vec<(f64, f64)> = fit
        .map(|f| {
            vec![
                (0.0, f.intercept_ms),
                (x_max, f.intercept_ms + f.slope * x_max),
            ]
        })
        .unwrap_or_default();
    let y_max = points
        .iter()
        .map(|p| p.1)
        .chain(line.iter().map(|p| p.1))
        .fold(0.0_f64, f64::max)
        .max(0.001)
        * 1.05;
    let colour = |c| {
        if t.has_color() {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    };
    let mut datasets = vec![
        Dataset::default()
            .name("function time")
            .marker(Marker::Dot)
            .graph_type(GraphType::Scatter)
            .style(colour(ratatui::style::Color::Cyan))
            .data(&points),
    ];
    if !line.is_empty() {
        datasets.push(
            Dataset::default()
                .name("fit")
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(colour(ratatui::style::Color::Yellow))
                .data(&line),
        );
    }
    let chart = Chart::new(datasets)
        .x_axis(
            Axis::default()
                .title("RTT ms")
                .style(t.dim())
                .bounds([0.0, x_max])
                .labels([
                    "0".to_string(),
                    format!("{}", x_max / 2.0),
                    format!("{x_max}"),
                ]),
        )
        .y_axis(
            Axis::default()
                .title("ms")
                .style(t.dim())
                .bounds([0.0, y_max])
                .labels(["0".to_string(), fmt::ms(y_max / 2.0), fmt::ms(y_max)]),
        );
    frame.render_widget(chart, chart_area);
    let mut lines = vec![Line::from(Span::styled(
        format!("{:>7} {:>9} {:>12}", "rtt ms", "measured", "function ms"),
        t.label(),
    ))];
    for (i, &rtt) in sweep.planned.iter().enumerate() {
        lines.push(match sweep.steps.get(i) {
            Some(s) => Line::from(format!(
                "{:>7} {:>9} {:>12.1}",
                rtt,
                s.measured
                    .map_or_else(|| "—".to_string(), |m| format!("{:.3}", m.median_ms)),
                s.total_ms
            )),
            None => Line::from(Span::styled(format!("{rtt:>7} {:>9}", "pending"), t.dim())),
        });
    }
    lines.push(Line::from(Span::styled(
        match fit {
            Some(f) => format!(
                "slope: {:.0} round trips, {:.1} ms at 0",
                f.slope, f.intercept_ms
            ),
            None => "slope: after two steps".to_string(),
        },
        t.dim(),
    )));
    frame.render_widget(Paragraph::new(lines), list_area);
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use crate::event::EngineEvent;
    use crate::model::rtt_sweep::RttStep;
    use crate::tui::demo::idle_app;
    use crate::tui::theme::Theme;

    fn step(rtt: f64, total: f64) -> RttStep {
        RttStep {
            rtt_ms: rtt,
            measured: None,
            invocations: 3,
            failed: 0,
            connect_ms: 1.0,
            write_ms: total / 3.0,
            read_ms: total / 3.0,
            delete_ms: total / 3.0,
            total_ms: total,
            results_dir: PathBuf::from("/tmp/x"),
        }
    }

    fn screen(app: &crate::tui::app::App) -> String {
        let mut t = Terminal::new(TestBackend::new(110, 14)).unwrap();
        t.draw(|f| crate::tui::ui::sweep::render_sweep(app, f, f.area()))
            .unwrap();
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
    fn the_sweep_view_draws_function_time_against_rtt_and_the_slope() {
        let mut app = idle_app(Theme::new(true));
        app.apply(EngineEvent::RttSweepStarted {
            profile: "local".into(),
            rtts: vec![0.0, 1.0, 2.0],
        });
        let empty = screen(&app);
        assert!(empty.contains("function time against RTT"), "{empty}");
        assert!(empty.contains("0/3 steps"), "{empty}");
        assert!(empty.contains("slope: after two steps"), "{empty}");
        app.apply(EngineEvent::RttSweepStep(Box::new(step(0.0, 10.0))));
        app.apply(EngineEvent::RttSweepStep(Box::new(step(1.0, 3010.0))));
        let two = screen(&app);
        assert!(two.contains("2/3 steps"), "{two}");
        assert!(two.contains("3010.0"), "{two}");
        assert!(
            two.contains("slope: 3000 round trips, 10.0 ms at 0"),
            "{two}"
        );
        assert!(two.contains("RTT ms"), "{two}");
        // A concurrency sweep started later replaces it.
        app.apply(EngineEvent::SweepStarted {
            profile: "local".into(),
            concurrencies: vec![1, 2],
        });
        assert!(!screen(&app).contains("against RTT"));
    }
}
