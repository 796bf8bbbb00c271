//! `OrderWorkflow`: one order's whole life, the single writer of its status.
//!
//! Four tasks run side by side (the SDK's deterministic `join!`):
//! - the **saga**: reserve stock (warehouse) → put a ticket on the board (kitchen) → wait for the
//!   barista or a cancel → on cancel, compensate in reverse (withdraw the ticket, release the
//!   stock); every step is retried until it succeeds. The first two steps are handed to their
//!   owners by local activities inside the order's first workflow task, and each move of the
//!   ticket inside the task that accepts the barista's command, with the durable activities as
//!   the fallback (see [`HAND_OVER_SAGA_PATCH`] and [`HAND_OVER_COMPLETION_PATCH`]);
//! - the **projector**: whenever the order changed, send its latest state to the customercenter
//!   view. It sends one projection at a time and always the newest state, so a slow or stopped
//!   view never holds the saga up and several quick changes collapse into one write. Each is
//!   first handed to the customercenter by a local activity inside the workflow task (one marker
//!   event); only when that fails does it go through the durable `projectOrder` activity;
//! - the **cancellation watch**: a cancellation requested through Temporal is the `cancel` command;
//! - the **kitchen clock**: a Queued order no barista starts within its limit is canceled
//!   (`KitchenTimeout`), behind `patched()` (see docs/workflow-versioning.md).
//!
//! Commands from outside (cancel, the barista's start and complete) arrive as updates, which are
//! validated against the current state and refused with a clear message, or as signals, which are
//! applied when valid and otherwise noted in the order's `ignored` list. Temporal delivers them one
//! at a time, so a cancel racing a barista's start has exactly one winner.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use futures::FutureExt;

use domain::{
    Cafe, CancelRequest, Compensation, CustomerCenter, KITCHEN_TIMEOUT, Kitchen, KitchenWait, Order, OrderEvent,
    OrderId, OrderProjection, OrderRequest, OrderStatus, RejectReason, Reservation, ReservationOutcome, StockLevel,
    Ticket, TicketMove, TransitionRefused, Warehouse, search_attributes, timestamp,
};
use temporalio_common::ActivityDefinition;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityExecutionError, SyncWorkflowContext, TimerOptions, TimerResult, WaitConditionOptions,
    WorkflowCancellationToken, WorkflowContext, WorkflowContextView, WorkflowResult,
    workflows::{join, select},
};

use crate::options;

use search_attributes::ORDER_STATUS;

type Refusal = Box<dyn std::error::Error + Send + Sync>;

#[workflow]
pub struct OrderWorkflow {
    order: Order,
    /// The latest stock level this order's steps produced, for the view.
    stock: Option<StockLevel>,
    /// Grows with every change the view should see; `projected` is how far the view has got.
    revision: u64,
    projected: u64,
    /// Kitchen board moves decided by the barista's commands, not yet told to the kitchen.
    board_moves: VecDeque<OrderStatus>,
    saga_done: bool,
    /// The first run id of this workflow (kept across resets): who a reservation belongs to.
    order_run: String,
    /// How long the order may wait Queued for a barista (`None`: no limit).
    kitchen_max_wait: Option<Duration>,
    /// This order hands its first saga steps over ([`HAND_OVER_SAGA_PATCH`]).
    saga_handed_over: bool,
    /// The saga is handing its first steps over inside this workflow task: the order's status is
    /// published (search attribute, projection) once they are done, not at every step.
    settling: bool,
    /// The `OrderStatus` search attribute as last set.
    published: OrderStatus,
}

/// The `patched()` id of projections handed to the customercenter by a local activity (the
/// durable `projectOrder` as the fallback) instead of a `projectOrder` activity each.
const LOCAL_PROJECTIONS_PATCH: &str = "local-projections";

/// The `patched()` id of the saga's steps handed over by local activities: the reservation to the
/// warehouse, the ticket and its move to Brewing to the kitchen (their durable activities as the
/// fallback), the order published once the first two are done. It implies [`LOCAL_PROJECTIONS_PATCH`] and
/// [`KITCHEN_WAIT_PATCH`]: an order with this marker asks for neither (one marker and one
/// `TemporalChangeVersion` upsert instead of two of each). See docs/workflow-versioning.md.
const HAND_OVER_SAGA_PATCH: &str = "hand-over-saga";

