//! The saga as designed: each step is an activity of the service that owns the data, on that
//! service's task queue, scheduled by a command in the order's history. Nothing changes another
//! service's data before the decision that causes it is recorded: a workflow task lost with its
//! worker or the server loses the decision and its effect together, so nothing needs repairing
//! afterwards.
//!
//! ```text
//! reserveStock (warehouse) ─▶ startProduction (kitchen) ─▶ moveTicket Brewing, Completed (kitchen)
//!        on cancel: cancelProduction (kitchen) ─▶ releaseStock (warehouse)
//! ```

use domain::{
    Compensation, Kitchen, OrderStatus, RejectReason, Reservation, StockLevel, Ticket, TicketMove, Warehouse,
};
use temporalio_sdk::{ActivityExecutionError, WorkflowContext};

use super::{OrderWorkflow, now, publish, wait};
use crate::options;

/// Runs the saga to its end: the order completed, rejected or canceled and compensated.
pub(super) async fn run(ctx: &WorkflowContext<OrderWorkflow>) -> Result<(), ActivityExecutionError> {
    // An order whose request was invalid was rejected on arrival: nothing to do but project it.
    if ctx.state(|s| s.order.status == OrderStatus::Rejected) {
        publish(ctx, OrderStatus::Rejected);
        ctx.state_mut(|s| s.progress.saga_done = true);
        return Ok(());
    }

    // 1. Reserve stock: a synchronous step, production never starts without it. (A cancel signal
    // that came with the order's first task has already canceled it.)
    if ctx.state(|s| s.order.status == OrderStatus::Ordered) {
        match reserve_stock(ctx).await? {
            Ok(level) => record(ctx, |s, at| {
                s.order.unit_price = level.price;
                s.order.stock_was_reserved(at);
                s.stock = Some(level);
            }),
            // A cancel may have won meanwhile; then the order simply stays canceled.
            Err(reason) => record(ctx, |s, at| {
                let _ = s.order.apply(domain::OrderEvent::Rejected(reason), at);
            }),
        }
    }

    // 2. Put a ticket on the kitchen board, unless the order was refused or canceled meanwhile.
    if ctx.state(|s| s.order.status == OrderStatus::StockReserved) {
        let ticket = ctx.state(|s| Ticket {
            order_id: s.order.order_id.clone(),
            shop_id: s.order.shop_id.clone(),
            product_name: s.order.product_name.clone(),
            qty: s.order.qty,
        });
        ctx.execute_activity(Kitchen::start_production, ticket, options::kitchen())
            .await?;
        record(ctx, |s, at| s.order.ticket_was_opened(at));
    }

    // 3. Follow the barista: each command the order accepted moves the ticket on the board, once
    // the task that accepted it is recorded (the activity is scheduled by that task). Compensate
    // if the order gets canceled.
    loop {
        wait(ctx, |s| s.order.status.is_final() || !s.progress.board_moves.is_empty()).await;
        if let Some(status) = ctx.state_mut(|s| s.progress.board_moves.pop_front()) {
            let order_id = ctx.state(|s| s.order.order_id.clone());
            ctx.execute_activity(Kitchen::move_ticket, TicketMove { order_id, status }, options::kitchen())
                .await?;
            let history_length = ctx.history_length();
            ctx.state_mut(|s| s.progress.heard_from_a_step(history_length));
            continue;
        }
        for step in ctx.state(|s| s.order.compensations()) {
            compensate(ctx, step).await?;
        }
        if ctx.state(|s| s.order.status.is_final() && s.progress.board_moves.is_empty()) {
            break;
        }
    }
    ctx.state_mut(|s| s.progress.saga_done = true);
    Ok(())
}

/// `reserveStock`: the stock taken, or the warehouse's business refusal (a non-retryable failure
/// of that type). Only an infrastructure failure is an error, and those are retried for ever.
async fn reserve_stock(
    ctx: &WorkflowContext<OrderWorkflow>,
) -> Result<Result<StockLevel, RejectReason>, ActivityExecutionError> {
    let reservation = ctx.state(|s| Reservation {
        order_id: s.order.order_id.clone(),
        shop_id: s.order.shop_id.clone(),
        product_name: s.order.product_name.clone(),
        qty: s.order.qty,
        order_run: Some(s.order_run.clone()).filter(|r| !r.is_empty()),
    });
    match ctx
        .execute_activity(Warehouse::reserve_stock, reservation, options::warehouse())
        .await
    {
        Ok(level) => Ok(Ok(level)),
        Err(e) => refusal(&e).map(Err).ok_or(e),
    }
}

/// The business refusal carried by a failed `reserveStock`, if that is what it was.
pub(super) fn refusal(e: &ActivityExecutionError) -> Option<RejectReason> {
    match e.cause()? {
        temporalio_common::error::IncomingError::Application(app) => RejectReason::parse(app.type_name()?),
        _ => None,
    }
}

/// Undoes one step the order took, by the activity of the service that took it.
async fn compensate(ctx: &WorkflowContext<OrderWorkflow>, step: Compensation) -> Result<(), ActivityExecutionError> {
    let order_id = ctx.state(|s| s.order.order_id.clone());
    let level = match step {
        Compensation::CancelProduction => {
            ctx.execute_activity(Kitchen::cancel_production, order_id, options::kitchen())
                .await?;
            None
        }
        Compensation::ReleaseStock => {
            ctx.execute_activity(Warehouse::release_stock, order_id, options::warehouse())
                .await?
        }
    };
    record(ctx, |s, _| {
        s.order.compensated(step);
        if level.is_some() {
            s.stock = level;
        }
    });
    Ok(())
}

/// Applies what a step's activity answered, and keeps the `OrderStatus` search attribute current
/// (for the statuses the order's shape publishes).
fn record(ctx: &WorkflowContext<OrderWorkflow>, f: impl FnOnce(&mut OrderWorkflow, String)) {
    let (at, history_length) = (now(ctx.workflow_time()), ctx.history_length());
    let (status, publish_it) = ctx.state_mut(|s| {
        f(s, at);
        s.progress.changed();
        s.progress.heard_from_a_step(history_length);
        let status = s.order.status;
        (status, status != s.progress.published && s.shape.shows(status))
    });
    if publish_it {
        publish(ctx, status);
    }
}
