//! The order's two clocks, beside the saga: a cancellation requested through Temporal, and the
//! kitchen wait limit. Both decide a cancel exactly as the `cancel` command does; the saga then
//! compensates.

use domain::{CancelRequest, KITCHEN_TIMEOUT, OrderEvent, OrderStatus};
use futures::FutureExt;
use temporalio_sdk::{TimerOptions, TimerResult, WorkflowCancellationToken, WorkflowContext, workflows::select};

use super::{OrderWorkflow, decide_from_run, wait};

/// A cancellation requested through Temporal (the Web UI's "Request Cancellation",
/// `temporal workflow cancel`) is the customer's `cancel` command: it cancels the order (and the
/// saga compensates) while that is allowed, and is refused and noted once brewing has begun. Either
/// way the workflow goes on and ends normally with the order's final state.
pub(super) async fn watch_cancellation(ctx: &WorkflowContext<OrderWorkflow>) {
    select! {
        reason = ctx.cancelled() => {
            let request = CancelRequest {
                reason: Some(match reason.as_deref().map(str::trim) {
                    Some(r) if !r.is_empty() => format!("canceled through Temporal: {r}"),
                    _ => "canceled through Temporal".to_owned(),
                }),
            };
            decide_from_run(ctx, "cancel (Temporal)", OrderEvent::Canceled { reason: request.reason() });
        }
        _ = wait(ctx, |s| s.progress.saga_done).fuse() => {}
    };
}

/// The kitchen wait limit: a Queued order that no barista starts within its limit is canceled
/// with reason `KitchenTimeout` (and compensated by the saga, as any cancel). A durable timer, so
/// it holds across worker restarts and shows in the order's history. When a barista (or a cancel)
/// comes first the timer is left to end with the workflow: canceling it would cost an event, and
/// if it fires first nobody waits for it and its task changes nothing.
pub(super) async fn kitchen_clock(ctx: &WorkflowContext<OrderWorkflow>) {
    wait(ctx, |s| {
        s.order.status == OrderStatus::Queued || s.order.status.is_final()
    })
    .await;
    let Some(limit) = ctx.state(|s| s.kitchen_max_wait) else {
        return;
    };
    if ctx.state(|s| s.order.status != OrderStatus::Queued) {
        return;
    }
    // Detached from Temporal's cancellation request, which is a command (above), not the end of
    // the clock.
    let mut timer = ctx.timer(
        TimerOptions::builder(limit)
            .cancellation_token(WorkflowCancellationToken::new())
            .summary("kitchen wait limit".to_owned())
            .build(),
    );
    let fired = select! {
        result = timer => result == TimerResult::Fired,
        _ = wait(ctx, |s| s.order.status != OrderStatus::Queued).fuse() => false
    };
    if fired {
        let reason = KITCHEN_TIMEOUT.to_owned();
        decide_from_run(ctx, "kitchen wait limit", OrderEvent::Canceled { reason });
    }
}
