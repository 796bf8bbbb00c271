//! `/kitchen/tickets`: the kitchen board (from the view) and the barista's actions (workflow
//! updates, refused with 409 when not valid now).

use axum::Json;
use axum::extract::{Path, Query, State};
use domain::{OrderId, OrderStatus, queues};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use order_commands::BaristaStep;

use crate::identity::Role;
use crate::auth::Caller;
use crate::reading::answered;
use crate::problem::ProblemDoc;
use crate::view::{OrderView, shown};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::state::record_order;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(board))
        .routes(routes!(start))
        .routes(routes!(complete))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardQuery {
    /// Queued (the default), Brewing, Completed, ...
    pub status: Option<String>,
    pub limit: Option<i64>,
}

/// Who works the kitchen.
const STAFF: &[Role] = &[Role::Barista, Role::Manager];

/// The kitchen board: orders in a status; Queued and Brewing oldest first (the order they are
/// worked in), finished ones most recently finished first. Requires: barista or manager.
#[utoipa::path(get, path = "/kitchen/tickets", tag = "kitchen", params(BoardQuery),
    responses((status = 200, body = Vec<OrderView>), (status = 400, body = ProblemDoc, content_type = "application/problem+json"), (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn board(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<BoardQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<OrderView>>, ApiError> {
    caller.require(STAFF, "the kitchen board")?;
    let Query(q) = query?;
    let status = match q.status.as_deref() {
        None => OrderStatus::Queued,
        Some(raw) => OrderStatus::parse(raw).ok_or_else(|| {
            ApiError::bad_request(format!(
                "status must be one of Queued, Brewing, Completed, ... not {raw:?}"
            ))
        })?,
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("limit must be from 1 to 500"));
    }
    Ok(Json(shown(state.view.board(status, limit).await?)))
}

/// The barista starts brewing; from then on the order can no longer be canceled. Requires:
/// barista or manager.
#[utoipa::path(post, path = "/kitchen/tickets/{order_id}/start", tag = "kitchen", params(("order_id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ProblemDoc, content_type = "application/problem+json"), (status = 409, body = ProblemDoc, content_type = "application/problem+json"), (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    caller.require(STAFF, "starting a ticket")?;
    act(&state, &raw, BaristaStep::Start).await
}

/// The barista hands the order over. Requires: barista or manager.
#[utoipa::path(post, path = "/kitchen/tickets/{order_id}/complete", tag = "kitchen", params(("order_id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ProblemDoc, content_type = "application/problem+json"), (status = 409, body = ProblemDoc, content_type = "application/problem+json"), (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn complete(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    caller.require(STAFF, "completing a ticket")?;
    act(&state, &raw, BaristaStep::Complete).await
}

async fn act(state: &AppState, raw: &str, step: BaristaStep) -> Result<Json<OrderView>, ApiError> {
    let id = OrderId::parse(raw).map_err(|_| ApiError::not_found(format!("ticket {raw:?}")))?;
    record_order(&id);
    let orders = state.commands()?;
    let outcome = state.guard.call_worker(queues::CAFE, orders.barista(&id, step)).await?;
    answered(state, &id, outcome).await
}
