//! One owner per profile: an exclusive `flock` (std's `File::try_lock`) on `<data_dir>/redwhisk.lock`, taken before a
//! start touches anything and held until the command ends. The kernel releases it when the
//! owner dies, however it dies, so a stale lock cannot exist.
//!
//! The file also says who holds it (pid, process start time, command line) so the error a
//! second command gets names the owner. Two hosts in one process share one lock.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use super::error::HostError;

/// File name of the lock inside the profile's data directory.
pub const LOCK_FILE: &str = "redwhisk.lock";

/// A held profile lock; released when the last clone is dropped.
#[derive(Clone)]
pub(crate) struct ProfileLock {
    _held: Arc<Held>,
}

/// The locked file. Dropping it unlocks before closing: a flock belongs to the open file
/// description, which a child forked by another thread shares until it execs (close-on-exec
/// closes it only then), so closing our descriptor alone could leave the profile locked for
/// that moment, and the next command of this very process would find it "in use" by itself.
struct Held(File);

impl Drop for Held {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl std::fmt::Debug for ProfileLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProfileLock")
    }
}

/// Locks this process holds, by lock file path (flock is per open file: a second open in the
/// same process would conflict with the first).
static HELD: Mutex<Vec<(PathBuf, Weak<Held>)>> = Mutex::new(Vec::new());

/// Take the profile's lock without waiting. `Err(Locked)` names the live owner.
/// The lock file is the first thing written in the data directory: a failure there is the
/// directory's (read-only, full, not ours), named as the setting to fix.
fn not_writable(dir: &Path, lock: &Path, e: std::io::Error) -> HostError {
    HostError::DataDir {
        path: dir.to_path_buf(),
        why: format!(
            "cannot write in it (creating {} failed: {e})",
            lock.file_name().map_or_else(
                || lock.display().to_string(),
                |n| n.to_string_lossy().into_owned()
            )
        ),
    }
}

pub(crate) fn acquire(dir: &Path, profile: &str) -> Result<ProfileLock, HostError> {
    let path = dir.join(LOCK_FILE);
    let mut held = HELD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    held.retain(|(_, w)| w.strong_count() > 0);
    if let Some(l) = held
        .iter()
        .find(|(p, _)| *p == path)
        .and_then(|(_, w)| w.upgrade())
    {
        return Ok(ProfileLock { _held: l });
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| not_writable(dir, &path, e))?;
    let mut lock = file;
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(HostError::Locked {
                profile: profile.to_string(),
                owner: read_owner(lock),
                path,
            });
        }
        Err(TryLockError::Error(e)) => return Err(HostError::io(&path, e)),
    }
    // The line is padded to a fixed width and written over the old one: shrinking a file
    // (set_len(0)) frees its blocks through the filesystem's journal, which on a machine busy
    // writing to disk can take tens of ms on the path to every start. It only shrinks when an
    // older, longer line is there.
    let me = padded(&describe_self());
    let written = lock
        .rewind()
        .and_then(|()| lock.write_all(me.as_bytes()))
        .and_then(|()| {
            if lock.metadata()?.len() > me.len() as u64 {
                lock.set_len(me.len() as u64)?;
            }
            Ok(())
        });
    written.map_err(|e| not_writable(dir, &path, e))?;
    let l = Arc::new(Held(lock));
    held.push((path, Arc::downgrade(&l)));
    Ok(ProfileLock { _held: l })
}

/// Who holds the lock, from its file. The holder writes that line just after taking the lock,
/// so give it a moment (bounded) when the file is still empty.
fn read_owner(mut file: File) -> String {
    for _ in 0..50 {
        let mut owner = String::new();
        let read = file.rewind().and_then(|()| file.read_to_string(&mut owner));
        // The line left by an earlier owner that is gone is stale: the new holder is about to
        // replace it.
        if read.is_ok() && owner.ends_with('\n') && named_pid_alive(&owner) {
            return owner.trim().to_string();
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    "another process".into()
}

fn named_pid_alive(line: &str) -> bool {
    line.strip_prefix("pid ")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|p| p.parse::<u32>().ok())
        .is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
}

/// `pid 123 (redwhisk run -p local), started 2026-…` for the owner line of the lock file.
/// The owner line, spaces before its newline up to [`LINE_WIDTH`] bytes.
const LINE_WIDTH: usize = 320;

fn padded(line: &str) -> String {
    let body = line.trim_end_matches('\n');
    let pad = LINE_WIDTH.saturating_sub(body.len() + 1);
    format!("{body}{}\n", " ".repeat(pad))
}

fn describe_self() -> String {
    let args: Vec<String> = std::env::args().collect();
    let mut cmd = args
        .iter()
        .enumerate()
        .map(|(i, a)| {
            if i == 0 {
                Path::new(a)
                    .file_name()
                    .map_or_else(|| a.clone(), |n| n.to_string_lossy().into_owned())
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    if cmd.len() > 200 {
        cmd.truncate(cmd.char_indices().nth(200).map_or(cmd.len(), |(i, _)| i));
        cmd.push('…');
    }
    format!(
        "pid {} (`{cmd}`), since {}\n",
        std::process::id(),
        chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A child that shares the lock file's open description (as one forked by another thread
    /// does until it execs) does not keep the profile locked once our last handle is dropped.
    #[test]
    fn a_child_sharing_the_lock_file_does_not_keep_the_profile_locked() {
        let dir = tempfile::tempdir().unwrap();
        let lock = acquire(dir.path(), "p").unwrap();
        let shared = lock._held.0.try_clone().unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .stdin(shared)
            .spawn()
            .unwrap();
        drop(lock);
        let again = acquire(dir.path(), "p");
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(again.is_ok(), "{:?}", again.err());
    }

    #[test]
    fn one_process_shares_its_lock_and_another_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = acquire(dir.path(), "p").unwrap();
        let b = acquire(dir.path(), "p").unwrap();
        drop(a);
        // Another open file description (as another process would have) is refused.
        let other = File::open(dir.path().join(LOCK_FILE)).unwrap();
        assert!(matches!(other.try_lock(), Err(TryLockError::WouldBlock)));
        drop(b);
        assert!(other.try_lock().is_ok());
    }
}
