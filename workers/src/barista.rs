//! Automatic baristas (`KITCHEN_AUTO_BARISTAS`, `KITCHEN_BREW_MS`): they take the oldest Queued
//! ticket, start brewing, wait the brew time and complete it, through exactly the workflow updates
//! a person would send, so demos and load tests need nobody at the counter.

use std::time::Duration;

use activities::kitchen::{Claimed, KitchenDb};
use domain::{OrderId, OrderStatus};
use order_commands::{BaristaStep, CommandError, OrderCommands};
use temporalio_client::Client;
use tokio::sync::watch;
use tracing::Instrument as _;

/// How long an idle barista waits before looking at the board again, unless this process puts a
/// ticket on the board first (then one idle barista is woken at once). The look finds what no
/// wake-up announces: tickets opened by another kitchen replica, claims that ran out, tickets
/// handed back after a refused start.
const IDLE_POLL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct Baristas {
    pub count: usize,
    pub brew: Duration,
}

impl Baristas {
    /// Runs the baristas until `stop` turns true; a barista finishes the order in its hands first.
    pub async fn run(self, db: KitchenDb, client: Client, stop: watch::Receiver<bool>) {
        let orders = OrderCommands::new(client);
        if self.count == 0 {
            return;
        }
        // Names unique to this process (a process id is not: every container is pid 1), so that a
        // clean stop hands back exactly this process's unstarted tickets.
        let prefix = format!("auto-{}-", &uuid::Uuid::now_v7().simple().to_string()[20..]);
        tracing::info!(
            count = self.count,
            brew_ms = self.brew.as_millis() as u64,
            lease_ms = LEASE.as_millis() as u64,
            "automatic baristas at work"
        );
        let mut crew = tokio::task::JoinSet::new();
        for i in 0..self.count {
            let name = format!("{prefix}{i}");
            crew.spawn(work(name, self.brew, db.clone(), orders.clone(), stop.clone()));
        }
        while crew.join_next().await.is_some() {}
        if let Ok(n) = db.unclaim_all(&prefix).await
            && n > 0
        {
            tracing::info!(tickets = n, "handed unstarted tickets back to the board");
        }
    }
}

/// How long a claim on a ticket holds without renewal. A barista renews it every third of that
/// while it brews; one that died stops renewing, and its ticket goes to a live barista after this.
pub const LEASE: Duration = Duration::from_secs(10);

/// How long a ticket whose start the workflow refused stays off the board for every barista: the
/// order was canceled and the ticket is about to be withdrawn. (A ticket that reaches the board a
/// moment before the workflow hears of it is no reason: the workflow takes that start and
/// answers it once it has.)
const REFUSED_BACKOFF: Duration = Duration::from_millis(500);

async fn work(name: String, brew: Duration, db: KitchenDb, orders: OrderCommands, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        let claimed = match db.claim(&name, LEASE).await {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(barista = %name, error = %e, "cannot read the kitchen board");
                None
            }
        };
        let Some(Claimed { order_id, status, trace_parent }) = claimed else {
            tokio::select! {
                _ = tokio::time::sleep(IDLE_POLL) => {},
                _ = db.ticket_opened().notified() => {},
                _ = stop.changed() => {},
            }
            continue;
        };
        // The barista's work on the order is part of the order's trace.
        let span = tracing::info_span!("barista", barista = %name, order_id = %order_id);
        platform::telemetry::continue_trace_from(&span, trace_parent.as_deref());
        make(&name, brew, &db, &orders, order_id, status).instrument(span).await;
    }
}

/// One order through a barista's hands: start brewing (unless a barista before it did), brew,
/// complete, let go of the ticket.
async fn make(name: &str, brew: Duration, db: &KitchenDb, orders: &OrderCommands, order_id: OrderId, status: OrderStatus) {
    if status == OrderStatus::Brewing {
        tracing::info!(barista = %name, order_id = %order_id, "taking over a ticket whose barista stopped renewing its claim");
    } else if !send(orders, &order_id, BaristaStep::Start).await {
        // Refused. An order that is already Brewing while its ticket still reads Queued was
        // started by a barista whose claim ran out (it died between the order's answer and the
        // kitchen's move): finish it, or nobody will — once the ticket reads Brewing with no
        // claim it looks like a person's. Anything else goes back on the board for a later look.
        if !workflow_says(orders, &order_id, OrderStatus::Brewing).await {
            if let Err(e) = db.release_claim(&order_id, name, REFUSED_BACKOFF).await {
                tracing::warn!(order_id = %order_id, error = %e, "cannot put the ticket back");
            }
            return;
        }
        tracing::info!(barista = %name, order_id = %order_id, "taking over an order already brewing");
    }
    brew_renewing(db, name, &order_id, brew).await;
    send(orders, &order_id, BaristaStep::Complete).await;
    // Let go of the ticket: the order took the completion, or someone else finished it, or it was
    // canceled; the kitchen's `moveTicket` has moved (or will move) the ticket itself.
    if let Err(e) = db.release_claim(&order_id, name, Duration::ZERO).await {
        tracing::warn!(order_id = %order_id, error = %e, "cannot let go of the ticket");
    }
}

/// Whether the order's workflow says it is in `status` right now.
async fn workflow_says(orders: &OrderCommands, order_id: &OrderId, status: OrderStatus) -> bool {
    matches!(orders.status(order_id).await, Ok(order) if order.status == status)
}

/// Brews for `brew`, renewing the claim on the ticket meanwhile so no other barista takes it.
async fn brew_renewing(db: &KitchenDb, name: &str, order_id: &OrderId, brew: Duration) {
    let done = tokio::time::sleep(brew);
    tokio::pin!(done);
    let mut renew = tokio::time::interval(LEASE / 3);
    renew.tick().await;
    loop {
        tokio::select! {
            _ = &mut done => return,
            _ = renew.tick() => {
                if let Err(e) = db.renew(order_id, name, LEASE).await {
                    tracing::warn!(order_id = %order_id, error = %e, "cannot renew the claim on the ticket");
                }
            }
        }
    }
}

/// Sends one barista command, retrying while Temporal is unavailable. `false` when the workflow
/// refused it (the order was canceled first, say) or is gone: a normal outcome, not an error.
async fn send(orders: &OrderCommands, order_id: &OrderId, step: BaristaStep) -> bool {
    let mut delay = Duration::from_millis(100);
    loop {
        match orders.barista(order_id, step).await {
            Ok(order) => {
                tracing::info!(order_id = %order_id, status = %order.status, "barista");
                return true;
            }
            Err(CommandError::Refused(why)) => {
                tracing::info!(order_id = %order_id, step = ?step, refused = %why, "barista skipped the ticket");
                return false;
            }
            Err(CommandError::NotFound(_)) => return false,
            Err(e @ CommandError::Unavailable { .. }) => {
                tracing::warn!(order_id = %order_id, error = %e, "barista cannot reach Temporal; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
}
