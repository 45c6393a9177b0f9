//! `bench gateway`: what the scale-to-zero gateway costs, against baselines measured in the
//! same run.
//!
//! - round trip: `redis-benchmark -c 1 -P 1 -t get` through the gateway and direct to the same
//!   Redis, alternated; the added p50 (target ≤ 15 µs);
//! - pipelined: `redis-benchmark -c 1 -P 100 -t get` both ways; the throughput ratio (≥ 0.9×);
//! - wake: a client's connect → first reply against a sleeping gateway, next to the backend's
//!   own cold start (`RedisHost::up`, start → PONG) with the same profile (≤ 1.1× + 5 ms);
//! - cycles: write a key, let the gateway sleep (SHUTDOWN SAVE), wake it and read the key; the
//!   count of lost keys and the wake latency p50/p99.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio_util::sync::CancellationToken;

use super::{BenchError, Context, Result, csv_row, median, ms, quantile, redis_benchmark};
use crate::event::{EngineEvent, EventSink};
use crate::gateway::{Gateway, GatewayEvent, GatewayOptions, GatewayState};
use crate::profile::duration::GATEWAY_IDLE;
use crate::profile::{Persistence, Profile, SavePoint};
use crate::redis_host::{RedisHost, StopMode};
use crate::secret::Secret;

/// What to run.
#[derive(Debug, Clone)]
pub struct GatewayBenchOptions {
    pub docker: bool,
    /// Requests per redis-benchmark run (each way, per repetition).
    pub requests: u32,
    /// Alternated repetitions of each redis-benchmark comparison.
    pub repeat: u32,
    /// Sleep/wake cycles (each: write a key, sleep, wake, read it back).
    pub cycles: u32,
    /// Cold starts of the backend alone, for the wake baseline.
    pub cold_starts: u32,
}

/// Everything measured, in one run.
#[derive(Debug, Clone, Serialize)]
pub struct GatewayBench {
    pub backend: String,
    pub rt_p50_direct_us: f64,
    pub rt_p50_gateway_us: f64,
    pub rt_added_p50_us: f64,
    pub rt_target_met: bool,
    pub pipelined_rps_direct: f64,
    pub pipelined_rps_gateway: f64,
    pub pipelined_ratio: f64,
    pub pipelined_target_met: bool,
    pub cold_start_p50_ms: f64,
    pub wake_p50_ms: f64,
    pub wake_p99_ms: f64,
    pub wake_target_ms: f64,
    pub wake_target_met: bool,
    pub cycles: u32,
    pub keys_lost: u32,
}

const PASSWORD_LEN: usize = 24;
const WAIT: Duration = Duration::from_secs(120);

fn bench_profile(docker: bool, dir: &std::path::Path) -> Result<Profile> {
    let mut p = super::throwaway_profile("bench-gw", docker, dir)?;
    p.redis.persistence = Persistence::Rdb {
        save: vec![SavePoint {
            seconds: 3600,
            changes: 1,
        }],
    };
    // A throwaway password for a throwaway Redis on loopback: redis-benchmark only takes it as -a.
    let pw: String = rand::Rng::sample_iter(rand::rng(), rand::distr::Alphanumeric)
        .take(PASSWORD_LEN)
        .map(char::from)
        .collect();
    p.redis.password = Some(Secret::new(pw));
    p.gateway.listen = "127.0.0.1:0".parse()?;
    Ok(p)
}

/// A gateway served in-process, with its state changes readable.
struct Served {
    port: u16,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<crate::gateway::GatewayReport>,
    rx: tokio::sync::mpsc::UnboundedReceiver<EngineEvent>,
    state: GatewayState,
}

impl Served {
    async fn start(p: &Profile, idle: Duration) -> Result<Served> {
        let (sink, rx) = EventSink::new();
        let mut opts = GatewayOptions::from_profile(p);
        opts.config.idle = GATEWAY_IDLE.check(idle).ctx("the gateway's idle time")?;
        let gw = Gateway::bind(p, opts, &sink).await?;
        let port = gw.local_addr().port();
        let cancel = CancellationToken::new();
        let task = tokio::spawn(gw.serve(sink, cancel.clone()));
        Ok(Served {
            port,
            cancel,
            task,
            rx,
            state: GatewayState::Asleep,
        })
    }

    /// Until the latest state is `want`.
    async fn until(&mut self, want: GatewayState) -> Result<()> {
        let end = Instant::now() + WAIT;
        loop {
            while let Ok(ev) = self.rx.try_recv() {
                if let EngineEvent::Gateway(GatewayEvent::State(s)) = ev {
                    self.state = s.state;
                }
            }
            if self.state == want {
                return Ok(());
            }
            match tokio::time::timeout_at(end.into(), self.rx.recv()).await {
                Ok(Some(EngineEvent::Gateway(GatewayEvent::State(s)))) => self.state = s.state,
                Ok(Some(_)) => {}
                _ => {
                    return Err(BenchError::msg(format!(
                        "the gateway did not become {} within {WAIT:?}",
                        want.label()
                    )));
                }
            }
        }
    }

    async fn stop(self) -> Result<()> {
        self.cancel.cancel();
        tokio::time::timeout(WAIT, self.task)
            .await
            .ctx("gateway shutdown")??;
        Ok(())
    }
}

