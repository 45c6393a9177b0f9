//! What the local platform's files share.

use std::sync::{Mutex, MutexGuard};

/// The namespace local activations report (OpenWhisk's default user namespace is `guest`).
pub const LOCAL_NAMESPACE: &str = "local";

/// A poisoned lock only means another invocation panicked; the map itself is still valid.
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
