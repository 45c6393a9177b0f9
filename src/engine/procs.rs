//! Sampling procfs for the console's process pane: redwhisk itself, every process it started
//! (action processes, a process-backend Redis) and the profile's redis-server. Linux only;
//! elsewhere the snapshot is empty.

use std::collections::HashMap;

use crate::model::process::{ProcessSample, ProcessSnapshot};

/// `/proc/<pid>/stat`: (name, parent pid, utime + stime in ticks). The name is between the
/// first `(` and the last `)`, since it may hold spaces or parentheses.
fn stat(pid: u32) -> Option<(String, u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let name = text.get(open + 1..close)?.to_string();
    // After the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    // utime stime (fields 3.. of proc(5)).
    let rest: Vec<&str> = text.get(close + 2..)?.split_whitespace().collect();
    let ppid = rest.get(1)?.parse().ok()?;
    let utime: u64 = rest.get(11)?.parse().ok()?;
    let stime: u64 = rest.get(12)?.parse().ok()?;
    Some((name, ppid, utime + stime))
}

/// Resident pages × page size, from `/proc/<pid>/statm`.
fn rss(pid: u32) -> u64 {
    let pages = std::fs::read_to_string(format!("/proc/{pid}/statm"))
        .ok()
        .and_then(|t| t.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0);
    pages * page_size()
}

fn page_size() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .map_or(4096, |v| v as u64)
}

fn ticks_per_s() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .map_or(100, |v| v as u64)
}

/// Redwhisk, its descendants, and `redis_pid` (with its own descendants) when given.
pub fn sample(redis_pid: Option<u32>) -> ProcessSnapshot {
    let me = std::process::id();
    let mut all: HashMap<u32, (String, u32, u64)> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if let Some(s) = stat(pid) {
                all.insert(pid, s);
            }
        }
    }
    // Walk down from the roots: a child is listed under the first root it descends from.
    let mut wanted: Vec<(u32, &'static str)> = vec![(me, "self")];
    if let Some(r) = redis_pid.filter(|r| *r != me) {
        wanted.push((r, "redis"));
    }
    let mut i = 0;
    while i < wanted.len() {
        let (parent, role) = wanted[i];
        let child_role = if role == "redis" { "redis" } else { "child" };
        let mut kids: Vec<u32> = all
            .iter()
            .filter(|(pid, s)| s.1 == parent && !wanted.iter().any(|(w, _)| w == *pid))
            .map(|(pid, _)| *pid)
            .collect();
        kids.sort_unstable();
        wanted.extend(kids.into_iter().map(|k| (k, child_role)));
        i += 1;
    }
    let processes = wanted
        .into_iter()
        .filter_map(|(pid, role)| {
            let (name, _, cpu_ticks) = all.get(&pid)?.clone();
            Some(ProcessSample {
                pid,
                name,
                role,
                cpu_ticks,
                rss_bytes: rss(pid),
            })
        })
        .collect();
    ProcessSnapshot {
        at: chrono::Utc::now(),
        ticks_per_s: ticks_per_s(),
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        processes,
    }
}

#[cfg(test)]
mod tests {
    /// The test process itself is found with its own name, CPU time and memory, and a child
    /// it starts is listed under it.
    #[test]
    fn samples_this_process_and_its_children() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let snap = super::sample(None);
        let me = snap
            .processes
            .iter()
            .find(|p| p.role == "self")
            .expect("this process");
        assert_eq!(me.pid, std::process::id());
        assert!(me.rss_bytes > 0);
        assert!(
            snap.processes
                .iter()
                .any(|p| p.pid == child.id() && p.role == "child" && p.name == "sleep"),
            "{:?}",
            snap.processes
        );
        assert!(snap.ticks_per_s > 0);
        child.kill().unwrap();
        let _ = child.wait();
    }
}
