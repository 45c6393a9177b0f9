//! `redwhisk plot`: SVG figures of a recorded run, drawn with plotters.
//!
//! - `phases.svg`: per-invocation phase times (connect, write, read, delete, total), the shape
//!   of the study's figures (x: invocation, y: ms).
//! - `cdf.svg`: per-command latency CDF (SET, GET, DEL) from the merged HDR buckets, log x (µs).
//! - `rtt.svg` (RTT sweeps, `sweep --rtt`): function time and each phase against the emulated
//!   RTT, the function time's least-squares line, the budget and the paper's Lambda mean.
//! - `matrix.svg` (share runs): the persistence × stop matrix as a heatmap of the share of
//!   cycles that read every key back, each cell labelled with its counts and verdict.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::results::{RunRecord, ShareSummary};

/// Why a plot could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error(
        "{0} holds neither run.json nor share.json (nor rtt-sweep.json): pass a results directory (results/<time>-<profile>[-share|-rtt-sweep]) or one of those files"
    )]
    NotAResult(PathBuf),
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}: no invocation with a bench result to plot")]
    Empty { path: PathBuf },
    #[error("cannot write {path}: {message}")]
    Write { path: PathBuf, message: String },
}

const SIZE: (u32, u32) = (960, 540);

/// The font every figure is set in, compiled in (DejaVu Sans, assets/fonts; its licence is
/// beside it), so plots need no system fonts.
static FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// The image format of the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
}