/// The `patched()` id of the ticket's move to Completed handed over too (by a local activity,
/// `moveTicket` as the fallback), in the task that accepts the barista's completion, so that the
/// same task completes the workflow: one workflow task and one durable activity fewer per order.
/// Asked for only when the order is completed, and only by an order that hands its steps over.
const HAND_OVER_COMPLETION_PATCH: &str = "hand-over-completion";

/// The `patched()` id of the kitchen wait limit: orders whose history was written before it (no
/// marker) keep waiting without a limit when replayed; see docs/workflow-versioning.md.
pub(crate) const KITCHEN_WAIT_PATCH: &str = "kitchen-max-wait";

#[workflow_methods]
impl OrderWorkflow {
    #[init]
    pub fn new(ctx: &WorkflowContextView, input: OrderRequest) -> Self {
        let started = ctx.start_time().unwrap_or(SystemTime::UNIX_EPOCH);
        let at = timestamp(started);
        let expected_id = ctx.workflow_id().strip_prefix("order-").unwrap_or_default();
        let mut kitchen_max_wait = None;
        let order = match input {
            OrderRequest::Valid(o) if o.order_id.as_str() == expected_id => {
                kitchen_max_wait = KitchenWait::of(&o);
                let placed_at = o.placed_at(started);
                Order::place(o.order_id, o.product_name, o.qty, o.customer_id, placed_at)
            }
            OrderRequest::Valid(o) => {
                let raw = serde_json::to_value(&o).unwrap_or_default();
                let problem = format!("orderId: must be {expected_id:?}, the end of the workflow id order-<orderId>");
                Order::invalid(ctx.workflow_id(), &raw, &problem, at)
            }
            OrderRequest::Invalid { problem, raw } => Order::invalid(ctx.workflow_id(), &raw, &problem, at),
        };
        Self {
            order,
            stock: None,
            revision: 1,
            projected: 0,
            board_moves: VecDeque::new(),
            saga_done: false,
            order_run: ctx.first_execution_run_id().to_owned(),
            kitchen_max_wait,
            saga_handed_over: false,
            settling: false,
            published: OrderStatus::Ordered,
        }
    }

    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<Order> {
        // Orders started before these changes keep their earlier shape when replayed (no marker
        // in their history); see docs/workflow-versioning.md.
        let hand_over_saga = ctx.patched(HAND_OVER_SAGA_PATCH);
        let hand_over = hand_over_saga || ctx.patched(LOCAL_PROJECTIONS_PATCH);
        ctx.state_mut(|s| s.saga_handed_over = hand_over_saga);
        let (saga, projector, watcher, clock) = (ctx.clone(), ctx.clone(), ctx.clone(), ctx.clone());
        let (saga_result, (), (), ()) = join!(
            run_saga(&saga, hand_over_saga),
            run_projector(&projector, hand_over),
            watch_cancellation(&watcher),
            kitchen_clock(&clock)
        );
        saga_result?;
        Ok(ctx.state(|s| s.order.clone()))
    }

    /// The order's full state.
    #[query]
    pub fn status(&self, _ctx: &WorkflowContextView) -> Order {
        self.order.clone()
    }

    #[update_validator(cancel)]
    fn validate_cancel(&self, _ctx: &WorkflowContextView, request: &CancelRequest) -> Result<(), Refusal> {
        Ok(self.order.check(&OrderEvent::Canceled {
            reason: request.reason(),
        })?)
    }

    /// Cancels the order (refused once brewing has begun) and returns it; the compensations run
    /// right after, in the background of the workflow.
    #[update(name = "cancel")]
    pub fn cancel(&mut self, ctx: &mut SyncWorkflowContext<Self>, request: CancelRequest) -> Order {
        self.decide(
            ctx,
            OrderEvent::Canceled {
                reason: request.reason(),
            },
        );
        self.order.clone()
    }

    #[signal(name = "cancel")]
    pub fn cancel_signal(&mut self, ctx: &mut SyncWorkflowContext<Self>, request: CancelRequest) {
        self.decide_or_note(
            ctx,
            "cancel",
            OrderEvent::Canceled {
                reason: request.reason(),
            },
        );
    }

    #[update_validator(start_brewing)]
    fn validate_start_brewing(&self, _ctx: &WorkflowContextView, _: &()) -> Result<(), Refusal> {
        Ok(self.order.check(&OrderEvent::BrewingStarted)?)
    }

