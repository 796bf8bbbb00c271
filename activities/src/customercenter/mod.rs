//! The customercenter: the read model (CQRS) that the API's queries read. Projections are
//! idempotent and order-safe: an order row changes only for a newer `seq`, a stock level only for
//! a newer `version`, and every history step is inserted once under its own key, so all steps land
//! whatever order the projections arrive in.

use std::sync::Arc;

use domain::{Order, OrderProjection, StockLevel};
use sqlx::{PgPool, Postgres, Transaction};
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

use crate::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("src/customercenter/migrations");

/// The view's store (the writing side; the API reads the same tables).
#[derive(Clone, Debug)]
pub struct ViewDb {
    pool: PgPool,
}

impl ViewDb {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        Ok(Self {
            pool: crate::open_postgres(url, max_connections, &MIGRATOR).await?,
        })
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        crate::ping(&self.pool).await
    }

    /// Applies one projection in one transaction.
    pub async fn project_order(&self, p: &OrderProjection) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        upsert_order(&mut tx, &p.order).await?;
        if let Some(level) = &p.stock {
            upsert_stock(&mut tx, level).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn project_stock(&self, level: &StockLevel) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        upsert_stock(&mut tx, level).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn upsert_order(tx: &mut Transaction<'_, Postgres>, o: &Order) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO orders (order_id, customer_id, product_name, qty, status, reason, seq, placed_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (order_id) DO UPDATE
         SET status = excluded.status, reason = excluded.reason, seq = excluded.seq, updated_at = excluded.updated_at
         WHERE orders.seq < excluded.seq",
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
    .execute(&mut **tx)
    .await?;
    let seqs: Vec<i32> = (1..=o.history.len() as i32).collect();
    let statuses: Vec<&str> = o.history.iter().map(|h| h.status.as_str()).collect();
    let ats: Vec<&str> = o.history.iter().map(|h| h.at.as_str()).collect();
    sqlx::query(
        "INSERT INTO order_history (order_id, seq, status, at)
         SELECT $1, s, st, a FROM UNNEST($2::int[], $3::text[], $4::text[]) AS h(s, st, a)
         ON CONFLICT (order_id, seq) DO NOTHING",
    )
    .bind(o.order_id.as_str())
    .bind(&seqs)
    .bind(&statuses)
    .bind(&ats)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn upsert_stock(tx: &mut Transaction<'_, Postgres>, s: &StockLevel) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO stock (product_name, qty, version) VALUES ($1, $2, $3)
         ON CONFLICT (product_name) DO UPDATE SET qty = excluded.qty, version = excluded.version
         WHERE stock.version < excluded.version",
    )
    .bind(s.product_name.as_str())
    .bind(s.qty)
    .bind(s.version)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The customercenter's activities (task queue `customercenter`).
pub struct CustomerCenterActivities {
    pub db: ViewDb,
}

#[activities]
impl CustomerCenterActivities {
    #[activity(definition = domain::definitions::ProjectOrder)]
    pub async fn project_order(
        self: Arc<Self>,
        _ctx: ActivityContext,
        p: OrderProjection,
    ) -> Result<(), ActivityError> {
        crate::logged("projectOrder", &p.order.order_id, self.db.project_order(&p).await)?;
        tracing::debug!(order_id = %p.order.order_id, status = %p.order.status, seq = p.order.seq(), "projected");
        Ok(())
    }

    #[activity(definition = domain::definitions::ProjectStock)]
    pub async fn project_stock(self: Arc<Self>, _ctx: ActivityContext, level: StockLevel) -> Result<(), ActivityError> {
        crate::logged("projectStock", &level.product_name, self.db.project_stock(&level).await)?;
        Ok(())
    }
}
