//! `/orders`: place, read, list (MyPages) and cancel orders.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::{
    CancelRequest, CustomerId, Order, OrderId, OrderRequest, OrderStatus, PlaceOrder, ProductName, Quantity,
    order_workflow_id, queues, search_attributes as sa,
};
use order_commands::CommandError;
use serde::{Deserialize, Serialize};
use temporalio_client::errors::WorkflowStartError;
use temporalio_client::{WorkflowIdReusePolicy, WorkflowStartOptions};
use temporalio_common::search_attributes::SearchAttributes;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use workflows::OrderWorkflow;

use crate::identity::Role;
use crate::auth::Caller;
use crate::json::Body;
use crate::problem::ProblemDoc;
use crate::view::{Cursor, OrderView, cut, page_bounds, shown};
use crate::{ApiError, AppState, record_order};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(place, list))
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
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Placed {
    pub order_id: String,
    pub workflow_id: String,
    pub status: String,
}

/// Ids chosen by an `Idempotency-Key` live in their own UUID namespace.
const IDEMPOTENCY_NAMESPACE: Uuid = Uuid::from_u128(0x6c1f_3c2e_9a57_4e0b_8f0e_2d4a_c0ff_ee00);

/// Reads the `Idempotency-Key` header, if any, and turns it into the order id it stands for: the
/// key (scoped to the customer: two customers' keys never meet) decides the workflow id, so
/// retries, races and API restarts all land on one workflow.
fn order_id_for(headers: &HeaderMap, customer: &CustomerId) -> Result<OrderId, ApiError> {
    let namespace = Uuid::new_v5(&IDEMPOTENCY_NAMESPACE, customer.as_str().as_bytes());
    let id = idempotent_id(headers, &namespace)?.unwrap_or_else(Uuid::now_v7);
    Ok(OrderId::parse(&id.to_string()).expect("a UUID is a valid order id"))
}

/// The id an `Idempotency-Key` header stands for in `namespace` (`None` without the header).
pub(crate) fn idempotent_id(headers: &HeaderMap, namespace: &Uuid) -> Result<Option<Uuid>, ApiError> {
    let Some(key) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = key
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()))
        .ok_or_else(|| ApiError::bad_request("Idempotency-Key must be 1 to 255 visible ASCII characters"))?;
    Ok(Some(Uuid::new_v5(namespace, key.as_bytes())))
}

/// Place an order for the signed-in customer: starts its `OrderWorkflow`. Send an
/// `Idempotency-Key` header to make retries safe. Requires: customer.
#[utoipa::path(post, path = "/orders", tag = "orders", request_body = NewOrder,
    params(("Idempotency-Key" = Option<String>, Header, description = "same key + same body = same order")),
    responses(
        (status = 202, description = "accepted; follow `Location`", body = Placed),
        (status = 400, body = ProblemDoc, content_type = "application/problem+json"), (status = 413, body = ProblemDoc, content_type = "application/problem+json"), (status = 415, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "a field is invalid, or the key was used for another order", body = ProblemDoc, content_type = "application/problem+json"),
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
        kitchen_max_wait_ms: Some(state.kitchen_max_wait_ms),
        // The order's placedAt, as this replica shows it until the view has it.
        placed_at: Some(placed_at.clone()),
    };
    record_order(&input.order_id);
    let workflow_id = order_workflow_id(&input.order_id);
    let options = WorkflowStartOptions::new(queues::CAFE, workflow_id.clone())
        .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
        .search_attributes(SearchAttributes::new([
            sa::ORDER_STATUS.value_set(OrderStatus::Ordered.to_string()),
            sa::PRODUCT_NAME.value_set(input.product_name.to_string()),
            sa::CUSTOMER_ID.value_set(input.customer_id.to_string()),
        ]))
        .build();
    let status = match state
        .guard
        .call(
            state
                .temporal()?
                .start_workflow(OrderWorkflow::run, OrderRequest::from(input.clone()), options),
        )
        .await?
    {
        Ok(_) => {
            state.just_placed.remember(Order::place(
                input.order_id.clone(),
                input.product_name.clone(),
                input.qty,
                input.customer_id.clone(),
                placed_at,
            ));
            state.metrics.orders_placed.inc();
            tracing::info!(order_id = %input.order_id, product = %input.product_name, qty = input.qty.get(), "order placed");
            OrderStatus::Ordered.to_string()
        }
        Err(WorkflowStartError::AlreadyStarted { .. }) => same_order_again(&state, &input).await?,
        Err(e) => return Err(ApiError::unavailable(format!("the order could not be started: {e}"))),
    };
    let placed = Placed {
        order_id: input.order_id.to_string(),
        workflow_id,
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
        && existing.customer_id == input.customer_id.as_str();
    if !same {
        return Err(ApiError::unprocessable(
            "this Idempotency-Key was already used for a different order; use a new key for a new order",
        ));
    }
    Ok(existing.status)
}

