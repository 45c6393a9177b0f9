//! Frame cost: the time to fold one new activation, build and draw one frame of the console with
//! 10,000 completed invocations already folded in, next to the frame budget (1000 / fps ms).
//!
//! The frame is drawn through crossterm's backend into `io::sink()`, so the escape sequences are
//! generated as on a real terminal but no terminal is needed. Run: `cargo bench --bench frame`.

use std::io;
use std::time::Instant;

use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use redwhisk::event::EngineEvent;
use redwhisk::tui::demo::{activation, epoch, running_app};
use redwhisk::tui::{DEFAULT_FPS, Theme, ui};

const FOLDED: u32 = 10_000;
const FRAMES: u32 = 400;

fn percentile(sorted: &[f64], q: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

fn measure(w: u16, h: u16) -> io::Result<()> {
    let build = Instant::now();
    let mut app = running_app(Theme::new(true), FOLDED + FRAMES, FOLDED, 600, true);
    let fold_ms = build.elapsed().as_secs_f64() * 1000.0;
    let mut terminal = Terminal::with_options(
        CrosstermBackend::new(io::sink()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
        },
    )?;
    let mut draw_only = Vec::new();
    let mut full = Vec::new();
    for i in 0..FRAMES {
        // A frame during a run: one more activation folded, the tables refreshed, one draw.
        let start = Instant::now();
        app.apply(EngineEvent::Activation(Box::new(activation(FOLDED + i))));
        app.tick(epoch() + chrono::Duration::milliseconds(600_000 + i64::from(i) * 50));
        let drawn = Instant::now();
        terminal.draw(|f| ui::render(&app, f))?;
        let end = Instant::now();
        full.push((end - start).as_secs_f64() * 1000.0);
        draw_only.push((end - drawn).as_secs_f64() * 1000.0);
    }
    full.sort_by(f64::total_cmp);
    draw_only.sort_by(f64::total_cmp);
    let budget = 1000.0 / f64::from(DEFAULT_FPS);
    let p50 = percentile(&full, 0.5);
    println!(
        "{w}x{h}: {FOLDED} invocations folded in {fold_ms:.0} ms; per frame over {FRAMES} frames: \
         fold+tick+draw p50 {p50:.3} ms, p99 {:.3} ms (draw alone p50 {:.3} ms); \
         budget {budget:.1} ms at {DEFAULT_FPS} fps -> p50 uses {:.1}% of it ({:.0}x headroom)",
        percentile(&full, 0.99),
        percentile(&draw_only, 0.5),
        p50 / budget * 100.0,
        budget / p50,
    );
    Ok(())
}

fn main() -> io::Result<()> {
    measure(80, 24)?;
    measure(200, 60)?;
    Ok(())
}
