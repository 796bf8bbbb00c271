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
//! from a later workflow task than the one that accepted the update. There always is one, since
//! every accepted command makes the saga schedule (or wait on) a step whose completion brings it.
//! (What the projector waits for is workflow state only, never the history's length read in a
//! condition: a condition is re-checked when something wakes it, and a query wakes it in a live
//! task but not in replay.)
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
            (s.projected < s.revision && s.unrecorded_command.is_none()) || s.saga_done
        })
        .await;
        if ctx.state(|s| s.saga_done && s.unrecorded_command.is_some()) {
            // The saga ended in the very task that accepted an update (a cancel that met the
            // warehouse's refusal, say): no step follows to bring a later task, so a timer does.
            ctx.timer(Duration::from_millis(1)).await;
            ctx.state_mut(|s| s.unrecorded_command = None);
        }
        let at_event = u64::from(ctx.history_length());
        let (revision, projection, done) = ctx.state(|s| {
            let projection = OrderProjection {
                order: s.order.clone(),
                stock: s.stock.clone(),
                at_event,
            };
            (s.revision, projection, s.saga_done && s.projected >= s.revision)
        });
        if done {
            return;
        }
        // An error means the projection itself is unusable (the view refused it for good); a
        // newer one supersedes it.
        let _ = ctx
            .execute_local_activity(CustomerCenter::project_order, projection, options::projection())
            .await;
        ctx.state_mut(|s| s.projected = revision);
    }
}
