//! The Gateway pane (while `g` serves the selected profile's Redis through the scale-to-zero
//! gateway): state and why, where clients connect, connections, bytes, wakes and the idle
//! countdown, from the gateway's typed events.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::fmt;
use crate::gateway::GatewayState;
use crate::tui::app::App;

fn kv<'a>(app: &App, key: &'static str, value: impl Into<Span<'a>>) -> Vec<Span<'a>> {
    vec![
        Span::styled(format!("{key:<9}"), app.theme.label()),
        value.into(),
    ]
}

/// The Gateway pane; nothing when no gateway has reported yet.
pub fn render_gateway(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let Some(g) = &app.gateway else {
        return;
    };
    let style = match g.state {
        GatewayState::Awake => t.ok(),
        GatewayState::Waking | GatewayState::Stopping => t.warn(),
        GatewayState::Asleep | GatewayState::Closed => t.dim(),
    };
    let mut state = kv(app, "state", Span::styled(g.state.label(), style));
    // The reason fills what is left of the row (9 label + 2 borders + the state + 2 spaces).
    let room = usize::from(area.width).saturating_sub(13 + g.state.label().len());
    if room > 3 && !g.reason.is_empty() {
        let reason = fmt::fit(&g.reason, room);
        state.push(Span::styled(format!("  {reason}"), t.dim()));
    }
    let idle = match (g.state, g.idle_left_ms) {
        (GatewayState::Awake, Some(ms)) => format!(
            "sleeps in {}",
            fmt::duration(std::time::Duration::from_millis(ms))
        ),
        (GatewayState::Awake, None) if g.open > 0 => format!("awake: {} open", g.open),
        (GatewayState::Asleep, _) => "no Redis running (0 cost)".into(),
        _ => "-".into(),
    };
    let last_wake = g
        .last_wake_ms
        .map_or_else(|| "-".to_string(), |v| format!("{} ms", fmt::ms(v)));
    let lines = vec![
        Line::from(state),
        Line::from(kv(app, "listen", g.listen.clone())),
        Line::from(kv(
            app,
            "clients",
            format!(
                "open {}  waiting {}  total {}  refused {}",
                g.open, g.pending, g.total, g.refused
            ),
        )),
        Line::from(kv(
            app,
            "bytes",
            format!(
                "in {}  out {}",
                fmt::bytes(g.bytes_up),
                fmt::bytes(g.bytes_down)
            ),
        )),
        Line::from(kv(
            app,
            "wakes",
            format!("{}  failed {}  last {last_wake}", g.wakes, g.wake_failures),
        )),
        Line::from(kv(app, "idle", idle)),
    ];
    let title = format!(" Gateway · {} ", g.profile);
    let lines = fmt::fit_lines(lines, area.width.saturating_sub(2));
    frame.render_widget(
        Paragraph::new(lines).block(fmt::pane_fit(t, &title, area)),
        area,
    );
}
