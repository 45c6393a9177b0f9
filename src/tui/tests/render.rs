//! Insta snapshots of each pane and of the whole screen at 80×24 and 200×60, from fixed states.

use insta::assert_snapshot;
use ratatui::Frame;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use super::screen;
use crate::tui::app::App;
use crate::tui::demo::{finished_app, idle_app, running_app, share_app};
use crate::tui::keys::Mode;
use crate::tui::theme::Theme;
use crate::tui::ui;

type Pane = fn(&App, &mut Frame, Rect);
/// A pane's name, its renderer, and its compact and wide sizes.
type PaneCase = (&'static str, Pane, (u16, u16), (u16, u16));

fn pane(app: &App, w: u16, h: u16, render: Pane) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(app, f, f.area())).unwrap();
    t
}

fn running() -> App {
    running_app(Theme::new(true), 20, 12, 6, true)
}

/// The compact layout gives each pane about half of 80 columns; the wide one about 100.
const PANES: [PaneCase; 7] = [
    ("profiles", ui::render_profiles, (80, 4), (200, 4)),
    ("redis", ui::render_redis, (40, 8), (100, 8)),
    ("run", ui::render_run, (40, 8), (100, 8)),
    ("latency", ui::render_latency, (40, 7), (90, 10)),
    ("stats", ui::render_stats, (80, 7), (110, 10)),
    ("log", ui::render_log, (40, 7), (200, 10)),
    ("profiles_line", ui::render_profiles_line, (80, 1), (200, 1)),
];

#[test]
fn each_pane_compact_and_wide() {
    let app = running();
    for (name, render, (cw, ch), (ww, wh)) in PANES {
        assert_snapshot!(
            format!("pane_{name}_{cw}x{ch}"),
            pane(&app, cw, ch, render).backend()
        );
        assert_snapshot!(
            format!("pane_{name}_{ww}x{wh}"),
            pane(&app, ww, wh, render).backend()
        );
    }
}

#[test]
fn panes_before_any_run() {
    let app = idle_app(Theme::new(true));
    for (name, render, (cw, ch), _) in PANES {
        assert_snapshot!(
            format!("idle_pane_{name}"),
            pane(&app, cw, ch, render).backend()
        );
    }
}

#[test]
fn whole_screen_idle() {
    let app = idle_app(Theme::new(true));
    assert_snapshot!("idle_80x24", screen(&app, 80, 24).backend());
    assert_snapshot!("idle_200x60", screen(&app, 200, 60).backend());
}

#[test]
fn whole_screen_running() {
    let app = running();
    assert_snapshot!("running_80x24", screen(&app, 80, 24).backend());
    assert_snapshot!("running_200x60", screen(&app, 200, 60).backend());
    // The size the tmux test and the screenshots use: roomy, but panes stacked.
    assert_snapshot!("running_120x40", screen(&app, 120, 40).backend());
}

#[test]
fn narrow_stats_drop_std_and_p95_but_keep_the_paper() {
    let t = pane(&running(), 60, 7, ui::render_stats);
    let s = super::text(&t);
    assert!(!s.contains("std") && !s.contains("p95"), "{s}");
    assert!(s.contains("538.9±148.9"), "{s}");
    assert_snapshot!("pane_stats_60x7", t.backend());
}

#[test]
fn whole_screen_finished() {
    let app = finished_app(Theme::new(true), 20);
    assert_snapshot!("finished_80x24", screen(&app, 80, 24).backend());
    assert_snapshot!("finished_200x60", screen(&app, 200, 60).backend());
}

#[test]
fn overlays() {
    let mut app = running();
    app.mode = Mode::Help;
    assert_snapshot!("help_80x24", screen(&app, 80, 24).backend());
    assert_snapshot!("help_200x60", screen(&app, 200, 60).backend());
    app.mode = Mode::ConfirmQuit;
    assert_snapshot!("confirm_quit_80x24", screen(&app, 80, 24).backend());
    // The workload editor with the persistence and the platform changed.
    let mut app = idle_app(Theme::new(true));
    app.perform(crate::tui::action::Action::EditWorkload);
    for _ in 0..4 {
        app.perform(crate::tui::action::Action::EditNext);
    }
    app.perform(crate::tui::action::Action::EditMore);
    app.perform(crate::tui::action::Action::EditNext);
    app.perform(crate::tui::action::Action::EditMore);
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        assert_snapshot!(format!("editor_{w}x{h}"), screen(&app, w, h).backend());
    }
}

