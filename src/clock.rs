//! The injected clock: the system clock, or with `--dev-clock` a clock that
//! an administrator can move (`POST /api/v1/dev/clock`) to test deadlines.

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
    /// Moves the clock; `None` when this clock cannot be moved.
    fn set(&self, _now: Timestamp) -> Option<()> {
        None
    }
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Real time plus an offset that `set` changes: time keeps running.
#[derive(Default)]
pub struct DevClock {
    offset: Mutex<SignedDuration>,
}

impl Clock for DevClock {
    fn now(&self) -> Timestamp {
        Timestamp::now() + *self.offset.lock().expect("clock lock")
    }
    fn set(&self, now: Timestamp) -> Option<()> {
        *self.offset.lock().expect("clock lock") = now.duration_since(Timestamp::now());
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_clock_moves_and_runs() {
        let c = DevClock::default();
        let target: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
        c.set(target).unwrap();
        let d = c.now().duration_since(target);
        assert!(d >= SignedDuration::ZERO && d < SignedDuration::from_secs(5));
        assert!(SystemClock.set(target).is_none());
    }
}
