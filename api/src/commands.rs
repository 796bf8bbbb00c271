//! The circuit breaker in front of Temporal (the seed's Hystrix checkpoint, with `failsafe`).
//!
//! Every command (start a workflow, execute an update, run a query) goes through
//! [`TemporalGuard::call`]: it is bounded in time, and outages — timeouts and transport errors, not
//! business refusals — count against the breaker. After two outages in a row the breaker opens and
//! commands are answered at once with 503 and `Retry-After` instead of waiting on a Temporal that
//! is not there. A probe checks Temporal's health twice a second through the same breaker, so the
//! breaker opens within about a second of Temporal going away even when no command is being sent,
//! and once the open period has passed the next call (probe or command) is the half-open trial
//! that closes it again: recovery needs no restart. Reads from the view never go through here.
//!
//! Load shedding: at most `max_in_flight` commands wait on Temporal at once; beyond that a command
//! is refused at once with 503 rather than queued without bound.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use failsafe::backoff::Constant;
use failsafe::failure_policy::ConsecutiveFailures;
use failsafe::futures::CircuitBreaker as _;
use failsafe::{Config, StateMachine};
use order_commands::CommandError;
use temporalio_client::Client;
use temporalio_client::errors::{WorkflowGetResultError, WorkflowStartError};
use temporalio_client::tonic::{Code, Status};
use tokio::sync::Semaphore;

use crate::problem::ApiError;

/// Whether an error means Temporal itself is unavailable (as opposed to a refusal or a missing
/// workflow, which are answers).
pub(crate) trait Outage {
    fn is_outage(&self) -> bool;

    /// Whether the error says the server itself could not be reached (not that it waited for a
    /// worker that did not answer).
    fn is_server_unreachable(&self) -> bool {
        false
    }
}

fn outage_code(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Unknown
            | Code::Internal
            | Code::Cancelled
    )
}

impl Outage for WorkflowStartError {
    fn is_outage(&self) -> bool {
        match self {
            Self::Rpc(status) => outage_code(status),
            _ => false,
        }
    }
}

impl Outage for WorkflowGetResultError {
    fn is_outage(&self) -> bool {
        true
    }
}

impl Outage for temporalio_client::errors::ClientError {
    fn is_outage(&self) -> bool {
        match self {
            Self::Rpc(status) => outage_code(status),
            _ => false,
        }
    }
}

impl Outage for temporalio_client::errors::WorkflowInteractionError {
    fn is_outage(&self) -> bool {
        true
    }
}

/// What a call needs besides the API itself.
#[derive(Debug, Clone, Copy)]
enum Needs {
    /// Only the Temporal server (starting a workflow).
    Server,
    /// A worker polling its task queue too (updates, queries and results are answered by one).
    Worker(&'static str),
}

/// What the breaker counts: a call that timed out, or one that failed.
enum Failure<E> {
    TimedOut,
    Failed(E),
}

type Breaker = StateMachine<ConsecutiveFailures<Constant>, ()>;

#[derive(Clone)]
pub struct TemporalGuard {
    breaker: Breaker,
    /// How long a command may wait for Temporal.
    timeout: Duration,
    /// How long the breaker stays open; also the `Retry-After` it advises.
    open_for: Duration,
    in_flight: Arc<Semaphore>,
    shed: prometheus::IntCounter,
}

impl TemporalGuard {
    pub fn new(timeout: Duration, open_for: Duration, max_in_flight: usize, shed: prometheus::IntCounter) -> Self {
        let policy = failsafe::failure_policy::consecutive_failures(2, failsafe::backoff::constant(open_for));
        Self {
            breaker: Config::new().failure_policy(policy).build(),
            timeout,
            open_for,
            in_flight: Arc::new(Semaphore::new(max_in_flight)),
            shed,
        }
    }

    /// How long a command may wait for Temporal.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether commands are being refused right now.
    pub fn is_open(&self) -> bool {
        !self.breaker.is_call_permitted()
    }