#[test]
fn too_small_terminal_says_so() {
    let app = running();
    let t = screen(&app, 50, 12);
    let text = super::text(&t);
    assert!(text.contains("needs at least 60×20"), "{text}");
    assert!(text.contains("50×12"), "{text}");
}

#[test]
fn resize_redraws_in_the_new_layout() {
    let app = running();
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| ui::render(&app, f)).unwrap();
    assert!(!super::text(&t).contains("profiles (←/→"));
    t.backend_mut().resize(200, 60);
    t.draw(|f| ui::render(&app, f)).unwrap();
    let text = super::text(&t);
    assert_eq!(t.backend().buffer().area, Rect::new(0, 0, 200, 60));
    assert!(text.contains("profiles (←/→"), "{text}");
}

#[test]
fn share_view_filling_and_finished() {
    // 13 of 24 recorded cycles: four cells done, aof-everysec × graceful under way, three
    // waiting.
    let live = share_app(Theme::new(true), 13);
    let text = super::text(&screen(&live, 120, 40));
    assert!(text.contains("13/24 cycles"), "{text}");
    assert!(text.contains("running…"), "{text}");
    assert!(text.contains("waiting"), "{text}");
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        assert_snapshot!(format!("share_live_{w}x{h}"), screen(&live, w, h).backend());
    }
    let done = share_app(Theme::new(true), usize::MAX);
    let text = super::text(&screen(&done, 120, 40));
    assert!(text.contains("24/24 cycles"), "{text}");
    assert!(!text.contains("UNEXPECTED"), "{text}");
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        assert_snapshot!(format!("share_done_{w}x{h}"), screen(&done, w, h).backend());
    }
}

/// A sweep from a real one (tests/fixtures/console/sweep-one.json, `redwhisk sweep` on this
/// machine): three of its six steps done, the fourth running.
fn sweep_app() -> App {
    let text = std::fs::read_to_string(fixtures().join("sweep-one.json")).unwrap();
    let report: crate::engine::sweep::SweepReport = serde_json::from_str(&text).unwrap();
    let mut app = running_app(Theme::new(true), 64, 20, 3, false);
    app.view = crate::tui::views::View::Sweep;
    app.apply(crate::event::EngineEvent::SweepStarted {
        profile: report.profile.clone(),
        concurrencies: report.steps.iter().map(|s| s.concurrency).collect(),
    });
    for step in report.steps.into_iter().take(3) {
        app.apply(crate::event::EngineEvent::SweepStep(Box::new(step)));
    }
    app
}

#[test]
fn sweep_view_filling_in() {
    let app = sweep_app();
    let text = super::text(&screen(&app, 120, 40));
    assert!(text.contains("3/6 steps"), "{text}");
    assert!(text.contains("running…"), "{text}");
    assert!(text.contains("← knee"), "{text}");
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        assert_snapshot!(format!("sweep_{w}x{h}"), screen(&app, w, h).backend());
    }
}

fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/console")
}

/// The console with the recorded fixtures listed in the Results view, the cursor on the
/// second, the first marked.
fn results_app() -> App {
    let mut app = idle_app(Theme::new(true));
    app.view = crate::tui::views::View::Results;
    app.apply(crate::event::EngineEvent::ResultsListed(
        crate::engine::library::list(&fixtures()),
    ));
    app.results.marked.push(0);
    app.results.selected = 1;
    app
}

#[test]
fn results_view_lists_recorded_runs() {
    let app = results_app();
    let text = super::text(&screen(&app, 120, 40));
    for name in ["r1000-local", "r2000-local", "share-local"] {
        assert!(text.contains(name), "{name}: {text}");
    }
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        assert_snapshot!(format!("results_{w}x{h}"), screen(&app, w, h).backend());
    }
}

#[test]
fn compare_view_from_two_recorded_runs() {
    use crate::compare::{Side, compare};
    use crate::results::RunRecord;
    let side = |n: &str| Side::from_run(n, &RunRecord::read(&fixtures().join(n)).unwrap());
    let mut app = idle_app(Theme::new(true));
    app.apply(crate::event::EngineEvent::Compared(Box::new(compare(
        &side("r1000-local"),
        &side("r2000-local"),
    ))));
    assert_eq!(app.view, crate::tui::views::View::Compare);
    let text = super::text(&screen(&app, 200, 60));
    assert!(text.contains("slower"), "{text}");
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        assert_snapshot!(format!("compare_{w}x{h}"), screen(&app, w, h).backend());
    }
}

