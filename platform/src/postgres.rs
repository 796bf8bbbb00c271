//! How every service opens its PostgreSQL database: statements and lock waits bounded, the
//! service's own migrations applied.

use std::str::FromStr;

use sqlx::PgPool;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// Every statement and every lock wait is bounded well below an activity's 10 s start-to-close
/// timeout: an attempt stuck on the database gives up (and rolls back) before Temporal retries it
/// elsewhere, so two attempts of one step never both commit late.
pub const STATEMENT_TIMEOUT: &str = "5s";
pub const LOCK_TIMEOUT: &str = "3s";

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] MigrateError),
}

/// `options` with [`STATEMENT_TIMEOUT`] and [`LOCK_TIMEOUT`] set for every session.
pub fn bounded(options: PgConnectOptions) -> PgConnectOptions {
    options.options([("statement_timeout", STATEMENT_TIMEOUT), ("lock_timeout", LOCK_TIMEOUT)])
}

/// Opens a pool of at most `max_connections` bounded sessions and applies `migrator`.
pub async fn open(url: &str, max_connections: u32, migrator: &Migrator) -> Result<PgPool, OpenError> {
    let options = PgConnectOptions::from_str(url).map(bounded)?;
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .connect_with(options)
        .await?;
    migrator.run(&pool).await?;
    Ok(pool)
}
