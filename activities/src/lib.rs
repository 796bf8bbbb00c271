//! Every side effect of the system, one module per service. Each module holds its dependencies in
//! a struct (`WarehouseActivities { db }`), owns its schema (`migrations/` beside it, applied at
//! start-up) and implements the activity definitions of `domain::contracts`. Every activity is
//! idempotent per order; business refusals are non-retryable failures, everything else retries.

pub mod cafe;
pub mod customercenter;
pub mod kitchen;
pub mod warehouse;

/// Where activities count what they decided, for the worker's `GET /metrics` beside the SDK's
/// own (`workers::metrics`). A count may be repeated when an activity whose outcome was lost runs
/// again: metrics, not records.
pub trait Tally: Send + Sync + 'static {
    /// Adds one to the counter `name` with these labels (always the same label names for a name).
    fn count(&self, name: &'static str, labels: &[(&'static str, &str)]);
}

/// Counts nothing (tests and tools that run activities without a worker).
pub struct NoTally;

impl Tally for NoTally {
    fn count(&self, _name: &'static str, _labels: &[(&'static str, &str)]) {}
}

/// Errors of the stores behind the activities.
/// They convert into retryable activity errors: Temporal retries until the database is back.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Open(#[from] platform::postgres::OpenError),
    #[error("unsupported database URL scheme in {0:?}: use postgres:// or sqlite://")]
    UnsupportedUrl(String),
    /// Stored data that breaks an invariant: reported (and retried) rather than a panic.
    #[error("inconsistent data: {0}")]
    Inconsistent(String),
}

/// Logs an activity's infrastructure failure before Temporal retries it, so a step that keeps
/// failing (a compensation included) shows in the worker's log, with the order id, at every
/// attempt, besides the pending activity's attempt count and last error in the Temporal UI.
pub(crate) fn logged<T>(
    activity: &str,
    key: &(dyn std::fmt::Display + Sync),
    result: Result<T, StoreError>,
) -> Result<T, StoreError> {
    if let Err(e) = &result {
        tracing::warn!(activity, order_id = %key, error = %e, "activity failed; Temporal will retry it");
    }
    result
}

/// One round trip to the database, for readiness checks.
pub(crate) async fn ping(pool: &sqlx::PgPool) -> Result<(), StoreError> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}
