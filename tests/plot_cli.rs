//! `redwhisk plot` on runs recorded by the program (tests/fixtures/console, made by
//! scripts/console-fixtures.sh): the SVGs hold the series the run holds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;
use predicates::str::contains;

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/console")
        .join(name)
}

fn plot(input: &std::path::Path, out: &std::path::Path) {
    Command::cargo_bin("redwhisk")
        .unwrap()
        .arg("plot")
        .arg(input)
        .arg("--out")
        .arg(out)
        .assert()
        .success()
        .stdout(contains("wrote"));
}

/// The point lists of every polyline with exactly `n` points.
fn polylines_with(svg: &str, n: usize) -> usize {
    svg.split("<polyline")
        .skip(1)
        .filter(|p| {
            p.split("points=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .is_some_and(|pts| pts.split_whitespace().count() == n)
        })
        .count()
}

#[test]
fn a_run_gives_phase_times_per_invocation_and_a_cdf_per_command() {
    let out = tempfile::tempdir().unwrap();
    let dir = fixture("r1000-local");
    plot(&dir, out.path());
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    let n = run["activations"].as_array().unwrap().len();
    let phases = std::fs::read_to_string(out.path().join("phases.svg")).unwrap();
    assert!(phases.starts_with("<svg"), "{phases:.200}");
    // One line per phase, each with a point per invocation.
    assert_eq!(polylines_with(&phases, n), 5, "{n} invocations");
    for label in [
        "connect",
        "write (SET)",
        "read (GET)",
        "delete (DEL)",
        "total",
    ] {
        assert!(phases.contains(label), "no {label} series");
    }
    let cdf = std::fs::read_to_string(out.path().join("cdf.svg")).unwrap();
    for (cmd, key) in [("SET", "write"), ("GET", "read"), ("DEL", "delete")] {
        let count = run["summary"]["per_command_us"][key]["n"].as_u64().unwrap();
        assert!(
            cdf.contains(&format!("{cmd} (n = {count})")),
            "{cmd}: the CDF does not count the {count} commands of run.json"
        );
    }
    assert!(cdf.contains("(log)"));
}

#[test]
fn a_share_run_gives_the_matrix_as_a_heatmap() {
    let out = tempfile::tempdir().unwrap();
    let dir = fixture("share-local");
    plot(&dir.join("share.json"), out.path());
    let share: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("share.json")).unwrap()).unwrap();
    let svg = std::fs::read_to_string(out.path().join("matrix.svg")).unwrap();
    for cell in share["cells"].as_array().unwrap() {
        for name in ["persistence", "stop"] {
            assert!(svg.contains(cell[name].as_str().unwrap()));
        }
    }
    let cells: Vec<String> = share["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{}/{} correct", c["correct"], c["cycles"]))
        .collect();
    let shown: Vec<String> = svg
        .lines()
        .filter(|l| l.ends_with(" correct"))
        .map(str::to_string)
        .collect();
    assert_eq!(shown, cells);
}

/// Pixels of exactly `rgb` in `img`.
fn pixels_of(img: &image::RgbImage, rgb: [u8; 3]) -> usize {
    img.pixels().filter(|p| p.0 == rgb).count()
}

#[test]
fn png_output_is_a_real_image_with_the_series_and_the_labels_drawn() {
    let out = tempfile::tempdir().unwrap();
    Command::cargo_bin("redwhisk")
        .unwrap()
        .arg("plot")
        .arg(fixture("r1000-local"))
        .arg("--out")
        .arg(out.path())
        .args(["--format", "png"])
        .assert()
        .success()
        .stdout(contains("phases.png"))
        .stdout(contains("cdf.png"));
    assert!(!out.path().join("phases.svg").exists(), "PNG only");
    for name in ["phases.png", "cdf.png"] {
        let bytes = std::fs::read(out.path().join(name)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{name}: PNG signature");
        let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
            .unwrap()
            .to_rgb8();
        assert_eq!(img.dimensions(), (960, 540), "{name}");
        // The first series' colour (matplotlib blue) is drawn, and text (dark grey/black
        // glyph pixels from the compiled-in font) is there, not just a blank canvas.
        let series = pixels_of(&img, [0x1f, 0x77, 0xb4]);
        assert!(series > 200, "{name}: {series} pixels of the first series");
        let dark = img.pixels().filter(|p| p.0.iter().all(|&c| c < 80)).count();
        assert!(dark > 500, "{name}: {dark} dark (text/axis) pixels");
    }
    let share = tempfile::tempdir().unwrap();
    Command::cargo_bin("redwhisk")
        .unwrap()
        .arg("plot")
        .arg(fixture("share-local").join("share.json"))
        .arg("--out")
        .arg(share.path())
        .args(["--format", "png"])
        .assert()
        .success();
    let img = image::open(share.path().join("matrix.png")).unwrap();
    assert!(img.width() > 100 && img.height() > 100);
}

#[test]
fn a_directory_without_results_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("redwhisk")
        .unwrap()
        .arg("plot")
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(contains("holds neither run.json nor share.json"));
    assert!(!dir.path().join("plots").exists(), "nothing is written");
}
