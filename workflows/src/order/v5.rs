//! The order as the v5 code ran it, kept only until the orders it started have drained (then this
//! file goes; see docs/workflow-versioning.md). Do not change it: every command it issues must
//! match the histories of orders still running.
//!
//! Its steps were handed to their owners by local activities of the cafe worker inside the
//! order's workflow tasks, with the durable activities as the fallback. The cafe worker no
//! longer has those local activities: each attempt now fails at once (not registered), and the
//! order takes the durable fallback, `reserveStock`, `startProduction`, `moveTicket` or
//! `projectOrder` (still served on the customercenter queue for these orders).

use domain::{
    CustomerCenter, Kitchen, Order, OrderEvent, OrderProjection, OrderStatus, RejectReason, Reservation,
    StockLevel, Ticket, TicketMove, Warehouse, search_attributes::ORDER_STATUS,
};
use serde::{Deserialize, Serialize};
use temporalio_common::{ActivityDefinition, ActivityError};
use temporalio_macros::activity_definitions;
use temporalio_sdk::{ActivityExecutionError, WorkflowContext, WorkflowResult, workflows::join};

use super::{OrderWorkflow, clocks, now, publish, saga::refusal, wait};
use crate::options;

/// The marker every v5 order carries (it implied the earlier `local-projections` and
/// `kitchen-max-wait` patches, retired with their v1–v4 branches).
const HAND_OVER_SAGA_PATCH: &str = "hand-over-saga";

/// The move to Completed handed over too; asked for at that move only.
const HAND_OVER_COMPLETION_PATCH: &str = "hand-over-completion";

/// The cafe worker's retired local activities (names only: their markers are in v5 histories).
struct Cafe;

#[activity_definitions]
impl Cafe {
    #[activity(name = "handOverProjection")]
    fn hand_over_projection(_: OrderProjection) -> Result<(), ActivityError> {
        unimplemented!()
    }

    #[activity(name = "handOverReservation")]
    fn hand_over_reservation(_: Reservation) -> Result<ReservationOutcome, ActivityError> {
        unimplemented!()
    }

    #[activity(name = "handOverTicket")]
    fn hand_over_ticket(_: Ticket) -> Result<(), ActivityError> {
        unimplemented!()
    }

    #[activity(name = "handOverMove")]
    fn hand_over_move(_: TicketMove) -> Result<(), ActivityError> {
        unimplemented!()
    }
}

/// What the warehouse answered a handed-over reservation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
enum ReservationOutcome {
    Reserved { level: StockLevel },
    Refused { reason: RejectReason },
}

pub(super) async fn run(ctx: &mut WorkflowContext<OrderWorkflow>) -> WorkflowResult<Order> {
    let _ = ctx.patched(HAND_OVER_SAGA_PATCH);
    let (saga, projector, watcher, clock) = (ctx.clone(), ctx.clone(), ctx.clone(), ctx.clone());
    let (saga_result, (), (), ()) = join!(
        run_saga(&saga),
        run_projector(&projector),
        clocks::watch_cancellation(&watcher),
        clocks::kitchen_clock(&clock)
    );
    saga_result?;
    Ok(ctx.state(|s| s.order.clone()))
}

/// Applies a step the saga observed; while the saga is settling, the status is published when it
/// settles, not now.
fn record(ctx: &WorkflowContext<OrderWorkflow>, f: impl FnOnce(&mut OrderWorkflow, String)) {
    let at = now(ctx.workflow_time());
    let (status, settling) = ctx.state_mut(|s| {
        f(s, at);
        s.changed();
        (s.order.status, s.settling)
    });
    if !settling {
        publish(ctx, status);
    }
}

/// Ends the hand-over phase: the status reached is published if it is not already.
fn settle(ctx: &WorkflowContext<OrderWorkflow>) {
    let unpublished = ctx.state_mut(|s| {
        let was_settling = std::mem::replace(&mut s.settling, false);
        (was_settling && s.published != s.order.status).then_some(s.order.status)
    });
    if let Some(status) = unpublished {
        publish(ctx, status);
    }
}

