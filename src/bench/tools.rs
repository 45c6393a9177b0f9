//! Pieces every bench uses: ports, profiles, the local image, `redis-benchmark`, the docker CLI.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use super::{BenchError, Context, Result};
use crate::event::EventSink;
use crate::profile::Profile;
use crate::redis_host::Endpoint;
use crate::redis_host::image::{self, LOCAL_TAG};

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .ctx("cannot find a free port on 127.0.0.1")
        .map(|a| a.port())
}

/// A plain (no password, no TLS) endpoint on 127.0.0.1.
pub fn plain_endpoint(port: u16) -> Endpoint {
    Endpoint {
        host: "127.0.0.1".into(),
        port,
        password: None,
        tls: false,
        tls_ca: None,
        db: 0,
    }
}

/// The embedded default profile as a throwaway: named `<prefix>-<pid>`, any free port, data
/// under `dir`, no persistence; with `docker`, the local image on the host network in a
/// container `redwhisk-<prefix>-<pid>` that is removed on stop.
pub fn throwaway_profile(prefix: &str, docker: bool, dir: &Path) -> Result<Profile> {
    // Written as a profile and validated like any other (never changed afterwards).
    let pid = std::process::id();
    let backend = if docker {
        format!(
            "backend = \"docker\"\nimage = \"{LOCAL_TAG}\"\nnetwork = \"host\"\nkeep_container = false\ncontainer_name = \"redwhisk-{prefix}-{pid}\"\npull = false\n"
        )
    } else {
        "backend = \"process\"\n".to_string()
    };
    let data = toml::Value::String(dir.join("data").display().to_string());
    let text = format!(
        "name = \"{prefix}-{pid}\"\n[redis]\n{backend}bind = \"127.0.0.1\"\nport = 0\npersistence = \"none\"\ndata_dir = {data}\n[platform]\nkind = \"local\"\n"
    );
    Ok(Profile::parse(&text, "<bench profile>", prefix, None)?)
}

/// Build the local image unless docker has it (not timed: both sides need it).
pub async fn ensure_local_image(events: &EventSink) -> Result<()> {
    let d = crate::redis_host::docker_connect().await?;
    if d.inspect_image(LOCAL_TAG).await.is_err() {
        image::build_local(LOCAL_TAG, events).await?;
    }
    Ok(())
}

/// `docker ARGS…` through the CLI (the baseline a user would type); its trimmed stdout.
pub async fn docker_cli(args: &[&str]) -> Result<String> {
    let out = tokio::process::Command::new("docker")
        .args(args)
        .output()
        .await
        .ctx("baseline: cannot run the docker CLI")?;
    if !out.status.success() {
        return Err(BenchError::msg(format!(
            "baseline: docker {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Run `bin ARGS… --csv` (redis-benchmark) within `timeout`; its stdout. `hint` says how to
/// get the tool when it cannot be run.
pub async fn redis_benchmark(
    bin: &str,
    args: &[String],
    timeout: Duration,
    hint: &str,
) -> Result<String> {
    let out = tokio::time::timeout(
        timeout,
        tokio::process::Command::new(bin)
            .args(args)
            .arg("--csv")
            .stdin(Stdio::null())
            .output(),
    )
    .await
    .map_err(|_| BenchError::msg(format!("`{bin}` did not finish within {timeout:?}")))?
    .with_ctx(|| format!("cannot run `{bin}`: {hint}"))?;
    if !out.status.success() {
        return Err(BenchError::msg(format!(
            "`{bin}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The numbers of `"<test>","<rps>","<avg>","<min>","<p50>",…` in redis-benchmark's --csv
/// output (all in its units: rps, then ms); None when the row is missing or the rps is not
/// positive.
pub fn csv_row(text: &str, test: &str) -> Option<Vec<f64>> {
    let head = format!("\"{test}\"");
    let line = text.lines().find(|l| l.starts_with(&head))?;
    let cols: Vec<f64> = line
        .split(',')
        .skip(1)
        .map(|c| c.trim_matches('"').parse().ok())
        .collect::<Option<_>>()?;
    (cols.first().copied()? > 0.0).then_some(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_redis_benchmark_csv() {
        let text = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n\"SET\",\"20000.00\",\"0.045\",\"0.024\",\"0.039\",\"0.071\",\"0.103\",\"0.551\"\n";
        let row = csv_row(text, "SET").unwrap();
        assert_eq!(row[0], 20000.0);
        assert_eq!(row[3], 0.039);
        assert_eq!(csv_row(text, "GET"), None);
        assert_eq!(csv_row("garbage", "SET"), None);
        assert_eq!(csv_row("\"SET\",\"0.00\"", "SET"), None);
    }

    #[test]
    fn chain_has_every_cause_once() {
        let e: Result<()> = Err(std::io::Error::other("disk gone")).ctx("cannot write x");
        assert_eq!(e.unwrap_err().to_string(), "cannot write x: disk gone");
    }
}
