//! `bench action`: the native action's write phase against `redis-benchmark`, both run in
//! this job against one throwaway redis-server (flushed before each side), reported as medians
//! and ratios.

use std::process::Stdio;
use std::time::{Duration, Instant};

use redwhisk_actions::{BenchParams, Mode};
use serde::Serialize;
use tokio::process::{Child, Command};

use super::{BenchError, Context, Result, csv_row, free_port, median, redis_benchmark};

/// The sequential write-phase target: within this factor of `redis-benchmark -c 1 -P 1`.
pub const TARGET_RATIO: f64 = 1.2;

/// The pipelined target (issue 28): back-to-back pipelines at redis-benchmark's speed.
pub const PIPELINED_TARGET_RATIO: f64 = 1.0;

/// What to run.
#[derive(Debug, Clone)]
pub struct ActionBenchOptions {
    /// SETs per run.
    pub records: u32,
    /// Runs of each side; medians are reported.
    pub runs: u32,
    /// Bytes per value (also redis-benchmark's -d).
    pub value_size: u32,
    pub server_bin: String,
    pub benchmark_bin: String,
}

/// One comparison: the action's medians against redis-benchmark's, in ms per `records` SETs.
#[derive(Debug, Serialize)]
pub struct Comparison {
    pub mode: &'static str,
    pub baseline: String,
    pub action_ms: Vec<f64>,
    pub baseline_ms: Vec<f64>,
    pub action_median_ms: f64,
    pub baseline_median_ms: f64,
    /// action median / baseline median.
    pub ratio: f64,
}

