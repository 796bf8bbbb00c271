//! `/kitchen/tickets`: the kitchen board (from the view) and the barista's actions (workflow
//! updates, refused with 409 when not valid now).

use axum::Json;
use axum::extract::{Path, Query, State};
use domain::{OrderId, OrderStatus, ShopId, queues};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use order_commands::BaristaStep;

use crate::identity::Role;
use crate::auth::Caller;
use crate::reading::{answered, current};
use crate::shops::named;
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
#[serde(rename_all = "camelCase")]
pub struct BoardQuery {
    /// The shop whose board it is (see `GET /shops`); absent: `main`.
    pub shop_id: Option<String>,
    /// Queued (the default), Brewing, Completed, ...
    pub status: Option<String>,
    pub limit: Option<i64>,
}

/// Who works the kitchen.
const STAFF: &[Role] = &[Role::Barista, Role::Manager];

/// A shop's kitchen board: its orders in a status; Queued and Brewing oldest first (the order they
/// are worked in), finished ones most recently finished first. Requires: a barista or manager of
/// the shop.
#[utoipa::path(get, path = "/kitchen/tickets", tag = "kitchen", params(BoardQuery),
    responses((status = 200, body = Vec<OrderView>), (status = 400, body = ProblemDoc, content_type = "application/problem+json"), (status = 422, description = "no such shop", body = ProblemDoc, content_type = "application/problem+json"), (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn board(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<BoardQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<OrderView>>, ApiError> {
    caller.require(STAFF, "the kitchen board")?;
    let Query(q) = query?;
    let shop = named(&state, q.shop_id.as_deref()).await?;
    caller.require_at(STAFF, &shop, "the kitchen board")?;
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
    Ok(Json(shown(state.view.board(shop.as_str(), status, limit).await?)))
}

/// The barista starts brewing; from then on the order can no longer be canceled. Requires: a
/// barista or manager of the order's shop.
#[utoipa::path(post, path = "/kitchen/tickets/{order_id}/start", tag = "kitchen", params(("order_id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ProblemDoc, content_type = "application/problem+json"), (status = 409, body = ProblemDoc, content_type = "application/problem+json"), (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    act(&state, &caller, &raw, BaristaStep::Start).await
}

/// The barista hands the order over. Requires: a barista or manager of the order's shop.
#[utoipa::path(post, path = "/kitchen/tickets/{order_id}/complete", tag = "kitchen", params(("order_id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ProblemDoc, content_type = "application/problem+json"), (status = 409, body = ProblemDoc, content_type = "application/problem+json"), (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn complete(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    act(&state, &caller, &raw, BaristaStep::Complete).await
}

/// A barista's step on a ticket of their shop's board (403 for another shop's: nothing changes).
async fn act(state: &AppState, caller: &Caller, raw: &str, step: BaristaStep) -> Result<Json<OrderView>, ApiError> {
    let what = match step {
        BaristaStep::Start => "starting a ticket",
        BaristaStep::Complete => "completing a ticket",
    };
    caller.require(STAFF, what)?;
    let id = OrderId::parse(raw).map_err(|_| ApiError::not_found(format!("ticket {raw:?}")))?;
    record_order(&id);
    let order = current(state, &id).await?.ok_or_else(|| ApiError::not_found(format!("ticket {id}")))?;
    caller.require_at(STAFF, &ShopId::parse(&order.shop_id)?, what)?;
    let orders = state.commands()?;
    let outcome = state.guard.call_worker(queues::CAFE, orders.barista(&id, step)).await?;
    answered(state, &id, outcome).await
}