#[test]
fn a_recorded_run_and_matrix_open_in_their_views() {
    use crate::results::RunRecord;
    use crate::share::ShareSummary;
    let mut app = idle_app(Theme::new(true));
    let dir = fixtures().join("r1000-local");
    app.apply(crate::event::EngineEvent::RunOpened {
        dir: "results/r1000-local".into(),
        record: Box::new(RunRecord::read(&dir).unwrap()),
    });
    app.tick(app.now);
    assert_eq!(app.view, crate::tui::views::View::Run);
    assert_eq!(app.run.as_ref().unwrap().stats.succeeded(), 30);
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        assert_snapshot!(format!("opened_run_{w}x{h}"), screen(&app, w, h).backend());
    }
    app.apply(crate::event::EngineEvent::ShareOpened {
        dir: "results/share-local".into(),
        summary: Box::new(ShareSummary::read(&fixtures().join("share-local")).unwrap()),
    });
    assert_eq!(app.view, crate::tui::views::View::Share);
    let text = super::text(&screen(&app, 120, 40));
    assert!(text.contains("24/24 cycles · share-local"), "{text}");
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        assert_snapshot!(
            format!("opened_share_{w}x{h}"),
            screen(&app, w, h).backend()
        );
    }
}

#[test]
fn gateway_pane_while_serving() {
    use crate::gateway::{GatewayEvent, GatewaySnapshot, GatewayState};
    let mut app = idle_app(Theme::new(true));
    app.apply(crate::event::EngineEvent::Gateway(GatewayEvent::State(
        GatewaySnapshot {
            profile: "local".into(),
            listen: "127.0.0.1:6390".into(),
            state: GatewayState::Awake,
            reason: "Redis answered PING after 17.3 ms; 1 waiting client(s) spliced".into(),
            open: 0,
            pending: 0,
            total: 12,
            bytes_up: 48_213,
            bytes_down: 1_204_332,
            wakes: 3,
            wake_failures: 0,
            refused: 0,
            last_wake_ms: Some(17.3),
            idle_left_ms: Some(12_400),
        },
    )));
    assert_snapshot!("gateway_80x24", screen(&app, 80, 24).backend());
    assert_snapshot!("gateway_120x40", screen(&app, 120, 40).backend());
    assert_snapshot!("gateway_200x60", screen(&app, 200, 60).backend());
}

/// A CJK message with combining marks wraps by display width inside the log pane: every
/// character reaches the screen (wrapping by chars would let ratatui clip half of each row).
#[test]
fn log_pane_wraps_wide_and_combining_text_without_losing_any() {
    let mut app = idle_app(Theme::new(true));
    let message = "設定ファイル profiles/本番.toml が見つかりません: café́ を確認してください";
    app.log.push(crate::tui::state::LogLine {
        at: app.now,
        level: crate::event::Level::Error,
        message: message.into(),
    });
    let (w, h) = (30, 12);
    let t = pane(&app, w, h, ui::render_log);
    let buf = t.backend().buffer();
    let mut shown = String::new();
    for y in 1..h - 1 {
        // Every row keeps its right border: nothing ran past the pane.
        assert_eq!(buf[(w - 1, y)].symbol(), "│", "row {y}");
        for x in 1..w - 1 {
            shown.push_str(buf[(x, y)].symbol());
        }
    }
    let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    assert!(
        squeeze(&shown).contains(&squeeze(message)),
        "{message}\nnot all on screen:\n{shown}"
    );
}

/// Eight profiles, some with long names, the last one selected: at every size the selected one
/// shows with its number, long names end in `…`, the hidden ones are counted, and a space
/// always parts the profiles from the view tabs.
#[test]
fn the_header_fits_eight_profiles_at_every_size() {
    let mut app = idle_app(Theme::new(false));
    let base = app.profiles[0].clone();
    app.profiles = (0..8)
        .map(|i| {
            let mut p = base.clone();
            p.name = match i {
                1 => "tui-docker-with-a-very-long-name".into(),
                7 => "eighth-profile-also-long".into(),
                _ => format!("prof{i}"),
            };
            p
        })
        .collect();
    for selected in [0, 7] {
        app.selected = selected;
        for (w, h) in [(80, 24), (120, 40), (200, 60)] {
            let s = super::text(&screen(&app, w, h));
            let head: String = s.lines().take(3).collect::<Vec<_>>().join("\n");
            let want = if selected == 7 {
                "8 eighth-profile"
            } else {
                "1 prof0"
            };
            assert!(head.contains(want), "{w}×{h}: {head}");
            if selected == 7 || w < 200 {
                assert!(
                    head.contains('…') || head.contains('‹') || head.contains('›'),
                    "{head}"
                );
            }
            // The profiles never run into the view tabs.
            let first = s.lines().next().unwrap();
            if let Some(at) = first.find("Run │") {
                let before = first[..at].trim_end_matches(' ');
                assert!(first[..at].ends_with(' '), "{w}×{h}: {first}");
                assert!(
                    !before.ends_with(char::is_alphanumeric) || w >= 120,
                    "{first}"
                );
            }
            assert_snapshot!(format!("header_8_profiles_sel{selected}_{w}x{h}"), head);
        }
    }
}

