//! The kitchen: production tickets, i.e. the kitchen board as the kitchen itself keeps it.

use std::sync::Arc;
use std::time::Duration;

use domain::{OrderId, OrderStatus, Ticket, TicketMove};
use sqlx::PgPool;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use tokio::sync::Notify;

use crate::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("src/kitchen/migrations");

/// The statuses a ticket may move to `to` from, as the board's column holds them.
fn board_moves_into(to: OrderStatus) -> Vec<&'static str> {
    OrderStatus::board_moves_into(to).into_iter().map(OrderStatus::as_str).collect()
}

/// The kitchen's store.
#[derive(Clone, Debug)]
pub struct KitchenDb {
    pool: PgPool,
    opened: Arc<Notify>,
}

impl KitchenDb {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        Ok(Self {
            pool: platform::postgres::open(url, max_connections, &MIGRATOR).await?,
            opened: Arc::default(),
        })
    }

    /// Signalled once for each ticket this process puts on the board (`startProduction`), so that
    /// an idle barista of this process takes it at once rather than at its next look at the board.
    pub fn ticket_opened(&self) -> &Notify {
        &self.opened
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        crate::ping(&self.pool).await
    }

    /// Puts the ticket on the board, once.
    #[tracing::instrument(name = "db.open_ticket", skip_all, fields(order_id = %t.order_id))]
    pub async fn open(&self, t: &Ticket) -> Result<(), StoreError> {
        let opened = sqlx::query(
            "INSERT INTO tickets (order_id, shop_id, product_name, qty, status, trace_parent)
             VALUES ($1, $2, $3, $4, 'Queued', $5)
             ON CONFLICT (order_id) DO NOTHING",
        )
        .bind(t.order_id.as_str())
        .bind(t.shop_id.as_str())
        .bind(t.product_name.as_str())
        .bind(t.qty.get() as i32)
        .bind(platform::telemetry::traceparent())
        .execute(&self.pool)
        .await?;
        tracing::info!(order_id = %t.order_id, shop = %t.shop_id, product = %t.product_name, "ticket queued");
        if opened.rows_affected() == 1 {
            self.opened.notify_one();
        }
        Ok(())
    }

    /// Moves a ticket forward on the board, once the order has accepted the barista's command.
    /// Only a move the order's rules allow from where the ticket is now takes effect
    /// ([`OrderStatus::board_moves_into`]), so a late or repeated attempt (a
    /// `moveTicket(Brewing)` arriving after `Completed`) changes nothing.
    #[tracing::instrument(name = "db.move_ticket", skip_all, fields(order_id = %order_id, status = %status))]
    pub async fn set_status(&self, order_id: &OrderId, status: OrderStatus) -> Result<(), StoreError> {
        sqlx::query("UPDATE tickets SET status = $2, updated_at = now() WHERE order_id = $1 AND status = ANY($3)")
            .bind(order_id.as_str())
            .bind(status.as_str())
            .bind(board_moves_into(status))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Withdraws a ticket (a move to Canceled, where the order's rules allow it); when the ticket
    /// has not reached the board yet, leaves a Canceled one in its place so that the late
    /// `startProduction` finds it and puts nothing on the board.
    #[tracing::instrument(name = "db.withdraw_ticket", skip_all, fields(order_id = %order_id))]
    pub async fn withdraw(&self, order_id: &OrderId) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tickets (order_id, status) VALUES ($1, 'Canceled')
             ON CONFLICT (order_id) DO UPDATE SET status = 'Canceled', updated_at = now()
             WHERE tickets.status = ANY($2)",
        )
        .bind(order_id.as_str())
        .bind(board_moves_into(OrderStatus::Canceled))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes at most `batch` tickets that ended (Completed or Canceled) more than `age` ago;
    /// returns how many went. Tickets on the board stay, however old.
    pub async fn prune(&self, age: Duration, batch: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "DELETE FROM tickets WHERE order_id IN (
                 SELECT order_id FROM tickets
                 WHERE status IN ('Completed', 'Canceled') AND updated_at < now() - $1 * interval '1 millisecond'
                 LIMIT $2)",
        )
        .bind(age.as_millis() as i64)
        .bind(batch)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// A ticket's status, if the order has one.
    pub async fn status(&self, order_id: &OrderId) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT status FROM tickets WHERE order_id = $1")
            .bind(order_id.as_str())
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Gives `barista` the oldest ticket it may take, leased for `lease`: a Queued ticket nobody
    /// holds, or one (Queued or Brewing) whose automatic barista let its lease run out, i.e. died.
    /// `SKIP LOCKED` lets any number of baristas (in any number of kitchen workers) claim at once
    /// without taking the same ticket. Tickets a person started (Brewing, never claimed) are left
    /// to that person.
    pub async fn claim(&self, barista: &str, lease: Duration) -> Result<Option<Claimed>, StoreError> {
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "UPDATE tickets SET claimed_by = $1, lease_until = now() + $2 * interval '1 millisecond',
                 updated_at = now()
             WHERE order_id = (
                 SELECT order_id FROM tickets
                 WHERE (status = 'Queued' AND (lease_until IS NULL OR lease_until < now()))
                    OR (status = 'Brewing' AND claimed_by IS NOT NULL AND lease_until < now())
                 ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING order_id, status, trace_parent",
        )
        .bind(barista)
        .bind(lease.as_millis() as f64)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(claimed))
    }

    /// Extends `barista`'s lease on a ticket; `false` if the barista no longer holds it.
    pub async fn renew(&self, order_id: &OrderId, barista: &str, lease: Duration) -> Result<bool, StoreError> {
        let renewed = sqlx::query(
            "UPDATE tickets SET lease_until = now() + $3 * interval '1 millisecond'
             WHERE order_id = $1 AND claimed_by = $2",
        )
        .bind(order_id.as_str())
        .bind(barista)
        .bind(lease.as_millis() as f64)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(renewed == 1)
    }

    /// Lets go of a ticket `barista` holds. `retry_after` keeps any barista from taking it again
    /// for that long (a start the workflow refused now may be allowed a moment later).
    pub async fn release_claim(
        &self,
        order_id: &OrderId,
        barista: &str,
        retry_after: Duration,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE tickets SET claimed_by = NULL, lease_until = now() + $3 * interval '1 millisecond'
             WHERE order_id = $1 AND claimed_by = $2",
        )
        .bind(order_id.as_str())
        .bind(barista)
        .bind(retry_after.as_millis() as f64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Returns the unstarted tickets claimed by baristas of a worker that is stopping cleanly, so
    /// others take them at once instead of after the lease.
    pub async fn unclaim_all(&self, barista_prefix: &str) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE tickets SET claimed_by = NULL, lease_until = NULL
             WHERE status = 'Queued' AND claimed_by LIKE $1 || '%'",
        )
        .bind(barista_prefix)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }
}

fn claimed((id, status, trace_parent): (String, String, Option<String>)) -> Option<Claimed> {
    Some(Claimed {
        order_id: OrderId::parse(&id).ok()?,
        status: OrderStatus::parse(&status)?,
        trace_parent,
    })
}

/// A ticket an automatic barista has claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub order_id: OrderId,
    /// Where the ticket is on the board: Queued; or Brewing, when a barista that died mid-brew
    /// started it (the new one only finishes it).
    pub status: OrderStatus,
    /// The order's trace (`traceparent`), when traces were on as the ticket was opened.
    pub trace_parent: Option<String>,
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
        crate::logged("cancelProduction", &order_id, self.db.withdraw(&order_id).await)?;
        tracing::info!(order_id = %order_id, "ticket withdrawn");
        Ok(())
    }
}
