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
//! Orders started before this shape ([`v5`]) keep theirs until they have drained; see
//! [`SAGA_AS_DESIGNED`] and docs/workflow-versioning.md.

mod clocks;
mod projector;
mod saga;
mod v5;

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use domain::{
    CancelRequest, KitchenWait, Order, OrderEvent, OrderRequest, OrderStatus, StockLevel, TransitionRefused,
    search_attributes::ORDER_STATUS, timestamp,
};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    SyncWorkflowContext, WaitConditionOptions, WorkflowCancellationToken, WorkflowContext, WorkflowContextView,
    WorkflowResult, workflows::join,
};

type Refusal = Box<dyn std::error::Error + Send + Sync>;

/// The version gate: an order whose history carries this marker runs the saga as designed (every
/// step an activity of its owner); one replayed without it was started before, by the v5 code
/// (steps handed over by local activities), and finishes on that code. Only new orders get the
/// marker. Once no v5 order can still be running, [`v5`] goes and this becomes
/// `deprecate_patch`, by the rule in docs/workflow-versioning.md.
const SAGA_AS_DESIGNED: &str = "saga-as-designed";

#[workflow]
pub struct OrderWorkflow {
    order: Order,
    /// The latest stock level this order's steps produced, for the view.
    stock: Option<StockLevel>,
    /// Grows with every change the view should see; `projected` is how far the view has got.
    revision: u64,
    projected: u64,
    /// Set when an update changes the order, to the history's length in the task that accepted
    /// it. That task is not recorded until it completes (it may yet be lost with its worker or
    /// the server), so the change waits to be projected until the saga hears from a step in a
    /// later task ([`OrderWorkflow::heard_from_a_step`]).
    unrecorded_command: Option<u32>,
    /// Kitchen board moves decided by the barista's commands, not yet made by the kitchen.
    board_moves: VecDeque<OrderStatus>,
    saga_done: bool,
    /// The first run id of this workflow (kept across resets): who a reservation belongs to.
    order_run: String,
    /// How long the order may wait Queued for a barista (`None`: no limit).
    kitchen_max_wait: Option<Duration>,
    /// The `OrderStatus` search attribute as last set.
    published: OrderStatus,
    /// Used by [`v5`] orders only.
    settling: bool,
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
            unrecorded_command: None,
            board_moves: VecDeque::new(),
            saga_done: false,
            order_run: ctx.first_execution_run_id().to_owned(),
            kitchen_max_wait,
            published: OrderStatus::Ordered,
            settling: false,
        }
    }

    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<Order> {
        if !ctx.patched(SAGA_AS_DESIGNED) {
            return v5::run(ctx).await;
        }
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
        Ok(self.order.check(&OrderEvent::BrewingStarted)?)
    }

    /// The barista starts making the order; from now on it can no longer be canceled.
    #[update(name = "startBrewing")]
    pub fn start_brewing(&mut self, ctx: &mut SyncWorkflowContext<Self>) -> Order {
        self.decide(ctx, "startBrewing", OrderEvent::BrewingStarted);
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
        self.unrecorded_command = Some(ctx.history_length());
        self.decide_or_note(ctx, command, event);
    }

    /// Applies a signal's event (a signal is in the history before any task sees it) or an
    /// update's.
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

    /// The saga heard from one of its steps in the task at `history_length`: an update accepted
    /// by an earlier task is recorded now (that task completed, or this one would not exist).
    fn heard_from_a_step(&mut self, history_length: u32) {
        if self.unrecorded_command.is_some_and(|at| at < history_length) {
            self.unrecorded_command = None;
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

/// Sets the `OrderStatus` search attribute.
fn publish(ctx: &WorkflowContext<OrderWorkflow>, status: OrderStatus) {
    ctx.state_mut(|s| s.published = status);
    ctx.upsert_search_attributes([ORDER_STATUS.value_set(status.to_string())]);
}