    /// The barista starts making the order; from now on it can no longer be canceled.
    #[update(name = "startBrewing")]
    pub fn start_brewing(&mut self, ctx: &mut SyncWorkflowContext<Self>) -> Order {
        self.decide(ctx, OrderEvent::BrewingStarted);
        self.order.clone()
    }

    #[signal(name = "startBrewing")]
    pub fn start_brewing_signal(&mut self, ctx: &mut SyncWorkflowContext<Self>) {
        self.decide_or_note(ctx, "startBrewing", OrderEvent::BrewingStarted);
    }

    #[update_validator(complete_production)]
    fn validate_complete_production(&self, _ctx: &WorkflowContextView, _: &()) -> Result<(), Refusal> {
        Ok(self.order.check(&OrderEvent::Completed)?)
    }

    /// The barista hands the order over.
    #[update(name = "completeProduction")]
    pub fn complete_production(&mut self, ctx: &mut SyncWorkflowContext<Self>) -> Order {
        self.decide(ctx, OrderEvent::Completed);
        self.order.clone()
    }

    #[signal(name = "completeProduction")]
    pub fn complete_production_signal(&mut self, ctx: &mut SyncWorkflowContext<Self>) {
        self.decide_or_note(ctx, "completeProduction", OrderEvent::Completed);
    }
}

impl OrderWorkflow {
    /// Applies a command's event; the validator has already checked it, so a refusal here can only
    /// be a command that raced another one, and it is noted rather than lost.
    fn decide(&mut self, ctx: &SyncWorkflowContext<Self>, event: OrderEvent) {
        let name = match event {
            OrderEvent::Canceled { .. } => "cancel",
            OrderEvent::BrewingStarted => "startBrewing",
            _ => "completeProduction",
        };
        self.decide_or_note(ctx, name, event);
    }

    fn decide_or_note(&mut self, ctx: &SyncWorkflowContext<Self>, command: &str, event: OrderEvent) {
        if let Some(status) = self.apply_or_note(now(ctx.workflow_time()), command, event) {
            self.published = status;
            ctx.upsert_search_attributes([ORDER_STATUS.value_set(status.to_string())]);
        }
    }

    /// Applies a command's event if the rules allow it now, else notes it as ignored. Returns the
    /// new status when the order moved (the caller keeps the search attribute current).
    fn apply_or_note(&mut self, at: String, command: &str, event: OrderEvent) -> Option<OrderStatus> {
        let board_move = match event {
            OrderEvent::BrewingStarted => Some(OrderStatus::Brewing),
            OrderEvent::Completed => Some(OrderStatus::Completed),
            _ => None,
        };
        self.changed();
        match self.order.apply(event, at.clone()) {
            Ok(()) => {
                self.board_moves.extend(board_move);
                Some(self.order.status)
            }
            Err(TransitionRefused { message, .. }) => {
                self.order.ignore(command, message, at);
                None
            }
        }
    }

    fn changed(&mut self) {
        self.revision += 1;
    }
}

fn now(t: Option<SystemTime>) -> String {
    timestamp(t.unwrap_or(SystemTime::UNIX_EPOCH))
}

/// Waits until `condition` holds. The wait is detached from Temporal's cancellation request: such
/// a request is a command, handled by [`watch_cancellation`], and must not make every wait return
/// at once (a loop around an instantly returning wait would spin without yielding and freeze the
/// worker).
async fn wait(ctx: &WorkflowContext<OrderWorkflow>, condition: impl FnMut(&OrderWorkflow) -> bool) {
    let detached = WaitConditionOptions::builder()
        .cancellation_token(WorkflowCancellationToken::new())
        .build();
    // A detached token is never cancelled, so the wait only ends when the condition holds.
    let _ = ctx.wait_condition_with_options(condition, detached).await;
}

/// A cancellation requested through Temporal (the Web UI's "Request Cancellation",
/// `temporal workflow cancel`) is the customer's `cancel` command: it cancels the order (and the
/// saga compensates) while that is allowed, and is refused and noted once brewing has begun. Either
/// way the workflow goes on and ends normally with the order's final state.
async fn watch_cancellation(ctx: &WorkflowContext<OrderWorkflow>) {
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
        _ = wait(ctx, |s| s.saga_done).fuse() => {}
    };
}

