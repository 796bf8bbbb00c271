//! `/orders`: place, read, list (MyPages) and cancel orders.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::{
    CancelRequest, CustomerId, Order, OrderId, OrderStatus, PlaceOrder, ProductName, Quantity, ShopId, order_workflow_id,
    queues,
};
use order_commands::Started;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::identity::Role;
use crate::auth::Caller;
use crate::json::Body;
use crate::problem::ProblemDoc;
use crate::idempotency::order_id_for;
use crate::reading::{answered, current, parse_id, visible};
use crate::view::OrderView;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::state::record_order;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(place, crate::my_pages::list))
        .routes(routes!(show, patch))
        .routes(routes!(cancel))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewOrder {
    pub product_name: String,
    pub qty: i64,
    /// Optional: orders are placed for the signed-in customer; if given it must be theirs.
    pub customer_id: Option<String>,
    /// The shop to order at (see `GET /shops`); absent: `main`. A shop that does not stock the
    /// product (or does not exist) rejects the order, as an unknown product is.
    pub shop_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Placed {
    pub order_id: String,
    pub workflow_id: String,
    pub status: String,
}

/// Place an order for the signed-in customer: starts its `OrderWorkflow`. Send an
/// `Idempotency-Key` header to make retries safe. Each shop takes at most
/// `COFFEESHOP_ORDERS_PER_SHOP_PER_SECOND` new orders a second (429 beyond). Requires: customer.
#[utoipa::path(post, path = "/orders", tag = "orders", request_body = NewOrder,
    params(("Idempotency-Key" = Option<String>, Header, description = "same key + same body = same order")),
    responses(
        (status = 202, description = "accepted; follow `Location`", body = Placed),
        (status = 400, body = ProblemDoc, content_type = "application/problem+json"), (status = 413, body = ProblemDoc, content_type = "application/problem+json"), (status = 415, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "a field is invalid, or the key was used for another order", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, description = "the shop has had its share of new orders this second; retry after `Retry-After`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "Temporal is unavailable; retry after `Retry-After`", body = ProblemDoc, content_type = "application/problem+json")))]
async fn place(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Body(body): Body<NewOrder>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Customer], "placing an order")?;
    let customer_id = caller.customer_id()?;
    let given = body.customer_id.as_deref().map(CustomerId::parse).transpose()?;
    if given.is_some_and(|given| given != customer_id) {
        return Err(ApiError::Forbidden {
            detail: format!(
                "customerId must be your own ({customer_id}) or left out: orders are placed for the signed-in customer"
            ),
        });
    }
    let placed_at = domain::timestamp(std::time::SystemTime::now());
    let input = PlaceOrder {
        order_id: order_id_for(&headers, &customer_id)?,
        product_name: ProductName::parse(&body.product_name)?,
        qty: Quantity::parse(body.qty)?,
        customer_id,
        shop_id: body.shop_id.as_deref().map(ShopId::parse).transpose()?.unwrap_or_default(),
        kitchen_max_wait_ms: Some(state.kitchen_max_wait_ms),
        // The order's placedAt, as this replica shows it until the view has it.
        placed_at: Some(placed_at.clone()),
    };
    record_order(&input.order_id);
    state.admission.admit(&input.shop_id).map_err(|wait| ApiError::TooManyRequests {
        retry_after_secs: crate::problem::retry_after_secs(wait),
        detail: format!("{} is taking as many new orders as it can", input.shop_id),
    })?;
    let started = state.guard.call(state.commands()?.place(&input)).await?;
    let status = match started {
        Ok(Started::New) => {
            state.just_placed.remember(Order::place(
                input.order_id.clone(),
                input.product_name.clone(),
                input.qty,
                input.customer_id.clone(),
                input.shop_id.clone(),
                placed_at,
            ));
            state.metrics.orders_placed.inc();
            tracing::info!(order_id = %input.order_id, shop = %input.shop_id, product = %input.product_name, qty = input.qty.get(), "order placed");
            OrderStatus::Ordered.to_string()
        }
        Ok(Started::Existing) => same_order_again(&state, &input).await?,
        Err(e) => return Err(ApiError::unavailable(format!("the order could not be started: {e}"))),
    };
    let placed = Placed {
        order_id: input.order_id.to_string(),
        workflow_id: order_workflow_id(&input.order_id),
        status,
    };
    let location = HeaderValue::from_str(&format!("/orders/{}", placed.order_id)).expect("ids are URL-safe");
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(placed)).into_response())
}

