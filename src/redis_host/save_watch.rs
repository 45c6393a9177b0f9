//! Watching a final save. `SHUTDOWN` blocks until Redis has written its RDB (or flushed its
//! AOF) and exits, which for a large data set takes seconds; a Redis frozen in the middle
//! (SIGSTOP, `docker pause`) would hold the stop until the whole save deadline. While the save
//! runs, [`frozen`] samples the server: its process state, its CPU time and the size of the
//! files in its data directory (the temporary RDB grows as it is written). A save that shows
//! none of these for `redis.stop_timeout_ms` (or whose process is stopped for that long) is
//! named frozen, and the stop ends without touching the server.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often the server is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// One look at the saving server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Sample {
    /// `T` or `t` in /proc/PID/stat: stopped by a signal or a tracer.
    stopped: bool,
    /// utime + stime, in clock ticks.
    cpu: u64,
    /// Bytes in the data directory's files (and its `appendonlydir`).
    bytes: u64,
}

/// Resolves once the server `pid` (a host pid: a container's is its `State.Pid`) has made no
/// progress for `limit`, with what was seen. `paused` adds what the process cannot show (a
/// container frozen by `docker pause`). Never resolves while the save progresses or once the
/// process is gone (the `SHUTDOWN` call then ends by itself).
pub(crate) async fn frozen<F, Fut>(
    pid: u32,
    dir: PathBuf,
    limit: Duration,
    interrupt: tokio_util::sync::CancellationToken,
    paused: F,
) -> String
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut last: Option<Sample> = None;
    let mut since: Option<Instant> = None;
    loop {
        tokio::time::sleep(SAMPLE_EVERY).await;
        let Some(now) = sample(pid, &dir).await else {
            // Exited: the SHUTDOWN call sees the connection close.
            return std::future::pending().await;
        };
        let is_paused = !now.stopped && paused().await;
        // The first sample has nothing to compare with: it counts as moving.
        let moving = !now.stopped
            && !is_paused
            && last.is_none_or(|l| l.cpu != now.cpu || l.bytes != now.bytes);
        last = Some(now);
        if moving {
            since = None;
            continue;
        }
        let first = *since.get_or_insert_with(Instant::now);
        // Stopped or paused is frozen for sure: after a signal, no need to wait out the limit.
        if (now.stopped || is_paused) && interrupt.is_cancelled() {
            let how = if now.stopped {
                format!("process {pid} stopped (state T, e.g. SIGSTOP)")
            } else {
                "container paused (`docker pause`)".to_string()
            };
            return format!("{how}; the signal ended the wait");
        }
        if first.elapsed() >= limit {
            let waited = limit.as_millis();
            return if now.stopped {
                format!("process {pid} stopped (state T, e.g. SIGSTOP) for {waited} ms")
            } else if is_paused {
                format!("container paused (`docker pause`) for {waited} ms")
            } else {
                format!(
                    "no progress for {waited} ms: neither its CPU time nor its files in {} grew",
                    dir.display()
                )
            };
        }
    }
}

/// Whether the server `pid` (a host pid) is in the middle of a foreground save, a `SHUTDOWN`
/// or `SAVE` under way: Redis writes it to `temp-<its own pid>.rdb` in its directory and
/// renames it when done. Inside a container its own pid is the one in the container's pid
/// namespace (the last of `NSpid` in /proc/PID/status).
pub(crate) async fn saving(pid: u32, dir: &Path) -> bool {
    tokio::fs::try_exists(temp_rdb(pid, dir).await)
        .await
        .unwrap_or(false)
}

/// `temp-<pid>.rdb` in `dir`, `pid` as the server itself sees it.
pub(crate) async fn temp_rdb(pid: u32, dir: &Path) -> PathBuf {
    let inner = tokio::fs::read_to_string(format!("/proc/{pid}/status"))
        .await
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("NSpid:"))
                .and_then(|v| v.split_whitespace().last())
                .and_then(|p| p.parse::<u32>().ok())
        })
        .unwrap_or(pid);
    dir.join(format!("temp-{inner}.rdb"))
}