/// Every view at 80×24, 120×40 and 200×60 without colour (NO_COLOR): what tells things apart
/// must be text or markers. The latency chart's legend names each line with its own marker.
#[test]
fn every_view_without_colour() {
    use crate::tui::views::View;
    let plain = Theme::new(false);
    let mut finished = finished_app(plain, 20);
    let text = super::text(&screen(&finished, 200, 60));
    for legend in ["• write", "█ read", "▄ delete", "⣿ total"] {
        assert!(text.contains(legend), "{legend}: {text}");
    }
    assert!(
        text.contains(" S  G  D ") || text.contains("S  G  D"),
        "{text}"
    );
    let mut share = share_app(plain, 13);
    let mut sweep = sweep_app();
    sweep.theme = plain;
    let mut results = results_app();
    results.theme = plain;
    let cases: [(&str, &mut App, View); 5] = [
        ("run", &mut finished, View::Run),
        ("share", &mut share, View::Share),
        ("sweep", &mut sweep, View::Sweep),
        ("results", &mut results, View::Results),
        ("compare", &mut idle_app(plain), View::Compare),
    ];
    for (name, app, view) in cases {
        app.view = view;
        for (w, h) in [(80, 24), (120, 40), (200, 60)] {
            assert_snapshot!(
                format!("no_color_{name}_{w}x{h}"),
                screen(app, w, h).backend()
            );
        }
    }
}

/// Issue 25 item 10: the process pane shows CPU between two samples and memory, at 120×40 and
/// 200×60 beside the log.
#[test]
fn the_process_pane_shows_cpu_and_memory() {
    let app = running();
    for (w, h) in [(120, 40), (200, 60)] {
        let s = super::text(&screen(&app, w, h));
        assert!(
            s.contains("redis-server") && s.contains("80%"),
            "{w}×{h}: {s}"
        );
        assert!(s.contains("redwhisk") && s.contains("35%"), "{s}");
        assert!(s.contains("CPU 135% of 200%"), "{s}");
        assert!(s.contains("9.0 MiB"), "{s}");
    }
    assert_snapshot!(
        "pane_processes_56x8",
        pane(&app, 56, 8, ui::render_processes).backend()
    );
}

/// Once sampling stops (Redis stopped, the run over) the process pane says how old it is.
#[test]
fn a_stale_process_sample_says_its_age() {
    let app = finished_app(Theme::new(false), 20);
    let s = super::text(&pane(&app, 70, 8, ui::render_processes));
    assert!(s.contains("last sampled 5s ago"), "{s}");
}

/// Issue 25 item 9: a failover, a gateway study and a gateway share open from Results as
/// their reports (the CLI's text), scrollable, at every size, with and without colour.
#[test]
fn failovers_and_gateway_studies_open_as_reports() {
    // Relative (tests run in the package's directory), so the titles do not name this checkout.
    let root = std::path::Path::new("tests/fixtures/reports");
    let cases = [
        ("failover", "20261207T192038Z-fo-failover"),
        ("gw_study", "20261207T191835Z-local-via-gateway"),
        ("gw_share", "20261207T192036Z-local-share-via-gateway"),
    ];
    for (name, dir) in cases {
        for colour in [true, false] {
            let mut app = results_app();
            app.theme = Theme::new(colour);
            let (sink, mut rx) = crate::event::EventSink::new();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(crate::engine::library::open_task(root.join(dir), sink));
            let ev = rx.try_recv().unwrap();
            assert!(
                matches!(ev, crate::event::EngineEvent::ReportOpened { .. }),
                "{ev:?}"
            );
            app.apply(ev);
            assert_eq!(app.mode, Mode::Report);
            let suffix = if colour { "" } else { "_no_color" };
            for (w, h) in [(80, 24), (120, 40), (200, 60)] {
                let text = super::text(&screen(&app, w, h));
                assert!(text.contains("Esc/q/Enter close"), "{text}");
                assert_snapshot!(
                    format!("report_{name}{suffix}_{w}x{h}"),
                    screen(&app, w, h).backend()
                );
            }
        }
    }
}