/// Everything `bench action` measured.
#[derive(Debug, Serialize)]
pub struct ActionBench {
    pub records: u32,
    pub value_size: u32,
    pub runs: u32,
    pub sequential: Comparison,
    /// One pipeline per action run, on a new connection, as an activation runs it.
    pub pipelined: Comparison,
    /// The target's comparison: pipelines back to back on one connection over the same keys,
    /// as redis-benchmark runs its own (ms per pipeline).
    pub pipelined_back_to_back: Comparison,
    pub target_ratio: f64,
    pub pipelined_target_ratio: f64,
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
pub struct Server {
    child: Child,
    pub port: u16,
}

impl Server {
    /// Start `bin` and wait (up to 10 s) until it answers PING.
    pub async fn start(bin: &str) -> Result<Server> {
        let port = free_port()?;
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
            .with_ctx(|| {
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
                return Err(BenchError::msg(format!(
                    "`{bin}` exited with {status} before answering PING on port {port}"
                )));
            }
            if started.elapsed() > Duration::from_secs(10) {
                return Err(BenchError::msg(format!(
                    "`{bin}` did not answer PING on 127.0.0.1:{port} within 10 s"
                )));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// FLUSHALL (synchronous): the next side starts on an empty server.
    pub async fn flush(&self) -> Result<()> {
        let url = format!("redis://127.0.0.1:{}/", self.port);
        let client = redis::Client::open(url.as_str()).ctx("the bench server's address")?;
        let mut con = client
            .get_multiplexed_async_connection()
            .await
            .ctx("connecting to the bench server for FLUSHALL")?;
        redis::cmd("FLUSHALL")
            .arg("SYNC")
            .query_async::<()>(&mut con)
            .await
            .ctx("FLUSHALL on the bench server")
    }

    /// Kill it now (dropping it does too, later).
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn bench_params(o: &ActionBenchOptions, port: u16, mode: Mode) -> BenchParams {
    BenchParams {
        host: "127.0.0.1".into(),
        port,
        password: None,
        tls: false,
        tls_ca: None,
        cluster: false,
        nodes: Vec::new(),
        records: o.records,
        value_size: o.value_size,
        mode,
        key_prefix: "rw-bench-action".into(),
        seed: None,
    }
}

/// The action's write phase (ms), run in-process on a blocking thread.
async fn action_write_ms(o: &ActionBenchOptions, port: u16, mode: Mode) -> Result<f64> {
    let params = bench_params(o, port, mode);
    let r =
        tokio::task::spawn_blocking(move || redwhisk_actions::bench::run_with_log(&params, |_| ()))
            .await
            .ctx("the bench action thread failed")??;
    if r.mismatches != 0 || r.errors != 0 {
        return Err(BenchError::msg(format!(
            "the bench action saw {} mismatches and {} errors",
            r.mismatches, r.errors
        )));
    }
    Ok(r.write_ms)
}

/// `rounds` pipelined write phases back to back on one connection (the action's own phase
/// code), in-process on a blocking thread: ms per phase.
async fn action_rounds_ms(o: &ActionBenchOptions, port: u16, rounds: u64) -> Result<f64> {
    let params = bench_params(o, port, Mode::Pipelined);
    let rounds = u32::try_from(rounds).unwrap_or(u32::MAX);
    let (ms, errors) = tokio::task::spawn_blocking(move || {
        redwhisk_actions::bench::write_rounds_ms(&params, rounds)
    })
    .await
    .ctx("the bench action thread failed")??;
    if errors != 0 {
        return Err(BenchError::msg(format!(
            "{errors} SETs of the back-to-back pipelines got an error reply"
        )));
    }
    Ok(ms)
}

/// One redis-benchmark run of `total` SETs in pipelines of `pipeline`; its wall time in ms
/// (from its requests per second).
async fn benchmark_ms(o: &ActionBenchOptions, port: u16, pipeline: u32, total: u64) -> Result<f64> {
    let args: Vec<String> = [
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-c",
        "1",
        "-t",
        "set",
        "-P",
        &pipeline.to_string(),
        "-n",
        &total.to_string(),
        "-d",
        &o.value_size.to_string(),
        // Its random keys drawn from as many as one action run writes: both sides work on a
        // dictionary of at most `records` keys (its -r 1000000 left the server with hundreds
        // of thousands of keys, slowing whichever side came after).
        "-r",
        &o.records.to_string(),
    ]
    .map(String::from)
    .into();
    let text = redis_benchmark(
        &o.benchmark_bin,
        &args,
        Duration::from_secs(3600),
        "install redis-tools or pass --benchmark-bin",
    )
    .await?;
    let rps = csv_row(&text, "SET")
        .map(|r| r[0])
        .ok_or_else(|| BenchError::msg(format!("unexpected redis-benchmark output: {text:?}")))?;
    Ok(total as f64 / rps * 1e3)
}

/// How many back-to-back pipelines redis-benchmark runs so its 1 ms clock (and its startup)
/// stays small against the total: about 200,000 SETs in all. Its rps then gives the time of one
/// pipeline as total / pipelines. (Its per-request latency cannot be used: for a pipeline it
/// is taken at the first reply, not the last.)
fn pipelines_per_run(records: u32) -> u64 {
    (200_000 / u64::from(records)).max(1)
}

/// Run the comparison.
pub async fn run(o: &ActionBenchOptions) -> Result<ActionBench> {
    let server = Server::start(&o.server_bin).await?;
    let port = server.port;
    let n = u64::from(o.records);
    let (mut seq_a, mut seq_b, mut pipe_a, mut pipe_b) = (vec![], vec![], vec![], vec![]);
    let mut hot_a = vec![];
    let k = pipelines_per_run(o.records);
    // Interleaved, so drift in the machine's load hits both sides alike; each side starts on
    // an empty server (FLUSHALL before it), so neither inherits the other's keys.
    for _ in 0..o.runs {
        server.flush().await?;
        seq_a.push(action_write_ms(o, port, Mode::Sequential).await?);
        server.flush().await?;
        seq_b.push(benchmark_ms(o, port, 1, n).await?);
        server.flush().await?;
        pipe_a.push(action_write_ms(o, port, Mode::Pipelined).await?);
        server.flush().await?;
        pipe_b.push(benchmark_ms(o, port, o.records, n * k).await? / k as f64);
        server.flush().await?;
        hot_a.push(action_rounds_ms(o, port, k).await?);
    }
    server.stop().await;
    Ok(ActionBench {
        records: o.records,
        value_size: o.value_size,
        runs: o.runs,
        sequential: compare(
            "sequential",
            "redis-benchmark -c 1 -P 1".into(),
            seq_a,
            seq_b,
        ),
        pipelined: compare(
            "pipelined",
            format!("redis-benchmark -c 1 -P {}", o.records),
            pipe_a,
            pipe_b.clone(),
        ),
        pipelined_back_to_back: compare(
            "pipelined back to back",
            format!("redis-benchmark -c 1 -P {}", o.records),
            hot_a,
            pipe_b,
        ),
        target_ratio: TARGET_RATIO,
        pipelined_target_ratio: PIPELINED_TARGET_RATIO,
    })
}
