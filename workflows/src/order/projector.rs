//! The projector: keeps the customercenter's view (CQRS) current with the order's recorded state.
//!
//! Whenever the order changed, it sends the latest state with the `projectOrder` local activity,
//! which the cafe worker runs by handing the projection to the customercenter's ingest route: one
//! marker in the history, no task of its own, retried until it lands (with a durable timer
//! between attempts once the view has been away for a while, so the order's workflow tasks are
//! not held up meanwhile). One projection at a time and always the newest, so a slow or stopped
//! view never holds up the saga and quick changes collapse into one write.
//!
//! A projection never shows a decision before it is recorded: a change an update made is sent
//! from a later workflow task than the one that accepted the update. Usually that task comes
//! anyway: the accepted command makes the saga schedule a step, and the step's completion brings
//! it. When the saga ends in the task that accepted the update, nothing follows, and a 1 ms timer
//! brings the later task. (What the projector waits for is workflow state only, never the
//! history's length read in a condition: a condition is re-checked when something wakes it, and a
//! query wakes it in a live task but not in replay.)
//!
//! A lean order does not project `StockReserved` on its own: it lasts one step, and the next
//! projection carries it in the order's history.
//! Projections carry the history's length (`atEvent`), and the view keeps the projection with the
//! highest `(atEvent, seq)`.

use std::time::Duration;

use domain::{CustomerCenter, OrderProjection};
use temporalio_sdk::WorkflowContext;

use super::{OrderWorkflow, wait};
use crate::options;

pub(super) async fn run(ctx: &WorkflowContext<OrderWorkflow>) {
    loop {
        wait(ctx, |s| {
            (s.progress.view_behind() && s.shape.shows(s.order.status)) || s.progress.saga_done
        })
        .await;
        if ctx.state(|s| s.progress.saga_done && s.progress.has_unrecorded_command()) {
            // The saga ended in the very task that accepted an update (a cancel that met the
            // warehouse's refusal, say): no step follows to bring a later task, so a timer does.
            ctx.timer(Duration::from_millis(1)).await;
            ctx.state_mut(|s| s.progress.all_recorded());
        }
        let at_event = u64::from(ctx.history_length());
        let (revision, projection, done) = ctx.state(|s| {
            let projection = OrderProjection {
                order: s.order.clone(),
                stock: s.stock.clone(),
                at_event,
            };
            (s.progress.revision(), projection, s.progress.finished())
        });
        if done {
            return;
        }
        // An error means the projection itself is unusable (the view refused it for good); a
        // newer one supersedes it.
        let _ = ctx
            .execute_local_activity(CustomerCenter::project_order, projection, options::projection())
            .await;
        ctx.state_mut(|s| s.progress.projected(revision));
    }
}
