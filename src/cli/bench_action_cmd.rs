//! `redwhisk bench action`: the native action's write phase against `redis-benchmark`, both
//! run in this job against one throwaway redis-server, reported as medians and ratios.

use std::net::TcpListener;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use redwhisk_actions::{BenchParams, Mode};
use serde::Serialize;
use tokio::process::{Child, Command};

use super::OutputFormat;

/// The write-phase target: within this factor of `redis-benchmark -c 1 -P 1`.
const TARGET_RATIO: f64 = 1.2;

/// Options of `redwhisk bench action`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchActionArgs {
    /// SETs per run (the paper: 1000). Larger values make redis-benchmark's 1 ms clock matter less.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub records: u32,
    /// Runs of each side; medians are reported.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,
    /// Bytes per value (also passed to redis-benchmark as -d).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    pub value_size: u32,
    #[arg(long, default_value = "redis-server")]
    pub server_bin: String,
    #[arg(long, default_value = "redis-benchmark")]
    pub benchmark_bin: String,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// One comparison: the action's medians against redis-benchmark's, in ms per `records` SETs.
#[derive(Debug, Serialize)]
struct Comparison {
    mode: &'static str,
    baseline: String,
    action_ms: Vec<f64>,
    baseline_ms: Vec<f64>,
    action_median_ms: f64,
    baseline_median_ms: f64,
    /// action median / baseline median.
    ratio: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    records: u32,
    value_size: u32,
    runs: u32,
    sequential: Comparison,
    pipelined: Comparison,
    target_ratio: f64,
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn compare(mode: &'static str, baseline: String, action: Vec<f64>, base: Vec<f64>) -> Comparison {
    let (a, b) = (median(&action), median(&base));
    Comparison {
        mode,
        baseline,
        action_ms: action,
        baseline_ms: base,
        action_median_ms: a,
        baseline_median_ms: b,
        ratio: a / b,
    }
}

/// A redis-server child on a free loopback port, no persistence, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

async fn start_server(bin: &str) -> anyhow::Result<Server> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .context("cannot find a free port on 127.0.0.1")?
        .port();
    let child = Command::new(bin)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--appendonly", "no", "--daemonize", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| {
            format!("cannot start `{bin}`: install redis-server 7 or pass --server-bin")
        })?;
    let mut server = Server { child, port };
    let url = format!("redis://127.0.0.1:{port}/");
    let started = Instant::now();
    loop {
        if let Ok(client) = redis::Client::open(url.as_str())
            && let Ok(mut con) = client.get_multiplexed_async_connection().await
            && redis::cmd("PING")
                .query_async::<String>(&mut con)
                .await
                .is_ok()
        {
            return Ok(server);
        }
        if let Some(status) = server.child.try_wait()? {
            bail!("`{bin}` exited with {status} before answering PING on port {port}");
        }
        if started.elapsed() > Duration::from_secs(10) {
            bail!("`{bin}` did not answer PING on 127.0.0.1:{port} within 10 s");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The action's write phase (ms), run in-process on a blocking thread.
async fn action_write_ms(args: &BenchActionArgs, port: u16, mode: Mode) -> anyhow::Result<f64> {
    let params = BenchParams {
        host: "127.0.0.1".into(),
        port,
        password: None,
        records: args.records,
        value_size: args.value_size,
        mode,
        key_prefix: "rw-bench-action".into(),
        seed: None,
    };
    let r =
        tokio::task::spawn_blocking(move || redwhisk_actions::bench::run_with_log(&params, |_| ()))
            .await
            .context("the bench action thread failed")??;
    if r.mismatches != 0 || r.errors != 0 {
        bail!(
            "the bench action saw {} mismatches and {} errors",
            r.mismatches,
            r.errors
        );
    }
    Ok(r.write_ms)
}

/// One redis-benchmark run of `total` SETs in pipelines of `pipeline`; its wall time in ms
/// (from its requests per second).
async fn benchmark_ms(
    args: &BenchActionArgs,
    port: u16,
    pipeline: u32,
    total: u64,
) -> anyhow::Result<f64> {
    let out = Command::new(&args.benchmark_bin)
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-c",
            "1",
            "-t",
            "set",
            "--csv",
        ])
        .args(["-P", &pipeline.to_string(), "-n", &total.to_string()])
        .args(["-d", &args.value_size.to_string(), "-r", "1000000"])
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| {
            format!(
                "cannot run `{}`: install redis-tools or pass --benchmark-bin",
                args.benchmark_bin
            )
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "`{}` failed ({}): {}",
            args.benchmark_bin,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let rps =
        parse_rps(&text).with_context(|| format!("unexpected redis-benchmark output: {text:?}"))?;
    Ok(total as f64 / rps * 1e3)
}

/// The rps column of `"SET","<rps>",...` in redis-benchmark's --csv output.
fn parse_rps(text: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.starts_with("\"SET\""))?;
    let rps: f64 = line.split(',').nth(1)?.trim_matches('"').parse().ok()?;
    (rps > 0.0).then_some(rps)
}

