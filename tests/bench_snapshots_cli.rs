//! `redwhisk bench snapshots` at tiny sizes against the moto server it starts and `aws s3 cp`:
//! the output is well formed and every key comes back. No timing thresholds: the figures are
//! only checked to be measured (finite, positive) and consistent with each other.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;
use predicates::str::contains;

fn bench(args: &[&str]) -> assert_cmd::assert::Assert {
    let home = tempfile::tempdir().unwrap();
    Command::cargo_bin("redwhisk")
        .unwrap()
        .args(["bench", "snapshots"])
        .args(args)
        // No AWS settings of the machine's: the bench's own moto server and throwaway keys.
        .env("HOME", home.path())
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .timeout(std::time::Duration::from_secs(600))
        .assert()
}

fn num(v: &serde_json::Value, k: &str) -> f64 {
    v[k].as_f64()
        .unwrap_or_else(|| panic!("{k} is not a number: {v}"))
}

#[test]
fn json_rows_per_size_with_baselines_and_no_key_lost() {
    let out = bench(&["--sizes", "300,3000", "--runs", "2", "--output", "json"]).success();
    let j: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert!(
        j["server"]
            .as_str()
            .unwrap()
            .starts_with("moto_server at http://127.0.0.1:"),
        "{j}"
    );
    assert!(j["baseline"].as_str().unwrap().contains("aws s3 cp"), "{j}");
    assert!(j["target"].as_str().unwrap().contains("1.1x"), "{j}");
    let rows = j["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["keys"], 300);
    assert_eq!(rows[1]["keys"], 3000);
    for r in rows {
        assert_eq!(r["runs"], 2);
        assert_eq!(r["keys_lost"], 0, "{r}");
        for k in [
            "save_ms",
            "upload_ms",
            "baseline_upload_ms",
            "download_ms",
            "baseline_download_ms",
            "baseline_fixed_ms",
            "restore_ms",
            "restore_to_ready_ms",
        ] {
            let v = num(r, k);
            assert!(v.is_finite() && v > 0.0, "{k} = {v}: {r}");
        }
        // The ratios are the medians divided, and the verdicts follow from them.
        let up = num(r, "upload_ms") / num(r, "baseline_upload_ms");
        assert!((num(r, "upload_ratio") - up).abs() < 1e-9, "{r}");
        let down = num(r, "download_ms") / num(r, "baseline_download_ms");
        assert!((num(r, "download_ratio") - down).abs() < 1e-9, "{r}");
        assert_eq!(r["upload_target_met"], up <= 1.1, "{r}");
        assert_eq!(r["download_target_met"], down <= 1.1, "{r}");
        // Net ratios: present exactly when the copy outlasted the CLI's fixed cost.
        for (net, base) in [
            ("upload_ratio_net", "baseline_upload_ms"),
            ("download_ratio_net", "baseline_download_ms"),
        ] {
            assert_eq!(
                r[net].is_null(),
                num(r, base) <= num(r, "baseline_fixed_ms"),
                "{r}"
            );
        }
        // The restore is part of restore-to-ready, the download part of the restore.
        assert!(num(r, "download_ms") <= num(r, "restore_ms"), "{r}");
        assert!(num(r, "restore_ms") <= num(r, "restore_to_ready_ms"), "{r}");
    }
    // More keys, a bigger dump.rdb.
    assert!(rows[1]["bytes"].as_u64().unwrap() > rows[0]["bytes"].as_u64().unwrap());
}

#[test]
fn text_table_names_the_baseline_and_the_target() {
    bench(&["--sizes", "200", "--runs", "1"])
        .success()
        .stdout(contains("aws s3 cp"))
        .stdout(contains("→ready"))
        .stdout(contains("200 keys: upload "))
        .stdout(contains("target: upload and download within 1.1x"));
}

#[test]
fn bad_sizes_and_runs_are_refused_before_anything_starts() {
    bench(&["--sizes", "0"])
        .code(1)
        .stderr(contains("--sizes needs one or more key counts"));
    bench(&["--runs", "0"])
        .code(1)
        .stderr(contains("--runs must be at least 1"));
    bench(&["--sizes", "ten"])
        .code(2)
        .stderr(contains("--sizes"));
    bench(&["--endpoint", "http://127.0.0.1:9"])
        .code(2)
        .stderr(contains("--bucket"));
}