/// The process's state and CPU time, and the data directory's bytes; `None` once the process
/// is gone.
async fn sample(pid: u32, dir: &Path) -> Option<Sample> {
    let stat = tokio::fs::read_to_string(format!("/proc/{pid}/stat"))
        .await
        .ok()?;
    let (stopped, cpu) = parse_stat(&stat)?;
    Some(Sample {
        stopped,
        cpu,
        bytes: dir_bytes(dir).await + dir_bytes(&dir.join("appendonlydir")).await,
    })
}

/// From /proc/PID/stat: whether the process is stopped (`T`/`t`) and its utime + stime. The
/// command name (field 2) may hold spaces and parentheses, so fields are counted from the last
/// `)`. `None` for a zombie (it has exited) or an unreadable line.
fn parse_stat(stat: &str) -> Option<(bool, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest: state(3) ppid(4) ... utime(14) stime(15), i.e. indexes 0 and 11, 12 here.
    let state = *fields.first()?;
    if state == "Z" || state == "X" {
        return None;
    }
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((state == "T" || state == "t", utime + stime))
}

/// The total size of the regular files directly in `dir` (0 when it cannot be read).
async fn dir_bytes(dir: &Path) -> u64 {
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else {
        return 0;
    };
    let mut total = 0;
    while let Ok(Some(e)) = entries.next_entry().await {
        if let Ok(m) = e.metadata().await
            && m.is_file()
        {
            total += m.len();
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_util::sync::CancellationToken;

    #[test]
    fn reads_state_and_cpu_after_the_last_parenthesis() {
        let line = "4242 (redis-server *:6379) S 1 4242 4242 0 -1 4194560 100 0 0 0 17 5 0 0 20 0 5 0 123 0 0";
        assert_eq!(parse_stat(line), Some((false, 22)));
        let stopped = "7 (a) b) T 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 0 0";
        assert_eq!(parse_stat(stopped), Some((true, 7)));
        assert_eq!(parse_stat("9 (x) Z 1 9 9 0 -1 0 0 0 0 0 1 1"), None);
        assert_eq!(parse_stat("garbage"), None);
    }

    #[tokio::test]
    async fn a_stopped_process_is_named_and_a_running_one_is_not() {
        let mut child = tokio::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let limit = Duration::from_millis(300);
        // Running but idle (sleep uses no CPU and writes nothing): no progress is named too.
        let why = frozen(
            pid,
            dir.path().to_path_buf(),
            limit,
            CancellationToken::new(),
            || async { false },
        )
        .await;
        assert!(why.starts_with("no progress for 300 ms"), "{why}");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap()),
            nix::sys::signal::SIGSTOP,
        )
        .unwrap();
        let why = frozen(
            pid,
            dir.path().to_path_buf(),
            limit,
            CancellationToken::new(),
            || async { false },
        )
        .await;
        assert!(why.contains("stopped (state T"), "{why}");
        // Files growing are progress: the watch does not fire while they grow.
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap()),
            nix::sys::signal::SIGCONT,
        )
        .unwrap();
        let grow = dir.path().join("temp-1.rdb");
        let writer = tokio::spawn(async move {
            for i in 0..20u16 {
                tokio::fs::write(&grow, vec![0u8; usize::from(i) * 10 + 1])
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        // A limit 15 times the writes' spacing, so a loaded machine (a CI running other
        // tests) delaying a write or a look does not read as "no progress".
        let watched = tokio::time::timeout(
            Duration::from_millis(1800),
            frozen(
                pid,
                dir.path().to_path_buf(),
                Duration::from_millis(1500),
                CancellationToken::new(),
                || async { false },
            ),
        )
        .await;
        assert!(watched.is_err(), "fired while the files grew: {watched:?}");
        writer.await.unwrap();
        child.kill().await.unwrap();
    }
}