    fn unavailable(&self, cause: impl std::fmt::Display) -> ApiError {
        ApiError::Unavailable {
            cause: anyhow::anyhow!("{cause}"),
            retry_after_secs: self.open_for.as_secs().max(1),
        }
    }

    /// Runs a call that needs only the Temporal server (starting a workflow) through the breaker.
    /// `Ok(Err(e))` is an answer from Temporal (a refusal, a missing workflow) for the caller to
    /// map; outages become 503 here.
    pub(crate) async fn call<T, E, F>(&self, call: F) -> Result<Result<T, E>, ApiError>
    where
        E: Outage + std::fmt::Display,
        F: Future<Output = Result<T, E>>,
    {
        self.call_needing(Needs::Server, call).await
    }

    /// Runs a call that needs a worker besides the server (an update, a query, a result): a worker
    /// that is down or hung makes it time out, and that says nothing about the server, so such a
    /// timeout is answered with a 503 naming the worker and does not count against the breaker
    /// (which would then refuse the commands that need only the server).
    pub(crate) async fn call_worker<T, E, F>(&self, worker: &'static str, call: F) -> Result<Result<T, E>, ApiError>
    where
        E: Outage + std::fmt::Display,
        F: Future<Output = Result<T, E>>,
    {
        self.call_needing(Needs::Worker(worker), call).await
    }

    async fn call_needing<T, E, F>(&self, needs: Needs, call: F) -> Result<Result<T, E>, ApiError>
    where
        E: Outage + std::fmt::Display,
        F: Future<Output = Result<T, E>>,
    {
        let Ok(_permit) = self.in_flight.try_acquire() else {
            self.shed.inc();
            return Err(ApiError::Unavailable {
                cause: anyhow::anyhow!("too many commands in flight"),
                retry_after_secs: 1,
            });
        };
        let timeout = self.timeout;
        let guarded = async move {
            match tokio::time::timeout(timeout, call).await {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(e)) => Err(Failure::Failed(e)),
                Err(_) => Err(Failure::TimedOut),
            }
        };
        let counts = |f: &Failure<E>| match (f, needs) {
            (Failure::TimedOut, Needs::Server) => true,
            (Failure::TimedOut, Needs::Worker(_)) => false,
            (Failure::Failed(e), Needs::Server) => e.is_outage(),
            (Failure::Failed(e), Needs::Worker(_)) => e.is_server_unreachable(),
        };
        match self.breaker.call_with(counts, guarded).await {
            Ok(v) => Ok(Ok(v)),
            Err(failsafe::Error::Rejected) => Err(self.unavailable("circuit open: Temporal is unavailable")),
            Err(failsafe::Error::Inner(Failure::TimedOut)) => Err(match needs {
                Needs::Server => self.unavailable("Temporal did not answer in time"),
                Needs::Worker(worker) => ApiError::WorkerUnavailable { worker },
            }),
            Err(failsafe::Error::Inner(Failure::Failed(e))) if e.is_outage() => Err(self.unavailable(e)),
            Err(failsafe::Error::Inner(Failure::Failed(e))) => Ok(Err(e)),
        }
    }

    /// Probes Temporal's health through the breaker every `every`, for as long as the API runs.
    pub fn spawn_probe(self: &Arc<Self>, client: Client, every: Duration) {
        let guard = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if !guard.breaker.is_call_permitted() {
                    continue;
                }
                let probe = async {
                    if platform::temporal::is_serving(&client, every).await {
                        Ok(())
                    } else {
                        Err(())
                    }
                };
                let _ = guard.breaker.call(probe).await;
            }
        });
    }
}

impl Outage for CommandError {
    fn is_outage(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }

    fn is_server_unreachable(&self) -> bool {
        matches!(
            self,
            Self::Unavailable {
                server_unreachable: true,
                ..
            }
        )
    }
}
