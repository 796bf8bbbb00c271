//! Supervision for `make run`, as Kubernetes would do it for the pods: a process that dies on its
//! own is started again after a backoff that grows with each restart, while the rest keep
//! running; only a crash loop (too many restarts within a window) gives up.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How many restarts of one process within [`WINDOW`] make a crash loop.
pub const MAX_RESTARTS: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(60);

/// Restart bookkeeping for every process.
#[derive(Debug, Default)]
pub struct Restarts {
    history: HashMap<String, Vec<Instant>>,
}

/// What to do about a process that has just been found dead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Start it again after this long (the `n`th restart within the window).
    Restart { after: Duration, n: usize },
    /// It has been restarted [`MAX_RESTARTS`] times within [`WINDOW`]: stop everything.
    CrashLoop,
}

impl Restarts {
    /// Records that `name` died at `now` and decides what to do: the first restart is at once,
    /// then 1 s, 2 s, 4 s, ... (the backoff of a Kubernetes pod in CrashLoopBackOff, shortened).
    pub fn died(&mut self, name: &str, now: Instant) -> Decision {
        let times = self.history.entry(name.to_owned()).or_default();
        times.retain(|t| now.duration_since(*t) < WINDOW);
        if times.len() >= MAX_RESTARTS {
            return Decision::CrashLoop;
        }
        times.push(now);
        let n = times.len();
        let after = if n == 1 {
            Duration::ZERO
        } else {
            Duration::from_secs(1 << (n - 2).min(4))
        };
        Decision::Restart { after, n }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restarts_back_off_and_a_crash_loop_stops_them() {
        let mut r = Restarts::default();
        let t0 = Instant::now();
        let afters: Vec<Decision> = (0..MAX_RESTARTS)
            .map(|i| r.died("kitchen", t0 + Duration::from_secs(i as u64)))
            .collect();
        assert_eq!(
            afters[0],
            Decision::Restart {
                after: Duration::ZERO,
                n: 1
            }
        );
        assert_eq!(
            afters[1],
            Decision::Restart {
                after: Duration::from_secs(1),
                n: 2
            }
        );
        assert_eq!(
            afters[4],
            Decision::Restart {
                after: Duration::from_secs(8),
                n: 5
            }
        );
        assert_eq!(r.died("kitchen", t0 + Duration::from_secs(10)), Decision::CrashLoop);
        assert_eq!(
            r.died("api", t0 + Duration::from_secs(10)),
            Decision::Restart {
                after: Duration::ZERO,
                n: 1
            },
            "each process counts its own restarts"
        );
    }

    #[test]
    fn restarts_older_than_the_window_are_forgotten() {
        let mut r = Restarts::default();
        let t0 = Instant::now();
        for i in 0..MAX_RESTARTS {
            r.died("cafe", t0 + Duration::from_secs(i as u64));
        }
        assert_eq!(
            r.died("cafe", t0 + WINDOW + Duration::from_secs(10)),
            Decision::Restart {
                after: Duration::ZERO,
                n: 1
            }
        );
    }
}
