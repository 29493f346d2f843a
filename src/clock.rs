//! The one source of "now". Logic takes a `Clock` (or a `now` argument), so tests and
//! `--now` can replay any week without waiting for it.

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that starts at a chosen instant (`--now`) and then runs at real speed, so that
/// durations measured inside one command stay meaningful.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OffsetClock {
    offset: chrono::Duration,
}

impl OffsetClock {
    pub(crate) fn starting_at(start: DateTime<Utc>) -> Self {
        Self {
            offset: start - Utc::now(),
        }
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

/// A clock for the given `--now`, else the system clock.
pub fn from_option(now: Option<DateTime<Utc>>) -> std::sync::Arc<dyn Clock> {
    match now {
        Some(t) => std::sync::Arc::new(OffsetClock::starting_at(t)),
        None => std::sync::Arc::new(SystemClock),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_clock_starts_at_the_given_instant() {
        let start: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
        let c = OffsetClock::starting_at(start);
        let d = c.now() - start;
        assert!(
            d >= chrono::Duration::zero() && d < chrono::Duration::seconds(5),
            "{d}"
        );
    }
}
