//! Reading an order back and answering a command over HTTP, for the orders and kitchen routes: the
//! order from the view (or, until the view catches up, as this replica placed it, or from its
//! workflow), as the caller may see it, and a command's outcome as a status code.

use axum::Json;
use domain::{Order, OrderId, queues};
use order_commands::CommandError;

use crate::auth::Caller;
use crate::view::OrderView;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::state::record_order;

/// The order from the view; if the view has not caught up yet, as this replica has just placed it
/// (for a few seconds), else from its workflow.
pub(crate) async fn current(state: &AppState, id: &OrderId) -> Result<Option<OrderView>, ApiError> {
    match state.view.order(id).await {
        Ok(Some(order)) => return Ok(Some(order.into())),
        Ok(None) => {}
        Err(e) => tracing::warn!(order_id = %id, error = %e, "view unreadable; asking the workflow"),
    }
    if let Some(order) = state.just_placed.get(id) {
        return Ok(Some(order.into()));
    }
    state.metrics.orders_read_from_workflow.inc();
    match state
        .guard
        .call_worker(queues::CAFE, state.commands()?.status(id))
        .await?
    {
        Ok(order) => Ok(Some(order.into())),
        Err(CommandError::NotFound(_)) => Ok(None),
        Err(e) => Err(ApiError::unavailable(format!(
            "the order's workflow could not be read: {e}"
        ))),
    }
}

pub(crate) fn parse_id(raw: &str) -> Result<OrderId, ApiError> {
    let id = OrderId::parse(raw).map_err(|_| ApiError::not_found(format!("order {raw:?}")))?;
    record_order(&id);
    Ok(id)
}

/// The order as `caller` may see it: the staff of its shop (and the owner) see it; a customer sees
/// only their own. Anyone else is told "not found" (its existence is not theirs to learn).
pub(crate) async fn visible(state: &AppState, caller: &Caller, id: &OrderId) -> Result<OrderView, ApiError> {
    current(state, id)
        .await?
        .filter(|order| caller.is_staff_of(&order.shop_id) || order.customer_id == caller.account.name)
        .ok_or_else(|| ApiError::not_found(format!("order {id}")))
}

/// How a command's outcome reads over HTTP: the order as it is now (200), the workflow's refusal
/// (409), a finished or unknown order (409 or 404), Temporal unavailable (503).
pub(crate) async fn answered(
    state: &AppState,
    id: &OrderId,
    outcome: Result<Order, CommandError>,
) -> Result<Json<OrderView>, ApiError> {
    match outcome {
        Ok(order) => Ok(Json(order.into())),
        Err(CommandError::Refused(why)) => Err(ApiError::Conflict { detail: why }),
        Err(CommandError::NotFound(_)) => finished_or_unknown(state, id).await,
        Err(e @ CommandError::Unavailable { .. }) => Err(ApiError::unavailable(e)),
    }
}

/// A command for an order whose workflow is gone: finished (409, with its final status) or never
/// existed (404).
async fn finished_or_unknown<T>(state: &AppState, id: &OrderId) -> Result<T, ApiError> {
    match state.view.order(id).await? {
        Some(order) => Err(ApiError::Conflict {
            detail: format!("order {id} is {}: it is finished", order.status),
        }),
        None => Err(ApiError::not_found(format!("order {id}"))),
    }
}