/// The kitchen wait limit: a Queued order that no barista starts within its limit is canceled
/// with reason `KitchenTimeout` (and compensated by the saga, as any cancel). A durable timer, so
/// it holds across worker restarts and shows in the order's history. Versioned with
/// [`KITCHEN_WAIT_PATCH`]: an order queued before this existed replays without a timer.
async fn kitchen_clock(ctx: &WorkflowContext<OrderWorkflow>) {
    wait(ctx, |s| {
        s.order.status == OrderStatus::Queued || s.order.status.is_final()
    })
    .await;
    let Some(limit) = ctx.state(|s| s.kitchen_max_wait) else {
        return;
    };
    if ctx.state(|s| s.order.status != OrderStatus::Queued)
        || !(ctx.state(|s| s.saga_handed_over) || ctx.patched(KITCHEN_WAIT_PATCH))
    {
        return;
    }
    let token = WorkflowCancellationToken::new();
    let mut timer = ctx.timer(
        TimerOptions::builder(limit)
            .cancellation_token(token.clone())
            .summary("kitchen wait limit".to_owned())
            .build(),
    );
    let fired = select! {
        result = timer => result == TimerResult::Fired,
        _ = wait(ctx, |s| s.order.status != OrderStatus::Queued).fuse() => {
            // A barista (or a cancel) came first: the timer is no longer needed. An order that
            // hands its steps over leaves it to end with the workflow (no cancellation event; if
            // it fires first, nobody waits for it and its task changes nothing).
            if !ctx.state(|s| s.saga_handed_over) {
                token.cancel();
            }
            false
        }
    };
    if fired {
        let reason = KITCHEN_TIMEOUT.to_owned();
        decide_from_run(ctx, "kitchen wait limit", OrderEvent::Canceled { reason });
    }
}

/// A command decided inside the workflow's own tasks (a Temporal cancellation request, the kitchen
/// clock): the same rules as [`OrderWorkflow::decide_or_note`], from an async context.
fn decide_from_run(ctx: &WorkflowContext<OrderWorkflow>, command: &str, event: OrderEvent) {
    let at = now(ctx.workflow_time());
    if let Some(status) = ctx.state_mut(|s| s.apply_or_note(at, command, event)) {
        publish(ctx, status);
    }
}

/// Sets the `OrderStatus` search attribute.
fn publish(ctx: &WorkflowContext<OrderWorkflow>, status: OrderStatus) {
    ctx.state_mut(|s| s.published = status);
    ctx.upsert_search_attributes([ORDER_STATUS.value_set(status.to_string())]);
}

/// Applies a step the saga itself observed (a result from the warehouse or the kitchen). While the
/// saga is settling, the status is published when it settles, not now.
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

/// Ends the saga's hand-over phase: the status it reached is published (if it is not already) and
/// the projector may send it. Before a durable fallback too: the order then waits in that state,
/// and readers should see it. Nothing happens for an order that was not settling.
fn settle(ctx: &WorkflowContext<OrderWorkflow>) {
    let unpublished = ctx.state_mut(|s| {
        let was_settling = std::mem::replace(&mut s.settling, false);
        (was_settling && s.published != s.order.status).then_some(s.order.status)
    });
    if let Some(status) = unpublished {
        publish(ctx, status);
    }
}