/// AUTH + one inline command on a new connection; the reply's lines (a bulk's payload included).
async fn command(port: u16, password: &str, cmd: &str) -> Result<String> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    s.set_nodelay(true)?;
    s.write_all(format!("AUTH {password}\r\n{cmd}\r\n").as_bytes())
        .await?;
    let mut r = BufReader::new(s);
    let mut auth = String::new();
    r.read_line(&mut auth).await?;
    if auth != "+OK\r\n" {
        return Err(BenchError::msg(format!(
            "AUTH through the gateway answered {auth:?}"
        )));
    }
    let mut line = String::new();
    r.read_line(&mut line).await?;
    if line.starts_with('$') && !line.starts_with("$-1") {
        r.read_line(&mut line).await?;
    }
    Ok(line)
}

/// One redis-benchmark GET run; (rps, p50 in µs).
async fn get_benchmark(port: u16, password: &str, n: u32, pipeline: u32) -> Result<(f64, f64)> {
    let args: Vec<String> = [
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-a",
        password,
        "-c",
        "1",
        "-P",
        &pipeline.to_string(),
        "-n",
        &n.to_string(),
        "-t",
        "get",
    ]
    .map(String::from)
    .into();
    let text = redis_benchmark(
        "redis-benchmark",
        &args,
        WAIT,
        "apt-get install redis-tools",
    )
    .await?;
    match csv_row(&text, "GET").as_deref() {
        Some([rps, _avg, _min, p50, ..]) => Ok((*rps, p50 * 1000.0)),
        _ => Err(BenchError::msg(format!(
            "unexpected redis-benchmark output: {text:?}"
        ))),
    }
}

/// Run all four measurements.
pub async fn run(o: &GatewayBenchOptions) -> Result<GatewayBench> {
    let dir = tempfile::tempdir()?;
    let profile = bench_profile(o.docker, dir.path())?;
    let pw = profile
        .redis
        .password
        .as_ref()
        .map(|p| p.expose().to_string())
        .unwrap_or_default();
    let events = EventSink::discard();
    if o.docker {
        super::ensure_local_image(&events).await?;
    }
    // 1. Warm: the gateway awake for the whole comparison, next to the same Redis direct.
    let mut g = Served::start(&profile, Duration::from_secs(3600)).await?;
    command(g.port, &pw, "PING").await?;
    g.until(GatewayState::Awake).await?;
    let st = crate::redis_host::state::read(&profile.redis.data_dir)
        .await?
        .ok_or_else(|| BenchError::msg("no state file for the awake Redis"))?;
    let direct = st.port;
    let (mut rt_d, mut rt_g, mut rps_d, mut rps_g) = (vec![], vec![], vec![], vec![]);
    for _ in 0..o.repeat {
        rt_d.push(get_benchmark(direct, &pw, o.requests, 1).await?.1);
        rt_g.push(get_benchmark(g.port, &pw, o.requests, 1).await?.1);
        rps_d.push(get_benchmark(direct, &pw, o.requests * 10, 100).await?.0);
        rps_g.push(get_benchmark(g.port, &pw, o.requests * 10, 100).await?.0);
    }
    g.stop().await?;
    // 2. The backend's own cold start, same profile (the gateway is closed and Redis stopped).
    let mut cold = Vec::new();
    for _ in 0..o.cold_starts {
        let mut host = RedisHost::new(&profile)?;
        let t = Instant::now();
        host.up(&events).await.ctx("bench: cold start")?;
        cold.push(ms(t.elapsed()));
        host.down(StopMode::Graceful, &events).await?;
    }
    // 3. Cycles: a key written before each sleep is read after each wake.
    let mut g = Served::start(&profile, Duration::from_millis(20)).await?;
    let mut wake = Vec::new();
    let mut lost = 0;
    command(g.port, &pw, "SET cyc0 0").await?;
    g.until(GatewayState::Asleep).await?;
    for i in 1..=o.cycles {
        let t = Instant::now();
        let got = command(g.port, &pw, &format!("GET cyc{}", i - 1)).await?;
        wake.push(ms(t.elapsed()));
        let want = format!("${}\r\n{}\r\n", (i - 1).to_string().len(), i - 1);
        if got != want {
            lost += 1;
        }
        command(g.port, &pw, &format!("SET cyc{i} {i}")).await?;
        g.until(GatewayState::Asleep).await?;
    }
    g.stop().await?;
    let cold_p50 = median(&cold);
    let wake_p50 = median(&wake);
    let (rt_d, rt_g) = (median(&rt_d), median(&rt_g));
    let (rps_d, rps_g) = (median(&rps_d), median(&rps_g));
    let wake_target = 1.1 * cold_p50 + 5.0;
    Ok(GatewayBench {
        backend: profile.redis.backend.label().into(),
        rt_p50_direct_us: rt_d,
        rt_p50_gateway_us: rt_g,
        rt_added_p50_us: rt_g - rt_d,
        rt_target_met: rt_g - rt_d <= 15.0,
        pipelined_rps_direct: rps_d,
        pipelined_rps_gateway: rps_g,
        pipelined_ratio: rps_g / rps_d,
        pipelined_target_met: rps_g / rps_d >= 0.9,
        cold_start_p50_ms: cold_p50,
        wake_p50_ms: wake_p50,
        wake_p99_ms: quantile(&wake, 0.99).unwrap_or(f64::NAN),
        wake_target_ms: wake_target,
        wake_target_met: wake_p50 <= wake_target,
        cycles: o.cycles,
        keys_lost: lost,
    })
}
