//! `OrderWorkflow`: one order's whole life, the single writer of its status.
//!
//! Four tasks run side by side (the SDK's deterministic `join!`):
//! - the **saga** ([`saga`]): `reserveStock` on the warehouse → `startProduction` on the kitchen →
//!   follow the barista (each accepted command moves the ticket with `moveTicket`) → on cancel,
//!   compensate in reverse (`cancelProduction`, then `releaseStock`). Every step is an activity of
//!   the service that owns the data, scheduled by a command in the history and retried until it
//!   succeeds;
//! - the **projector** ([`projector`]): sends the order's latest recorded state to the
//!   customercenter view, one projection at a time, so a slow or stopped view never holds up
//!   the saga;
//! - the **clocks** ([`clocks`]): a cancellation requested through Temporal is the `cancel`
//!   command; a Queued order no barista starts within its limit is canceled (`KitchenTimeout`).
//!
//! Commands from outside (cancel, the barista's start and complete) arrive as updates, validated
//! against the current state and refused with a clear message, or as signals, applied when valid
//! and otherwise noted in the order's `ignored` list. Temporal delivers them one at a time, so a
//! cancel racing a barista's start has exactly one winner.
//!
//! The saga's and the projector's bookkeeping is one small type, [`Progress`]. Orders started
//! before the lean saga finish on their own shape ([`Shape::V6`]); see
//! docs/workflow-versioning.md.

mod clocks;
mod progress;
mod projector;
mod saga;

use std::time::{Duration, SystemTime};

use domain::{
    CancelRequest, KitchenWait, Order, OrderEvent, OrderRequest, OrderStatus, StockLevel, TransitionRefused,
    search_attributes::ORDER_STATUS, timestamp,
};
use progress::Progress;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    SyncWorkflowContext, WaitConditionOptions, WorkflowCancellationToken, WorkflowContext, WorkflowContextView,
    WorkflowResult, workflows::join,
};

type Refusal = Box<dyn std::error::Error + Send + Sync>;

/// The marker every v6 order's first task recorded. The lean saga records no marker of its own:
/// an order is v6 if, replayed, its history carries this one ([`Shape::of`]).
const SAGA_AS_DESIGNED: &str = "saga-as-designed";

/// Which commands an order issues, decided once, at the start of its run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Started before the lean saga: it also publishes and projects `StockReserved`.
    V6,
    /// The lean saga: `StockReserved`, which lasts one step, is neither upserted nor projected on
    /// its own (the next projection carries it in the order's history).
    Lean,
}

impl Shape {
    /// A new order (its first task is not a replay) is lean and records nothing to say so. A
    /// replayed order is v6 exactly when its history carries the `saga-as-designed` marker:
    /// `patched` returns whether the history has it, and issues no command when it has not.
    fn of(ctx: &WorkflowContext<OrderWorkflow>) -> Self {
        if ctx.is_replaying() && ctx.patched(SAGA_AS_DESIGNED) {
            Shape::V6
        } else {
            Shape::Lean
        }
    }

    /// Whether an order in `status` is published (search attribute) and projected.
    fn shows(self, status: OrderStatus) -> bool {
        self == Shape::V6 || status != OrderStatus::StockReserved
    }
}