/// `hand_over`: the first two steps go to their owners by local activities first (see
/// [`HAND_OVER_SAGA_PATCH`]).
async fn run_saga(ctx: &WorkflowContext<OrderWorkflow>, hand_over: bool) -> Result<(), ActivityExecutionError> {
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

    // An order whose request was invalid was rejected on arrival: nothing to do but project it.
    // (Before the hand-over, a cancel applied before the saga began took this path too.)
    let status = ctx.state(|s| s.order.status);
    if status == OrderStatus::Rejected || (status.is_final() && !hand_over) {
        ctx.upsert_search_attributes([ORDER_STATUS.value_set(OrderStatus::Rejected.to_string())]);
        ctx.state_mut(|s| s.saga_done = true);
        return Ok(());
    }

    // 1. Reserve stock: a synchronous step, production never starts without it. When the order
    // hands its steps over, steps 1 and 2 normally both happen inside this workflow task.
    ctx.state_mut(|s| s.settling = hand_over);
    if status != OrderStatus::Canceled {
        match reserve(ctx, hand_over, reservation).await? {
            ReservationOutcome::Reserved { level } => record(ctx, |s, at| {
                s.order.stock_was_reserved(at);
                s.stock = Some(level);
            }),
            ReservationOutcome::Refused { reason } => record(ctx, |s, at| {
                // A cancel may have won meanwhile; then the order simply stays canceled.
                let _ = s.order.apply(OrderEvent::Rejected(reason), at);
            }),
        }
    }

    // 2. Put a ticket on the kitchen board, unless the order was refused or canceled.
    if ctx.state(|s| s.order.status == OrderStatus::StockReserved) {
        if handed_over(ctx, hand_over, Cafe::hand_over_ticket, ticket.clone())
            .await
            .is_none()
        {
            settle(ctx);
            ctx.execute_activity(Kitchen::start_production, ticket, options::kitchen())
                .await?;
        }
        record(ctx, |s, at| s.order.ticket_was_opened(at));
    }
    if hand_over {
        // A workflow task that handed steps over and was then lost (its worker or the server
        // died) is run again; a cancel that arrived meanwhile is applied first, and the saga may
        // then skip a step the lost task had already done. So a cancel before Queued undoes both
        // steps (each undo is idempotent and harmless where nothing was done).
        ctx.state_mut(|s| s.order.undo_anything_handed_over());
        settle(ctx);
    }

    // 3. Follow the barista, and compensate if the order gets canceled.
    loop {
        wait(ctx, |s| s.order.status.is_final() || !s.board_moves.is_empty()).await;
        if let Some(status) = ctx.state_mut(|s| s.board_moves.pop_front()) {
            let step = TicketMove {
                order_id: order_id.clone(),
                status,
            };
            // The moves are handed over (when the order hands its steps over; the move to
            // Completed since HAND_OVER_COMPLETION_PATCH). If the task that made one is lost, the
            // ticket is a step ahead of the order: Brewing for an order still Queued, or
            // Completed for one still Brewing. Both are recoverable: the command is delivered
            // again (or sent again by the barista, who was told it failed), and the kitchen
            // marks every move it is handed until someone hears the order take it, and sends
            // the command again itself for a move unheard too long (a barista who gave up, or
            // died); a cancel withdraws a Brewing ticket too.
            let hand_over_move = match status {
                OrderStatus::Brewing => hand_over,
                _ => hand_over && ctx.patched(HAND_OVER_COMPLETION_PATCH),
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
    order_id: &OrderId,
    step: Compensation,
) -> Result<(), ActivityExecutionError> {
    match step {
        Compensation::CancelProduction => {
            ctx.execute_activity(Kitchen::cancel_production, order_id.clone(), options::kitchen())
                .await?;
            record(ctx, |s, _| s.order.compensated(step));
        }
        Compensation::ReleaseStock => {
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

/// Reserves the order's stock: handed to the warehouse by a local activity first when `hand_over`,
/// else (or when that fails) through the durable `reserveStock`, whose business refusal is an
/// outcome too. Only an infrastructure failure of the durable activity is an error.
async fn reserve(
    ctx: &WorkflowContext<OrderWorkflow>,
    hand_over: bool,
    reservation: Reservation,
) -> Result<ReservationOutcome, ActivityExecutionError> {
    if hand_over {
        if let Some(outcome) = handed_over(ctx, true, Cafe::hand_over_reservation, reservation.clone()).await {
            return Ok(outcome);
        }
        settle(ctx);
    }
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

/// The business refusal carried by a failed `reserveStock`, if that is what it was.
fn refusal(e: &ActivityExecutionError) -> Option<RejectReason> {
    match e.cause()? {
        temporalio_common::error::IncomingError::Application(app) => RejectReason::parse(app.type_name()?),
        _ => None,
    }
}

/// Hands a step to the service that owns it by a local activity of the cafe worker, if this order
/// does that (`enabled`, see [`LOCAL_PROJECTIONS_PATCH`] and [`HAND_OVER_SAGA_PATCH`]): the owner's
/// answer, or `None` when it did not or could not, and the caller then runs the step's durable
/// activity.
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

/// `hand_over`: try the local hand-over first (see [`LOCAL_PROJECTIONS_PATCH`]).
async fn run_projector(ctx: &WorkflowContext<OrderWorkflow>, hand_over: bool) {
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
        // First to the customercenter directly, inside this workflow task (one marker event);
        // if it cannot take it now, through the durable activity, retried until it lands. An
        // error there means the projection itself is unusable, and a newer one supersedes it.
        if handed_over(ctx, hand_over, Cafe::hand_over_projection, projection.clone())
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