async fn run_saga(ctx: &WorkflowContext<OrderWorkflow>) -> Result<(), ActivityExecutionError> {
    let (order_id, reservation) = ctx.state(|s| {
        let o = &s.order;
        (
            o.order_id.clone(),
            Reservation {
                order_id: o.order_id.clone(),
                product_name: o.product_name.clone(),
                qty: o.qty,
                order_run: Some(s.order_run.clone()).filter(|r| !r.is_empty()),
            },
        )
    });
    let ticket = Ticket {
        order_id: order_id.clone(),
        product_name: reservation.product_name.clone(),
        qty: reservation.qty,
    };
    let status = ctx.state(|s| s.order.status);
    if status == OrderStatus::Rejected {
        ctx.upsert_search_attributes([ORDER_STATUS.value_set(OrderStatus::Rejected.to_string())]);
        ctx.state_mut(|s| s.saga_done = true);
        return Ok(());
    }
    ctx.state_mut(|s| s.settling = true);
    if status != OrderStatus::Canceled {
        match reserve(ctx, reservation).await? {
            ReservationOutcome::Reserved { level } => record(ctx, |s, at| {
                s.order.stock_was_reserved(at);
                s.stock = Some(level);
            }),
            ReservationOutcome::Refused { reason } => record(ctx, |s, at| {
                let _ = s.order.apply(OrderEvent::Rejected(reason), at);
            }),
        }
    }
    if ctx.state(|s| s.order.status == OrderStatus::StockReserved) {
        if handed_over(ctx, true, Cafe::hand_over_ticket, ticket.clone())
            .await
            .is_none()
        {
            settle(ctx);
            ctx.execute_activity(Kitchen::start_production, ticket, options::kitchen())
                .await?;
        }
        record(ctx, |s, at| s.order.ticket_was_opened(at));
    }
    // A cancel before Queued undoes both steps: a lost task may have done them.
    ctx.state_mut(|s| {
        if s.order.status == OrderStatus::Canceled {
            s.order.stock_reserved = true;
            s.order.ticket_open = true;
        }
    });
    settle(ctx);

    loop {
        wait(ctx, |s| s.order.status.is_final() || !s.board_moves.is_empty()).await;
        if let Some(status) = ctx.state_mut(|s| s.board_moves.pop_front()) {
            let step = TicketMove {
                order_id: order_id.clone(),
                status,
            };
            let hand_over_move = match status {
                OrderStatus::Brewing => true,
                _ => ctx.patched(HAND_OVER_COMPLETION_PATCH),
            };
            if handed_over(ctx, hand_over_move, Cafe::hand_over_move, step.clone())
                .await
                .is_none()
            {
                ctx.execute_activity(Kitchen::move_ticket, step, options::kitchen())
                    .await?;
            }
            continue;
        }
        for step in ctx.state(|s| s.order.compensations()) {
            compensate(ctx, &order_id, step).await?;
        }
        if ctx.state(|s| s.order.status.is_final() && s.board_moves.is_empty()) {
            break;
        }
    }
    ctx.state_mut(|s| s.saga_done = true);
    Ok(())
}

async fn compensate(
    ctx: &WorkflowContext<OrderWorkflow>,
    order_id: &domain::OrderId,
    step: domain::Compensation,
) -> Result<(), ActivityExecutionError> {
    match step {
        domain::Compensation::CancelProduction => {
            ctx.execute_activity(Kitchen::cancel_production, order_id.clone(), options::kitchen())
                .await?;
            record(ctx, |s, _| s.order.compensated(step));
        }
        domain::Compensation::ReleaseStock => {
            let level = ctx
                .execute_activity(Warehouse::release_stock, order_id.clone(), options::warehouse())
                .await?;
            record(ctx, |s, _| {
                s.order.compensated(step);
                if level.is_some() {
                    s.stock = level;
                }
            });
        }
    }
    Ok(())
}

async fn reserve(
    ctx: &WorkflowContext<OrderWorkflow>,
    reservation: Reservation,
) -> Result<ReservationOutcome, ActivityExecutionError> {
    if let Some(outcome) = handed_over(ctx, true, Cafe::hand_over_reservation, reservation.clone()).await {
        return Ok(outcome);
    }
    settle(ctx);
    match ctx
        .execute_activity(Warehouse::reserve_stock, reservation, options::warehouse())
        .await
    {
        Ok(level) => Ok(ReservationOutcome::Reserved { level }),
        Err(e) => match refusal(&e) {
            Some(reason) => Ok(ReservationOutcome::Refused { reason }),
            None => Err(e),
        },
    }
}

async fn handed_over<AD: ActivityDefinition>(
    ctx: &WorkflowContext<OrderWorkflow>,
    enabled: bool,
    hand_over: AD,
    step: AD::Input,
) -> Option<AD::Output> {
    if !enabled {
        return None;
    }
    ctx.execute_local_activity(hand_over, step, options::hand_over())
        .await
        .ok()
}

async fn run_projector(ctx: &WorkflowContext<OrderWorkflow>) {
    loop {
        wait(ctx, |s| (s.projected < s.revision && !s.settling) || s.saga_done).await;
        let at_event = u64::from(ctx.history_length());
        let (revision, projection) = ctx.state(|s| {
            (
                s.revision,
                OrderProjection {
                    order: s.order.clone(),
                    stock: s.stock.clone(),
                    at_event,
                },
            )
        });
        if ctx.state(|s| s.projected >= revision && s.saga_done) {
            return;
        }
        if handed_over(ctx, true, Cafe::hand_over_projection, projection.clone())
            .await
            .is_none()
        {
            let _ = ctx
                .execute_activity(CustomerCenter::project_order, projection, options::customercenter())
                .await;
        }
        ctx.state_mut(|s| s.projected = revision);
    }
}