impl Format {
    fn ext(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }
}

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font (compiled in); registering cannot fail for them.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Draw `draw` into `path` as SVG or PNG of `size`.
fn render(
    path: &Path,
    size: (u32, u32),
    format: Format,
    draw: impl Fn(&DrawingArea<SVGBackend<'_>, Shift>) -> DrawResult,
    draw_png: impl Fn(&DrawingArea<BitMapBackend<'_>, Shift>) -> DrawResult,
) -> DrawResult {
    match format {
        Format::Svg => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            draw(&root)?;
            root.present()?;
        }
        Format::Png => {
            let root = BitMapBackend::new(path, size).into_drawing_area();
            draw_png(&root)?;
            root.present()?;
        }
    }
    Ok(())
}

/// Plot `input` (a run or share results directory, or its JSON file) into `out`; returns the
/// files written.
pub fn plot(input: &Path, out: &Path, format: Format) -> Result<Vec<PathBuf>, PlotError> {
    register_font();
    let ext = format.ext();
    let dir = if input.is_dir() {
        input.to_path_buf()
    } else {
        input.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let is = |name: &str| {
        if input.is_dir() {
            dir.join(name).is_file()
        } else {
            input.file_name().is_some_and(|f| f == name)
        }
    };
    let (run, share) = (is("run.json"), is("share.json"));
    let rtt = is(RTT_SWEEP_JSON);
    if !run && !share && !rtt {
        return Err(PlotError::NotAResult(input.to_path_buf()));
    }
    std::fs::create_dir_all(out).map_err(|e| PlotError::Write {
        path: out.to_path_buf(),
        message: e.to_string(),
    })?;
    if rtt && !run && !share {
        return plot_rtt_sweep(&dir.join(RTT_SWEEP_JSON), out, format);
    }
    if run {
        let path = dir.join("run.json");
        let run = RunRecord::read(&path).map_err(|e| PlotError::Read {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let series = PhaseSeries::of(&run);
        if series.index.is_empty() {
            return Err(PlotError::Empty { path });
        }
        let phases = out.join(format!("phases.{ext}"));
        render(
            &phases,
            SIZE,
            format,
            |root| draw_phases(&series, &run, root),
            |root| draw_phases(&series, &run, root),
        )
        .map_err(|e| write_err(&phases, e))?;
        let cdf = out.join(format!("cdf.{ext}"));
        render(
            &cdf,
            SIZE,
            format,
            |root| draw_cdf(&series, root),
            |root| draw_cdf(&series, root),
        )
        .map_err(|e| write_err(&cdf, e))?;
        Ok(vec![phases, cdf])
    } else {
        let path = dir.join("share.json");
        let share = ShareSummary::read(&path).map_err(|e| PlotError::Read {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let matrix = out.join(format!("matrix.{ext}"));
        let size = matrix_size(&share);
        render(
            &matrix,
            size,
            format,
            |root| draw_matrix(&share, root),
            |root| draw_matrix(&share, root),
        )
        .map_err(|e| write_err(&matrix, e))?;
        Ok(vec![matrix])
    }
}

fn write_err(path: &Path, e: impl std::fmt::Display) -> PlotError {
    PlotError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Per-invocation phase times and the merged per-command buckets.
struct PhaseSeries {
    index: Vec<u32>,
    phases: [(&'static str, Vec<f64>); 5],
    /// command → (µs value → count)
    buckets: [(&'static str, BTreeMap<u64, u64>); 3],
}

impl PhaseSeries {
    fn of(run: &RunRecord) -> Self {
        let mut s = PhaseSeries {
            index: Vec::new(),
            phases: [
                ("connect", Vec::new()),
                ("write (SET)", Vec::new()),
                ("read (GET)", Vec::new()),
                ("delete (DEL)", Vec::new()),
                ("total", Vec::new()),
            ],
            buckets: [
                ("SET", BTreeMap::new()),
                ("GET", BTreeMap::new()),
                ("DEL", BTreeMap::new()),
            ],
        };
        for a in &run.activations {
            let Some(r) = a.bench_result() else {
                continue;
            };
            s.index.push(a.index);
            for (slot, v) in s.phases.iter_mut().zip([
                r.connect_ms,
                r.write_ms,
                r.read_ms,
                r.delete_ms,
                r.total_ms,
            ]) {
                slot.1.push(v);
            }
            for (slot, b) in s.buckets.iter_mut().zip([
                &r.latency_us.write,
                &r.latency_us.read,
                &r.latency_us.delete,
            ]) {
                for [value, count] in b {
                    *slot.1.entry(*value).or_default() += count;
                }
            }
        }
        s
    }
}

fn colour(i: usize) -> RGBColor {
    [
        RGBColor(0x1f, 0x77, 0xb4),
        RGBColor(0xff, 0x7f, 0x0e),
        RGBColor(0x2c, 0xa0, 0x2c),
        RGBColor(0xd6, 0x27, 0x28),
        RGBColor(0x94, 0x67, 0xbd),
    ][i % 5]
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw_phases<DB: DrawingBackend>(
    s: &PhaseSeries,
    run: &RunRecord,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let max_x = s.index.iter().copied().max().unwrap_or(0) + 1;
    let max_y = s
        .phases
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(0.0_f64, f64::max)
        * 1.05;
    let w = &run.summary.workload;
    let title = format!(
        "Phase times per invocation — {} ({} × {} records, {})",
        run.summary.profile.name, w.planned, w.records, run.summary.platform
    );
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0u32..max_x, 0.0..max_y.max(1.0))?;
    chart
        .configure_mesh()
        .x_desc("invocation")
        .y_desc("ms")
        .draw()?;
    for (i, (name, values)) in s.phases.iter().enumerate() {
        let c = colour(i);
        chart
            .draw_series(LineSeries::new(
                s.index.iter().copied().zip(values.iter().copied()),
                c.stroke_width(2),
            ))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

fn draw_cdf<DB: DrawingBackend>(s: &PhaseSeries, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let lo = s
        .buckets
        .iter()
        .filter_map(|(_, b)| b.keys().next().copied())
        .min()
        .unwrap_or(1)
        .max(1);
    let hi = s
        .buckets
        .iter()
        .filter_map(|(_, b)| b.keys().next_back().copied())
        .max()
        .unwrap_or(10)
        .max(lo + 1);
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Per-command latency CDF (merged HDR buckets)",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((lo as f64..hi as f64 * 1.1).log_scale(), 0.0..1.0)?;
    chart
        .configure_mesh()
        .x_desc("latency, µs (log)")
        .y_desc("fraction of commands ≤ x")
        .draw()?;
    for (i, (name, b)) in s.buckets.iter().enumerate() {
        let total: u64 = b.values().sum();
        if total == 0 {
            continue;
        }
        let mut seen = 0;
        let points: Vec<(f64, f64)> = b
            .iter()
            .map(|(v, c)| {
                seen += c;
                ((*v).max(1) as f64, seen as f64 / total as f64)
            })
            .collect();
        let c = colour(i);
        chart
            .draw_series(LineSeries::new(points, c.stroke_width(2)))?
            .label(format!("{name} (n = {total})"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// Rows (persistence) and columns (stop mode) in the order the cells came.
fn matrix_axes(share: &ShareSummary) -> (Vec<String>, Vec<String>) {
    let mut rows: Vec<String> = Vec::new();
    let mut cols: Vec<String> = Vec::new();
    for c in &share.cells {
        if !rows.contains(&c.persistence) {
            rows.push(c.persistence.clone());
        }
        if !cols.contains(&c.stop) {
            cols.push(c.stop.clone());
        }
    }
    (rows, cols)
}

const CELL: (i32, i32) = (200, 70);
const ORIGIN: (i32, i32) = (150, 60);

fn matrix_size(share: &ShareSummary) -> (u32, u32) {
    let (rows, cols) = matrix_axes(share);
    let w = ORIGIN.0 + CELL.0 * cols.len() as i32 + 20;
    let h = ORIGIN.1 + CELL.1 * rows.len() as i32 + 30;
    (
        u32::try_from(w).unwrap_or(800),
        u32::try_from(h).unwrap_or(400),
    )
}

fn draw_matrix<DB: DrawingBackend>(
    share: &ShareSummary,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (rows, cols) = matrix_axes(share);
    let (cw, rh) = CELL;
    let (left, top) = ORIGIN;
    root.fill(&WHITE)?;
    let text = |size| ("sans-serif", size).into_font().color(&BLACK);
    root.draw(&Text::new(
        "Case study 2: share of cycles that read every key back",
        (10, 10),
        text(20),
    ))?;
    for (j, s) in cols.iter().enumerate() {
        root.draw(&Text::new(
            s.clone(),
            (left + cw * j as i32 + 10, top - 22),
            text(16),
        ))?;
    }
    for (i, p) in rows.iter().enumerate() {
        root.draw(&Text::new(
            p.clone(),
            (10, top + rh * i as i32 + rh / 2 - 8),
            text(16),
        ))?;
    }
    for c in &share.cells {
        let (Some(i), Some(j)) = (
            rows.iter().position(|r| *r == c.persistence),
            cols.iter().position(|x| *x == c.stop),
        ) else {
            continue;
        };
        let share_ok = if c.cycles > 0 {
            c.correct as f64 / c.cycles as f64
        } else {
            0.0
        };
        // Red (0) → green (1).
        let fill = RGBColor(
            (220.0 * (1.0 - share_ok)) as u8 + 30,
            (180.0 * share_ok) as u8 + 50,
            70,
        );
        let (x0, y0) = (left + cw * j as i32, top + rh * i as i32);
        root.draw(&Rectangle::new(
            [(x0 + 2, y0 + 2), (x0 + cw - 2, y0 + rh - 2)],
            fill.filled(),
        ))?;
        root.draw(&Text::new(
            format!("{}/{} correct", c.correct, c.cycles),
            (x0 + 10, y0 + 12),
            ("sans-serif", 16).into_font().color(&WHITE),
        ))?;
        root.draw(&Text::new(
            format!("{} keys lost", c.keys_lost),
            (x0 + 10, y0 + 32),
            ("sans-serif", 14).into_font().color(&WHITE),
        ))?;
        root.draw(&Text::new(
            c.verdict
                .to_string()
                .split(':')
                .next()
                .unwrap_or_default()
                .to_string(),
            (x0 + 10, y0 + 50),
            ("sans-serif", 12).into_font().color(&WHITE),
        ))?;
    }
    Ok(())
}

/// The file `sweep --rtt` writes (see `experiments::rtt_sweep`).
const RTT_SWEEP_JSON: &str = "rtt-sweep.json";

/// `rtt.svg`: an RTT sweep's function time (and phases) against the RTT.
fn plot_rtt_sweep(path: &Path, out: &Path, format: Format) -> Result<Vec<PathBuf>, PlotError> {
    let read_err = |message: String| PlotError::Read {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| read_err(e.to_string()))?;
    let sweep: crate::model::rtt_sweep::RttSweepReport =
        serde_json::from_str(&text).map_err(|e| read_err(e.to_string()))?;
    if sweep.steps.is_empty() {
        return Err(PlotError::Empty {
            path: path.to_path_buf(),
        });
    }
    let file = out.join(format!("rtt.{}", format.ext()));
    render(
        &file,
        SIZE,
        format,
        |root| draw_rtt(&sweep, root),
        |root| draw_rtt(&sweep, root),
    )
    .map_err(|e| write_err(&file, e))?;
    Ok(vec![file])
}

fn draw_rtt<DB: DrawingBackend>(
    r: &crate::model::rtt_sweep::RttSweepReport,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let max_x = r.steps.iter().map(|s| s.rtt_ms).fold(0.0_f64, f64::max);
    let max_x = if max_x > 0.0 { max_x * 1.05 } else { 1.0 };
    let mut max_y = r.steps.iter().map(|s| s.total_ms).fold(0.0_f64, f64::max);
    if let Some(b) = &r.budget {
        max_y = max_y.max(b.time_ms);
    }
    let max_y = (max_y * 1.1).max(1.0);
    let title = format!(
        "Function time against RTT — {} ({} records, {}, {} platform)",
        r.profile,
        r.records,
        r.mode.as_str(),
        r.platform
    );
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..max_x, 0.0..max_y)?;
    chart
        .configure_mesh()
        .x_desc("emulated round-trip time (ms)")
        .y_desc("mean time per invocation (ms)")
        .draw()?;
    type Pick = fn(&crate::model::rtt_sweep::RttStep) -> f64;
    let series: [(&str, Pick); 5] = [
        ("function", |s| s.total_ms),
        ("connect", |s| s.connect_ms),
        ("write", |s| s.write_ms),
        ("read", |s| s.read_ms),
        ("delete", |s| s.delete_ms),
    ];
    for (i, (name, pick)) in series.iter().enumerate() {
        let c = colour(i);
        let width = if i == 0 { 3 } else { 1 };
        let points: Vec<(f64, f64)> = r.steps.iter().map(|s| (s.rtt_ms, pick(s))).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), c.stroke_width(width)))?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(width))
            });
        chart.draw_series(
            points
                .iter()
                .map(|&p| Circle::new(p, 3 + width, c.filled())),
        )?;
    }
    if let Some(f) = r.fits.as_ref().map(|f| f.total) {
        chart
            .draw_series(DashedLineSeries::new(
                [
                    (0.0, f.intercept_ms),
                    (max_x, f.intercept_ms + f.slope * max_x),
                ],
                6,
                4,
                BLACK.stroke_width(1),
            ))?
            .label(format!(
                "fit: {:.0} round trips, {:.1} ms at 0",
                f.slope, f.intercept_ms
            ))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK));
    }
    for (crossing, what, c) in [
        (r.budget, "budget", RED),
        (r.paper_lambda, "paper Lambda+EC mean", MAGENTA),
    ] {
        let Some(cr) = crossing.filter(|cr| cr.time_ms <= max_y) else {
            continue;
        };
        let at = cr
            .rtt_ms
            .map_or_else(String::new, |x| format!(", reached at {x:.2} ms"));
        chart
            .draw_series(LineSeries::new(
                [(0.0, cr.time_ms), (max_x, cr.time_ms)],
                c.stroke_width(1),
            ))?
            .label(format!("{what} {:.0} ms{at}", cr.time_ms))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
