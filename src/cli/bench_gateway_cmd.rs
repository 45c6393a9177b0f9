//! `redwhisk bench gateway`: arguments and printing; the measurements are
//! `crate::bench::gateway` (throughput against direct and HAProxy, wake against cold start on
//! an idle and a loaded machine, keys kept over sleep/wake cycles).

use std::fmt::Write as _;

use anyhow::bail;

use super::args::{BackendChoice, OutputFormat};
use super::exit::Exit;
use crate::bench::gateway::{GatewayBench, GatewayBenchOptions, Target};

/// Arguments of `bench gateway`.
#[derive(Debug, Clone, clap::Args)]
pub struct GatewayBenchArgs {
    /// process or docker.
    #[arg(long, value_enum, default_value_t = BackendChoice::Process)]
    pub backend: BackendChoice,
    /// Requests per `-c 1` run (`-c 50` runs 5×, `-c 50 -P 100` 25× as many).
    #[arg(long, default_value_t = 20_000)]
    pub requests: u32,
    /// Alternated repetitions of each redis-benchmark comparison.
    #[arg(long, default_value_t = 3)]
    pub repeat: u32,
    /// Sleep/wake cycles per condition (idle machine, loaded machine), each alternated with a
    /// bare cold start.
    #[arg(long, default_value_t = 50)]
    pub cycles: u32,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

pub async fn run(args: GatewayBenchArgs) -> anyhow::Result<Exit> {
    let docker = match args.backend {
        BackendChoice::Process => false,
        BackendChoice::Docker => true,
        BackendChoice::All => {
            bail!("bench gateway measures one backend: --backend process or docker")
        }
    };
    if args.requests == 0 || args.repeat == 0 || args.cycles == 0 {
        bail!("--requests, --repeat and --cycles must be at least 1");
    }
    let r = crate::bench::gateway::run(&GatewayBenchOptions {
        docker,
        requests: args.requests,
        repeat: args.repeat,
        cycles: args.cycles,
    })
    .await?;
    args.output.print(&r, || text(&r))?;
    Ok(if r.keys_lost == 0 {
        Exit::Success
    } else {
        Exit::Failures
    })
}

fn met(b: bool) -> &'static str {
    if b { "met" } else { "NOT met" }
}

fn text(r: &GatewayBench) -> String {
    let mut s = format!(
        "gateway bench ({} backend; baseline {})\n\
         load                 target                        rps    p50 µs   p99 µs  proxy CPU µs/req  Redis CPU µs/req\n",
        r.backend, r.haproxy_version
    );
    for l in &r.loads {
        let load = match l.pipeline {
            1 => format!("-c {}", l.clients),
            p => format!("-c {} -P {p}", l.clients),
        };
        for f in &l.targets {
            let cpu = f
                .proxy_cpu_us_per_req
                .map_or_else(|| "-".to_string(), |c| format!("{c:.2}"));
            let _ = writeln!(
                s,
                "{load:<20} {:<26} {:>9.0} {:>9.0} {:>8.0} {cpu:>17} {:>17.2}",
                f.target.label(),
                f.rps,
                f.p50_us,
                f.p99_us,
                f.redis_cpu_us_per_req
            );
        }
        if let (Some(g), Some(h), Some(d)) = (
            l.get(Target::shipped()),
            l.get(Target::Haproxy),
            l.get(Target::Direct),
        ) {
            let _ = writeln!(
                s,
                "{load:<20} shipped gateway ({}) / haproxy rps {:.2}×, / direct rps {:.2}×",
                g.target.label(),
                g.rps / h.rps,
                g.rps / d.rps
            );
        }
    }
    let _ = writeln!(
        s,
        "gateway ≥ HAProxy rps on every load: {}; within 1.3× of direct at -c 50: {}",
        met(r.as_fast_as_haproxy),
        met(r.within_1_3_of_direct_at_c50)
    );
    for w in &r.wake {
        let _ = writeln!(
            s,
            "wake ({}): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; bare cold start p50 {:.1} ms, p99 {:.1} ms",
            if w.loaded {
                "machine loaded by redis-benchmark -c 50"
            } else {
                "idle machine"
            },
            w.wake_p50_ms,
            w.wake_p99_ms,
            w.wake_max_ms,
            w.cold_p50_ms,
            w.cold_p99_ms
        );
    }
    let _ = writeln!(
        s,
        "loaded wake p99 ≤ 3× p50: {}\nsleep/wake cycles: {}, keys lost: {}",
        met(r.wake_tail_met),
        r.cycles,
        r.keys_lost
    );
    s
}