/// How many back-to-back pipelines redis-benchmark runs so its 1 ms clock (and its startup)
/// stays small against the total: about 200,000 SETs in all. Its rps then gives the time of one
/// pipeline as total / pipelines. (Its per-request latency cannot be used: for a pipeline it
/// is taken at the first reply, not the last.)
fn pipelines_per_run(records: u32) -> u64 {
    (200_000 / u64::from(records)).max(1)
}

/// Run `redwhisk bench action`.
pub async fn run(args: BenchActionArgs) -> anyhow::Result<ExitCode> {
    let mut server = start_server(&args.server_bin).await?;
    let port = server.port;
    let n = u64::from(args.records);
    let (mut seq_a, mut seq_b, mut pipe_a, mut pipe_b) = (vec![], vec![], vec![], vec![]);
    // Interleaved, so drift in the machine's load hits both sides alike.
    for _ in 0..args.runs {
        seq_a.push(action_write_ms(&args, port, Mode::Sequential).await?);
        seq_b.push(benchmark_ms(&args, port, 1, n).await?);
        pipe_a.push(action_write_ms(&args, port, Mode::Pipelined).await?);
        let k = pipelines_per_run(args.records);
        pipe_b.push(benchmark_ms(&args, port, args.records, n * k).await? / k as f64);
    }
    let _ = server.child.kill().await;
    let report = Report {
        records: args.records,
        value_size: args.value_size,
        runs: args.runs,
        sequential: compare(
            "sequential",
            "redis-benchmark -c 1 -P 1".into(),
            seq_a,
            seq_b,
        ),
        pipelined: compare(
            "pipelined",
            format!("redis-benchmark -c 1 -P {}", args.records),
            pipe_a,
            pipe_b,
        ),
        target_ratio: TARGET_RATIO,
    };
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        OutputFormat::Text => print_text(&report),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_text(r: &Report) {
    println!(
        "bench action: {} SETs of {} bytes per run, {} runs each side, one redis-server on 127.0.0.1 (no persistence)",
        r.records, r.value_size, r.runs
    );
    let per_k = 1000.0 / f64::from(r.records);
    for c in [&r.sequential, &r.pipelined] {
        println!("\n{} write phase (medians)", c.mode);
        for (who, ms) in [
            ("redwhisk bench action", c.action_median_ms),
            (c.baseline.as_str(), c.baseline_median_ms),
        ] {
            println!(
                "  {who:<32} {ms:>10.3} ms total  {:>9.2} µs/SET  {:>9.3} ms/1000",
                ms * 1000.0 / f64::from(r.records),
                ms * per_k
            );
        }
        println!("  ratio action / baseline: {:.3}", c.ratio);
    }
    let verdict = if r.sequential.ratio <= r.target_ratio {
        "within"
    } else {
        "OVER"
    };
    println!(
        "\nsequential target ≤ {:.2}x of redis-benchmark: {verdict} ({:.3}x)",
        r.target_ratio, r.sequential.ratio
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_redis_benchmark_csv() {
        let text = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n\"SET\",\"20000.00\",\"0.045\",\"0.024\",\"0.039\",\"0.071\",\"0.103\",\"0.551\"\n";
        assert_eq!(parse_rps(text), Some(20000.0));
        assert_eq!(parse_rps("garbage"), None);
        assert_eq!(parse_rps("\"SET\",\"0.00\""), None);
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