#[workflow]
pub struct OrderWorkflow {
    order: Order,
    /// The latest stock level this order's steps produced, for the view.
    stock: Option<StockLevel>,
    /// The first run id of this workflow (kept across resets): who a reservation belongs to.
    order_run: String,
    /// How long the order may wait Queued for a barista (`None`: no limit).
    kitchen_max_wait: Option<Duration>,
    shape: Shape,
    progress: Progress,
}

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
                Order::place(o.order_id, o.product_name, o.qty, o.customer_id, o.shop_id, placed_at)
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
            order_run: ctx.first_execution_run_id().to_owned(),
            kitchen_max_wait,
            shape: Shape::Lean,
            progress: Progress::default(),
        }
    }

    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<Order> {
        let shape = Shape::of(ctx);
        ctx.state_mut(|s| s.shape = shape);
        let (saga, projector, watcher, clock) = (ctx.clone(), ctx.clone(), ctx.clone(), ctx.clone());
        let (saga_result, (), (), ()) = join!(
            saga::run(&saga),
            projector::run(&projector),
            clocks::watch_cancellation(&watcher),
            clocks::kitchen_clock(&clock)
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

    /// Cancels the order (refused once brewing has begun) and returns it as it will be kept: the
    /// compensations run right after, in the background of the workflow, until they are done.
    #[update(name = "cancel")]
    pub fn cancel(&mut self, ctx: &mut SyncWorkflowContext<Self>, request: CancelRequest) -> Order {
        let reason = request.reason();
        self.decide(ctx, "cancel", OrderEvent::Canceled { reason });
        self.order.once_compensated()
    }

    #[signal(name = "cancel")]
    pub fn cancel_signal(&mut self, ctx: &mut SyncWorkflowContext<Self>, request: CancelRequest) {
        let reason = request.reason();
        self.decide_or_note(ctx, "cancel", OrderEvent::Canceled { reason });
    }

    #[update_validator(start_brewing)]
    fn validate_start_brewing(&self, _ctx: &WorkflowContextView, _: &()) -> Result<(), Refusal> {
        // A ticket can be started the moment it is on the board, which can be a moment before
        // this workflow hears that `startProduction` put it there: the order still reads
        // StockReserved. Such a start is taken and waits for that (below).
        if self.order.status == OrderStatus::StockReserved {
            return Ok(());
        }
        Ok(self.order.check(&OrderEvent::BrewingStarted)?)
    }

    /// The barista starts making the order; from now on it can no longer be canceled. Answered
    /// with the order brewing, or refused if a cancel came first.
    #[update(name = "startBrewing")]
    pub async fn start_brewing(ctx: &mut WorkflowContext<Self>) -> Result<Order, Refusal> {
        wait(ctx, |s| s.order.status != OrderStatus::StockReserved).await;
        decide_awaited(ctx, "startBrewing", OrderEvent::BrewingStarted)
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
        self.decide(ctx, "completeProduction", OrderEvent::Completed);
        self.order.clone()
    }

    #[signal(name = "completeProduction")]
    pub fn complete_production_signal(&mut self, ctx: &mut SyncWorkflowContext<Self>) {
        self.decide_or_note(ctx, "completeProduction", OrderEvent::Completed);
    }
}

impl OrderWorkflow {
    /// Applies an update's event; the validator has already checked it, so a refusal here can
    /// only be a command that raced another one, and it is noted rather than lost. The task that
    /// accepts the update is not recorded yet: the change waits for a later task to be projected
    /// (see [`projector`]).
    fn decide(&mut self, ctx: &SyncWorkflowContext<Self>, command: &str, event: OrderEvent) {
        self.progress.command_accepted(ctx.history_length());
        self.decide_or_note(ctx, command, event);
    }

    /// Applies a signal's event (a signal is in the history before any task sees it) or an
    /// update's.
    fn decide_or_note(&mut self, ctx: &SyncWorkflowContext<Self>, command: &str, event: OrderEvent) {
        if let Some(status) = self.apply_or_note(now(ctx.workflow_time()), command, event) {
            self.progress.published = status;
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
        self.progress.changed();
        match self.order.apply(event, at.clone()) {
            Ok(()) => {
                self.progress.board_moves.extend(board_move);
                Some(self.order.status)
            }
            Err(TransitionRefused { message, .. }) => {
                self.order.ignore(command, message, at);
                None
            }
        }
    }
}

fn now(t: Option<SystemTime>) -> String {
    timestamp(t.unwrap_or(SystemTime::UNIX_EPOCH))
}

/// Waits until `condition` holds. The wait is detached from Temporal's cancellation request: such
/// a request is a command, handled by [`clocks::watch_cancellation`], and must not make every
/// wait return at once (a loop around an instantly returning wait would spin without yielding and
/// freeze the worker).
async fn wait(ctx: &WorkflowContext<OrderWorkflow>, condition: impl FnMut(&OrderWorkflow) -> bool) {
    let detached = WaitConditionOptions::builder()
        .cancellation_token(WorkflowCancellationToken::new())
        .build();
    // A detached token is never cancelled, so the wait only ends when the condition holds.
    let _ = ctx.wait_condition_with_options(condition, detached).await;
}

/// A command decided inside the workflow's own tasks (a Temporal cancellation request, the kitchen
/// clock): the same rules as [`OrderWorkflow::decide_or_note`], from an async context.
fn decide_from_run(ctx: &WorkflowContext<OrderWorkflow>, command: &str, event: OrderEvent) {
    let at = now(ctx.workflow_time());
    if let Some(status) = ctx.state_mut(|s| s.apply_or_note(at, command, event)) {
        publish(ctx, status);
    }
}

/// An update's command decided in the workflow's own tasks, after it waited: the same rules as
/// [`OrderWorkflow::decide`]; the order as it is then, or the refusal if another command came
/// first (noted in the order, as a refused signal is).
fn decide_awaited(ctx: &WorkflowContext<OrderWorkflow>, command: &str, event: OrderEvent) -> Result<Order, Refusal> {
    let refused = ctx.state(|s| s.order.check(&event).err());
    let history_length = ctx.history_length();
    ctx.state_mut(|s| s.progress.command_accepted(history_length));
    decide_from_run(ctx, command, event);
    match refused {
        Some(refused) => Err(refused.into()),
        None => Ok(ctx.state(|s| s.order.clone())),
    }
}

/// Sets the `OrderStatus` search attribute.
fn publish(ctx: &WorkflowContext<OrderWorkflow>, status: OrderStatus) {
    ctx.state_mut(|s| s.progress.published = status);
    ctx.upsert_search_attributes([ORDER_STATUS.value_set(status.to_string())]);
}
