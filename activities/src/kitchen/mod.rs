//! The kitchen: production tickets, i.e. the kitchen board as the kitchen itself keeps it.

use std::sync::Arc;

use domain::{OrderId, OrderStatus, Ticket, TicketMove};
use sqlx::PgPool;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

use crate::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("src/kitchen/migrations");

/// The kitchen's store.
#[derive(Clone, Debug)]
pub struct KitchenDb {
    pool: PgPool,
}

impl KitchenDb {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        Ok(Self {
            pool: crate::open_postgres(url, max_connections, &MIGRATOR).await?,
        })
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        crate::ping(&self.pool).await
    }

    /// Puts the ticket on the board, once.
    pub async fn open(&self, t: &Ticket) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tickets (order_id, product_name, qty, status) VALUES ($1, $2, $3, 'Queued')
             ON CONFLICT (order_id) DO NOTHING",
        )
        .bind(t.order_id.as_str())
        .bind(t.product_name.as_str())
        .bind(t.qty.get() as i32)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Sets a ticket's status; setting the same status again changes nothing.
    pub async fn set_status(&self, order_id: &OrderId, status: OrderStatus) -> Result<(), StoreError> {
        sqlx::query("UPDATE tickets SET status = $2, updated_at = now() WHERE order_id = $1 AND status <> $2")
            .bind(order_id.as_str())
            .bind(status.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A ticket's status, if the order has one.
    pub async fn status(&self, order_id: &OrderId) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT status FROM tickets WHERE order_id = $1")
            .bind(order_id.as_str())
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Gives the oldest unclaimed Queued ticket to `barista`. `SKIP LOCKED` lets any number of
    /// baristas (in any number of kitchen workers) claim at once without taking the same ticket.
    pub async fn claim(&self, barista: &str) -> Result<Option<OrderId>, StoreError> {
        let id: Option<String> = sqlx::query_scalar(
            "UPDATE tickets SET claimed_by = $1, updated_at = now() WHERE order_id = (
                 SELECT order_id FROM tickets WHERE status = 'Queued' AND claimed_by IS NULL
                 ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING order_id",
        )
        .bind(barista)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id.and_then(|id| OrderId::parse(&id).ok()))
    }

    /// Puts one claimed ticket back on the board, if it is still Queued.
    pub async fn release_claim(&self, order_id: &OrderId) -> Result<(), StoreError> {
        sqlx::query("UPDATE tickets SET claimed_by = NULL WHERE order_id = $1 AND status = 'Queued'")
            .bind(order_id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Returns tickets claimed by baristas of a worker that stopped before finishing them.
    pub async fn unclaim_all(&self, barista_prefix: &str) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("UPDATE tickets SET claimed_by = NULL WHERE status = 'Queued' AND claimed_by LIKE $1 || '%'")
                .bind(barista_prefix)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }
}

/// The kitchen's activities (task queue `kitchen`).
pub struct KitchenActivities {
    pub db: KitchenDb,
}

#[activities]
impl KitchenActivities {
    #[activity(definition = domain::definitions::StartProduction)]
    pub async fn start_production(self: Arc<Self>, _ctx: ActivityContext, t: Ticket) -> Result<(), ActivityError> {
        crate::logged("startProduction", &t.order_id, self.db.open(&t).await)?;
        tracing::info!(order_id = %t.order_id, product = %t.product_name, "ticket queued");
        Ok(())
    }

    #[activity(definition = domain::definitions::MoveTicket)]
    pub async fn move_ticket(self: Arc<Self>, _ctx: ActivityContext, m: TicketMove) -> Result<(), ActivityError> {
        crate::logged(
            "moveTicket",
            &m.order_id,
            self.db.set_status(&m.order_id, m.status).await,
        )?;
        tracing::info!(order_id = %m.order_id, status = %m.status, "ticket moved");
        Ok(())
    }

    #[activity(definition = domain::definitions::CancelProduction)]
    pub async fn cancel_production(
        self: Arc<Self>,
        _ctx: ActivityContext,
        order_id: OrderId,
    ) -> Result<(), ActivityError> {
        crate::logged(
            "cancelProduction",
            &order_id,
            self.db.set_status(&order_id, OrderStatus::Canceled).await,
        )?;
        tracing::info!(order_id = %order_id, "ticket withdrawn");
        Ok(())
    }
}
