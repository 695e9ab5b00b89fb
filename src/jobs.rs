//! Background work: a progress-and-cancel interface that long jobs
//! (training, batch scoring) report through, whoever is watching.

use std::sync::atomic::{AtomicBool, Ordering};

/// Receives `(stage, done, total)` from a running job and tells it whether
/// to stop. Implementations must be cheap: jobs call `update` often.
pub trait Progress: Sync {
    fn update(&self, stage: &str, done: u64, total: u64);
    fn cancelled(&self) -> bool {
        false
    }
}

/// Reports nothing and never cancels.
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&self, _stage: &str, _done: u64, _total: u64) {}
}

/// A cancellation flag that can be shared with a job.
#[derive(Default)]
pub struct CancelFlag(AtomicBool);

impl CancelFlag {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
