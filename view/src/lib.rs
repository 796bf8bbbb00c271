//! The customercenter's read model (CQRS): the tables in `migrations/`, the projections that write
//! them ([`ViewDb`], used by the customercenter worker's activities) and the queries that read them
//! ([`View`], used by the API). One crate owns the schema and every statement on it, so neither side
//! links the other: the API does not depend on the workers, the workers not on the API.

pub mod feed;
mod queries;
mod shop;

pub use queries::{Cursor, OrderRow, RestockRow, Step, StockRow, View};
pub use shop::{Finished, LevelAt, ShopRows};

use domain::{Order, OrderProjection, StockLevel};
use platform::postgres::OpenError;
use sqlx::{PgPool, Postgres, Transaction};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// The writing side. Projections are idempotent and order-safe: an order changes only for a
/// projection at least as new, a stock level only for a newer `version`. Each projection carries
/// the order's whole history, so the newest one alone says what the view holds; an older one
/// arriving late changes nothing.
///
/// "Newer" is `(at_event, seq)`: the length of the workflow's history when it projected, then the
/// order's step count. Projections are handed over from inside a workflow task; when that task is
/// lost (its worker or the Temporal server died) the workflow decides again, possibly otherwise,
/// with a longer history, so what it decides then replaces what the lost task projected even at a
/// lower `seq`.
#[derive(Clone, Debug)]
pub struct ViewDb {
    pool: PgPool,
}

impl ViewDb {
    /// Connects and applies the view's migrations.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, OpenError> {
        Ok(Self {
            pool: platform::postgres::open(url, max_connections, &MIGRATOR).await?,
        })
    }

    pub async fn ping(&self) -> sqlx::Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
    }

    /// Deletes at most `batch` finished orders last changed before `before` (RFC 3339, as the
    /// view stores times), with their history, and at most `batch` restock log entries and stock
    /// levels recorded before it; returns how many orders and entries went. Orders still under way stay, however
    /// old.
    pub async fn prune(&self, before: &str, batch: i64) -> sqlx::Result<u64> {
        let orders: i64 = sqlx::query_scalar(
            "WITH gone AS (
                 DELETE FROM orders WHERE order_id IN (
                     SELECT order_id FROM orders
                     WHERE status IN ('Completed', 'Rejected', 'Canceled') AND updated_at < $1
                     LIMIT $2)
                 RETURNING order_id),
             history AS (DELETE FROM order_history WHERE order_id IN (SELECT order_id FROM gone))
             SELECT count(*) FROM gone",
        )
        .bind(before)
        .bind(batch)
        .fetch_one(&self.pool)
        .await?;
        let restocks = self.delete_before("restocks", "restock_id", "recorded_at", before, batch).await?;
        let levels = self.delete_before("stock_history", "id", "at", before, batch).await?;
        Ok((orders + restocks + levels) as u64)
    }

    /// Deletes at most `batch` rows of `table` (keyed by `key`) whose time `at` is before
    /// `before`; returns how many went. The names are this file's own, never input.
    async fn delete_before(&self, table: &str, key: &str, at: &str, before: &str, batch: i64) -> sqlx::Result<i64> {
        sqlx::query_scalar(&format!(
            "WITH gone AS (
                 DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {at} < $1 LIMIT $2)
                 RETURNING 1)
             SELECT count(*) FROM gone"
        ))
        .bind(before)
        .bind(batch)
        .fetch_one(&self.pool)
        .await
    }

    /// Applies one projection in one transaction.
    #[tracing::instrument(name = "db.project_order", skip_all, fields(order_id = %p.order.order_id, status = %p.order.status))]
    pub async fn project_order(&self, p: &OrderProjection) -> sqlx::Result<()> {
        let mut tx = self.pool.begin().await?;
        upsert_order(&mut tx, &p.order, p.at_event).await?;
        if let Some(level) = &p.stock {
            upsert_stock(&mut tx, level).await?;
        }
        tx.commit().await
    }

    #[tracing::instrument(name = "db.project_stock", skip_all, fields(product = %level.product_name))]
    pub async fn project_stock(&self, level: &StockLevel) -> sqlx::Result<()> {
        let mut tx = self.pool.begin().await?;
        upsert_stock(&mut tx, level).await?;
        tx.commit().await
    }
}

async fn upsert_order(tx: &mut Transaction<'_, Postgres>, o: &Order, at_event: u64) -> sqlx::Result<()> {
    let newest = sqlx::query(
        "INSERT INTO orders (order_id, customer_id, product_name, qty, status, reason, seq, placed_at, updated_at, at_event, total_cents, shop_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (order_id) DO UPDATE
         SET status = excluded.status, reason = excluded.reason, seq = excluded.seq, updated_at = excluded.updated_at,
             at_event = excluded.at_event, total_cents = excluded.total_cents
         WHERE (orders.at_event, orders.seq) <= (excluded.at_event, excluded.seq)",
    )
    .bind(o.order_id.as_str())
    .bind(o.customer_id.as_str())
    .bind(o.product_name.as_str())
    .bind(o.qty.get() as i32)
    .bind(o.status.as_str())
    .bind(o.reason.as_deref())
    .bind(o.seq() as i32)
    .bind(&o.placed_at)
    .bind(&o.updated_at)
    .bind(at_event as i64)
    .bind(o.total().map(domain::Price::cents))
    .bind(o.shop_id.as_str())
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    let seqs: Vec<i32> = (1..=o.history.len() as i32).collect();
    let statuses: Vec<&str> = o.history.iter().map(|h| h.status.as_str()).collect();
    let ats: Vec<&str> = o.history.iter().map(|h| h.at.as_str()).collect();
    if !newest {
        return Ok(());
    }
    // The newest projection's history is the order's, step for step.
    sqlx::query("DELETE FROM order_history WHERE order_id = $1 AND seq > $2")
        .bind(o.order_id.as_str())
        .bind(o.seq() as i32)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO order_history (order_id, seq, status, at)
         SELECT $1, s, st, a FROM UNNEST($2::int[], $3::text[], $4::text[]) AS h(s, st, a)
         ON CONFLICT (order_id, seq) DO UPDATE SET status = excluded.status, at = excluded.at",
    )
    .bind(o.order_id.as_str())
    .bind(&seqs)
    .bind(&statuses)
    .bind(&ats)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn upsert_stock(tx: &mut Transaction<'_, Postgres>, s: &StockLevel) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO stock (shop_id, product_name, qty, version, price_cents) VALUES ($5, $1, $2, $3, $4)
         ON CONFLICT (shop_id, product_name) DO UPDATE SET qty = excluded.qty, version = excluded.version,
             price_cents = COALESCE(excluded.price_cents, stock.price_cents)
         WHERE stock.version < excluded.version",
    )
    .bind(s.product_name.as_str())
    .bind(s.qty)
    .bind(s.version)
    .bind(s.price.map(domain::Price::cents))
    .bind(s.shop_id.as_str())
    .execute(&mut **tx)
    .await?;
    if let Some(restock) = &s.restocked {
        sqlx::query(
            "INSERT INTO restocks (restock_id, product_name, qty, price_cents, shop_id, recorded_at)
             VALUES ($1, $2, $3, $4, $5, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))
             ON CONFLICT (restock_id) DO NOTHING",
        )
        .bind(&restock.restock_id)
        .bind(s.product_name.as_str())
        .bind(restock.qty)
        .bind(s.price.map(domain::Price::cents))
        .bind(s.shop_id.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