/// The order from the view; if the view has not caught up yet, as this replica has just placed it
/// (for a few seconds), else from its workflow.
async fn current(state: &AppState, id: &OrderId) -> Result<Option<OrderView>, ApiError> {
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
        .call_worker(queues::CAFE, state.orders()?.status(id))
        .await?
    {
        Ok(order) => Ok(Some(order.into())),
        Err(CommandError::NotFound(_)) => Ok(None),
        Err(e) => Err(ApiError::unavailable(format!(
            "the order's workflow could not be read: {e}"
        ))),
    }
}

fn parse_id(raw: &str) -> Result<OrderId, ApiError> {
    let id = OrderId::parse(raw).map_err(|_| ApiError::not_found(format!("order {raw:?}")))?;
    record_order(&id);
    Ok(id)
}

/// The order as `caller` may see it: staff see any; a customer sees only their own, and someone
/// else's is "not found" (its existence is not theirs to learn).
async fn visible(state: &AppState, caller: &Caller, id: &OrderId) -> Result<OrderView, ApiError> {
    current(state, id)
        .await?
        .filter(|order| caller.role().is_staff() || order.customer_id == caller.account.name)
        .ok_or_else(|| ApiError::not_found(format!("order {id}")))
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

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub customer_id: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    pub items: Vec<OrderView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

pub use crate::view::{DEFAULT_PAGE, MAX_PAGE};

/// MyPages: a customer's orders, newest first, a page at a time (follow `next`). A customer sees
/// their own (`customerId` may be left out); staff name the customer.
#[utoipa::path(get, path = "/orders", tag = "orders", params(ListQuery),
    responses((status = 200, body = Page), (status = 400, body = ProblemDoc, content_type = "application/problem+json"), (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Page>, ApiError> {
    let Query(q) = query?;
    let customer = match (caller.role(), q.customer_id.as_deref()) {
        (Role::Customer, None) => caller.customer_id()?,
        (Role::Customer, Some(given)) if given == caller.account.name => caller.customer_id()?,
        (Role::Customer, Some(_)) => {
            return Err(ApiError::Forbidden {
                detail: "customers see only their own orders: leave customerId out or pass your own".to_owned(),
            });
        }
        (_, given) => CustomerId::parse(given.unwrap_or(""))
            .map_err(|e| ApiError::bad_request(format!("{e}; pass ?customerId=...")))?,
    };
    let (limit, cursor) = page_bounds(q.limit, q.cursor.as_deref())?;
    let mut rows = state
        .view
        .orders_of(customer.as_str(), cursor.as_ref(), limit + 1)
        .await?;
    let next_cursor = cut(&mut rows, limit, Cursor::after);
    let items = shown(rows);
    let next = next_cursor
        .as_deref()
        .map(|c| next_page_link(customer.as_str(), limit, c));
    Ok(Json(Page {
        items,
        next_cursor,
        next,
    }))
}

/// The link to the next page of MyPages, every value URL-encoded (a customer id may hold a space,
/// `+` or `&`).
fn next_page_link(customer: &str, limit: i64, cursor: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("customerId", customer)
        .append_pair("limit", &limit.to_string())
        .append_pair("cursor", cursor)
        .finish();
    format!("/orders?{query}")
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
        .call_worker(queues::CAFE, state.orders()?.cancel(&id, CancelRequest { reason }))
        .await?;
    if canceled.is_ok() {
        tracing::info!(order_id = %id, "order canceled");
    }
    answered(state, &id, canceled).await
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
pub(crate) async fn finished_or_unknown<T>(state: &AppState, id: &OrderId) -> Result<T, ApiError> {
    match state.view.order(id).await? {
        Some(order) => Err(ApiError::Conflict {
            detail: format!("order {id} is {}: it is finished", order.status),
        }),
        None => Err(ApiError::not_found(format!("order {id}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::next_page_link;

    #[test]
    fn the_next_page_link_gives_back_exactly_the_customer_id_it_was_made_for() {
        for customer in ["c-1", "ann smith", "a+b", "x&customerId=y", "100%", "é"] {
            let link = next_page_link(customer, 20, "abc");
            let query = link.strip_prefix("/orders?").unwrap();
            assert!(!query.contains(' '), "a valid URL has no raw space: {link}");
            let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
            assert_eq!(
                pairs,
                [
                    ("customerId".to_owned(), customer.to_owned()),
                    ("limit".to_owned(), "20".to_owned()),
                    ("cursor".to_owned(), "abc".to_owned())
                ]
            );
        }
    }
}