/// A repeated `Idempotency-Key`: the same order again returns it; a different one is an error.
async fn same_order_again(state: &AppState, input: &PlaceOrder) -> Result<String, ApiError> {
    let existing = current(state, &input.order_id)
        .await?
        .ok_or_else(|| ApiError::unavailable("order not readable yet"))?;
    let same = existing.product_name == input.product_name.as_str()
        && existing.qty == input.qty.get() as i32
        && existing.customer_id == input.customer_id.as_str()
        && existing.shop_id == input.shop_id.as_str();
    if !same {
        return Err(ApiError::unprocessable(
            "this Idempotency-Key was already used for a different order; use a new key for a new order",
        ));
    }
    Ok(existing.status)
}

/// One order with its full history, from the customercenter view. Requires: its customer, or staff.
#[utoipa::path(get, path = "/orders/{order_id}", tag = "orders", params(("order_id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ProblemDoc, content_type = "application/problem+json"), (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let id = parse_id(&raw)?;
    visible(&state, &caller, &id).await.map(Json)
}


#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelBody {
    pub reason: Option<String>,
}

/// Cancel an order (possible until brewing starts); the body is optional. Requires: the customer
/// who placed it.
#[utoipa::path(post, path = "/orders/{order_id}/cancel", tag = "orders", params(("order_id" = String, Path)),
    request_body(content = Option<CancelBody>, content_type = "application/json"),
    responses((status = 200, description = "the canceled order", body = OrderView),
        (status = 400, body = ProblemDoc, content_type = "application/problem+json"), (status = 413, body = ProblemDoc, content_type = "application/problem+json"), (status = 404, body = ProblemDoc, content_type = "application/problem+json"), (status = 409, description = "too late to cancel", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<OrderView>, ApiError> {
    let id = parse_id(&raw)?;
    let body: CancelBody = if body.iter().all(u8::is_ascii_whitespace) {
        CancelBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("the body must be {{\"reason\": \"...\"}} or empty: {e}")))?
    };
    cancel_order(&state, &caller, id, body.reason).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PatchBody {
    pub status: String,
    pub reason: Option<String>,
}

/// The seed's form of cancel: `{"status":"Canceled"}`. Requires: the customer who placed it.
#[utoipa::path(patch, path = "/orders/{order_id}", tag = "orders", params(("order_id" = String, Path)), request_body = PatchBody,
    responses((status = 200, body = OrderView), (status = 400, body = ProblemDoc, content_type = "application/problem+json"), (status = 404, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, body = ProblemDoc, content_type = "application/problem+json"), (status = 413, body = ProblemDoc, content_type = "application/problem+json"), (status = 415, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, body = ProblemDoc, content_type = "application/problem+json"), (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    Body(body): Body<PatchBody>,
) -> Result<Json<OrderView>, ApiError> {
    let id = parse_id(&raw)?;
    if OrderStatus::parse(&body.status) != Some(OrderStatus::Canceled) {
        return Err(ApiError::unprocessable(format!(
            "status: only \"Canceled\" can be set by a customer, not {:?}",
            body.status
        )));
    }
    cancel_order(&state, &caller, id, body.reason).await
}

async fn cancel_order(
    state: &AppState,
    caller: &Caller,
    id: OrderId,
    reason: Option<String>,
) -> Result<Json<OrderView>, ApiError> {
    caller.require(&[Role::Customer], "canceling an order")?;
    visible(state, caller, &id).await?;
    let canceled = state
        .guard
        .call_worker(queues::CAFE, state.commands()?.cancel(&id, CancelRequest { reason }))
        .await?;
    if canceled.is_ok() {
        tracing::info!(order_id = %id, "order canceled");
    }
    answered(state, &id, canceled).await
}
