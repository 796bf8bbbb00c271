//! The kitchen's check that every move on its board reached the order.
//!
//! A ticket moves to Brewing or Completed inside the workflow task that accepts the barista's
//! command (the cafe worker hands the move over), before that task is recorded. When the task is
//! lost with the Temporal server, the board is a step ahead of the order, and the barista was told
//! the command failed: a page sends it again, but a REST client may give up, a page may be closed,
//! and everyone who looks at the board (or the view) sees the step as done. So the kitchen marks
//! each such move until someone hears the order take it (an automatic barista hears its own
//! answers; when it dies first, its claim runs out and the move is the kitchen's to check), and
//! asks the order's workflow about a move nobody heard within [`GRACE`]: when the
//! order lags its ticket, the kitchen sends the barista's command again, as the barista would.

use std::time::Duration;

use activities::kitchen::{Claimed, KitchenDb};
use domain::OrderStatus;
use order_commands::{CommandError, OrderCommands};
use temporalio_client::Client;
use tokio::sync::watch;

use crate::barista::Step;

/// How long a move may go unheard before the kitchen asks the order: longer than a workflow task
/// that is not lost takes to be recorded under load, so the check rarely finds anything to do.
pub const GRACE: Duration = Duration::from_secs(10);

/// How often the kitchen looks for unheard moves.
const EVERY: Duration = Duration::from_secs(2);

/// How long one ticket's check may take (a query, up to two commands).
const ASK_FOR: Duration = Duration::from_secs(5);

/// How many tickets one look takes at most.
const BATCH: i64 = 32;

/// Checks unheard moves until `stop` turns true.
pub async fn run(db: KitchenDb, client: Client, mut stop: watch::Receiver<bool>) {
    let orders = OrderCommands::new(client);
    while !*stop.borrow() {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {},
            changed = stop.changed() => match changed {
                Ok(()) => continue,
                Err(_) => return,
            },
        }
        let due = match db.unheard_moves(GRACE, BATCH).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the kitchen board for unheard moves");
                continue;
            }
        };
        for ticket in due {
            // A check waits on the order's workflow (the cafe worker answers the query); one that
            // takes too long is given up and made again at the next look, so a stop is not held up.
            let checked = tokio::time::timeout(ASK_FOR, check(&orders, &ticket)).await;
            if checked == Ok(true)
                && let Err(e) = db.heard(&ticket.order_id, ticket.status).await
            {
                tracing::warn!(order_id = %ticket.order_id, error = %e, "cannot note the move as heard");
            }
        }
    }
}

/// Brings the order up to its ticket if it lags. `true` once the order has the ticket's step (or
/// went another way: canceled, gone); `false` when Temporal or the cafe worker could not be asked,
/// and the ticket is looked at again after [`GRACE`].
async fn check(orders: &OrderCommands, ticket: &Claimed) -> bool {
    let Claimed { order_id, status } = ticket;
    let now = match orders.status(order_id).await {
        Ok(order) => order.status,
        Err(CommandError::NotFound(_)) => return true,
        Err(e) => {
            tracing::warn!(order_id = %order_id, error = %e, "cannot ask the order about its ticket's move");
            return false;
        }
    };
    let steps: &[Step] = match (status, now) {
        (OrderStatus::Brewing, OrderStatus::Queued) => &[Step::Start],
        (OrderStatus::Completed, OrderStatus::Queued) => &[Step::Start, Step::Complete],
        (OrderStatus::Completed, OrderStatus::Brewing) => &[Step::Complete],
        _ => &[],
    };
    for step in steps {
        tracing::info!(order_id = %order_id, ticket = %status, order = %now, step = ?step,
            "the order lags its ticket (the task that moved the ticket was lost): sending the barista's command again");
        match step.once(orders, order_id).await {
            Ok(_) => {}
            Err(CommandError::Refused(why)) => {
                tracing::info!(order_id = %order_id, refused = %why, "the order went another way meanwhile");
                return true;
            }
            Err(CommandError::NotFound(_)) => return true,
            Err(e) => {
                tracing::warn!(order_id = %order_id, error = %e, "cannot send the command again yet");
                return false;
            }
        }
    }
    true
}
