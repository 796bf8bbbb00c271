//! `/stocks`: stock levels (from the view) and restocking (a `RestockWorkflow` per restock).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::{Price, ProductName, Restock, RestockQuantity, ShopId, restock_workflow_id};
use order_commands::Started;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::identity::Role;
use crate::auth::Caller;
use crate::json::Body;
use crate::idempotency::idempotent_id;
use crate::problem::ProblemDoc;
use crate::view::{Cursor, StockView, cut, page_bounds, shown};
use crate::problem::ApiError;
use crate::shops::{ShopQuery, named};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(levels, restock))
        .routes(routes!(recent_restocks))
}

/// A shop's menu: its stock levels and prices, from the customercenter view.
#[utoipa::path(get, path = "/stocks", tag = "stock", security(()), params(ShopQuery),
    responses((status = 200, body = Vec<StockView>), (status = 422, description = "no such shop", body = ProblemDoc, content_type = "application/problem+json"), (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn levels(
    State(state): State<AppState>,
    query: Result<Query<ShopQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<StockView>>, ApiError> {
    let Query(q) = query?;
    let shop = named(&state, q.shop_id.as_deref()).await?;
    Ok(Json(shown(state.view.stocks(shop.as_str()).await?)))
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestockBody {
    /// The shop whose stock it adds to; absent: `main`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop_id: Option<String>,
    pub product_name: String,
    pub qty: i64,
    /// The product's new price per unit, e.g. `"3.50"`; absent: the price stays as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Restocked {
    pub shop_id: String,
    pub product_name: String,
    /// The level after this restock; absent while the restock is still in progress (202).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qty: Option<i64>,
    /// The product's price per unit after this restock, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    pub workflow_id: String,
}

/// Restock ids chosen by an `Idempotency-Key` live in their own UUID namespace.
const RESTOCK_NAMESPACE: Uuid = Uuid::from_u128(0x2b7e_51d0_4c1a_4f3e_9d2b_7a11_5e0c_0ffe);

/// Add stock (a `RestockWorkflow`); answers with the new level. Send an `Idempotency-Key` header
/// to make retries safe: the same key with the same body is the same restock, counted once.
/// Requires: a manager of the shop.
#[utoipa::path(post, path = "/stocks", tag = "stock", request_body = RestockBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "same key + same body = same restock")),
    responses((status = 200, description = "stock added", body = Restocked), (status = 201, description = "a new product", body = Restocked),
        (status = 202, description = "accepted and durable, still in progress: it will happen; repeat the request with the same Idempotency-Key to get the new level", body = Restocked),
        (status = 400, body = ProblemDoc, content_type = "application/problem+json"), (status = 413, body = ProblemDoc, content_type = "application/problem+json"), (status = 415, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "a field is invalid, or the key was used for another restock", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn restock(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Body(body): Body<RestockBody>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Manager], "restocking")?;
    let shop = named(&state, body.shop_id.as_deref()).await?;
    caller.require_at(&[Role::Manager], &shop, "restocking")?;
    let keyed = idempotent_id(&headers, &RESTOCK_NAMESPACE)?;
    let input = Restock {
        restock_id: keyed.unwrap_or_else(Uuid::now_v7).to_string(),
        shop_id: shop,
        product_name: ProductName::parse(&body.product_name)?,
        qty: RestockQuantity::parse(body.qty)?,
        price: body.price.as_deref().map(Price::parse).transpose()?,
    };
    let request = RestockBody {
        shop_id: Some(input.shop_id.to_string()),
        product_name: input.product_name.to_string(),
        qty: i64::from(input.qty.get()),
        price: input.price.map(|p| p.to_string()),
    };
    let restock_id = input.restock_id.clone();
    let workflow_id = restock_workflow_id(&restock_id);
    let commands = state.commands()?;
    let asked = serde_json::to_value(&request).expect("a plain struct serializes");
    match state.guard.call(commands.restock(input, asked)).await? {
        Ok(Started::New) => {}
        Ok(Started::Existing) => same_restock_again(&state, &restock_id, &request).await?,
        Err(e) => return Err(ApiError::unavailable(format!("the restock could not be started: {e}"))),
    }
    // From here on the restock is durable: it will happen whatever this request's fate. So no
    // answer below invites a retry that could add the stock twice: a restock that does not finish
    // in time is 202 Accepted, not 503.
    let finished = tokio::time::timeout(state.guard.timeout(), commands.restock_result(&restock_id)).await;
    let level = match finished {
        Ok(Ok(level)) => level,
        Ok(Err(e)) => {
            tracing::warn!(workflow_id, error = %e, "restock accepted; its result could not be read yet");
            return Ok(in_progress(&request, workflow_id));
        }
        Err(_) => return Ok(in_progress(&request, workflow_id)),
    };
    tracing::info!(product = %level.product_name, qty = level.qty, "restocked");
    let status = if level.version == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let body = Restocked {
        shop_id: level.shop_id.to_string(),
        product_name: level.product_name.to_string(),
        qty: Some(level.qty),
        price: level.price.map(|p| p.to_string()),
        workflow_id,
    };
    Ok((status, Json(body)).into_response())
}

/// One restock of the log.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestockEntry {
    /// The `RestockWorkflow` that made it.
    pub workflow_id: String,
    pub product_name: String,
    /// How much it added.
    pub qty: i64,
    /// The price it set, if it set one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    /// When it was done (RFC 3339).
    pub at: String,
}

impl From<view::RestockRow> for RestockEntry {
    fn from(r: view::RestockRow) -> Self {
        Self {
            workflow_id: restock_workflow_id(&r.restock_id),
            product_name: r.product_name,
            qty: r.qty,
            price: r.price_cents.map(|c| Price::from_cents(c).to_string()),
            at: r.recorded_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct LogQuery {
    /// The shop (see `GET /shops`); absent: `main`.
    pub shop_id: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A page of the restock log.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestockPage {
    pub items: Vec<RestockEntry>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A shop's restock log, newest first, a page at a time (follow `next`), from the customercenter
/// view: its cost does not grow with the number of orders. Requires: a manager of the shop.
#[utoipa::path(get, path = "/stocks/restocks", tag = "stock", params(LogQuery),
    responses((status = 200, body = RestockPage), (status = 400, body = ProblemDoc, content_type = "application/problem+json"), (status = 422, description = "no such shop", body = ProblemDoc, content_type = "application/problem+json"), (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn recent_restocks(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<RestockPage>, ApiError> {
    caller.require(&[Role::Manager], "the restock log")?;
    let Query(q) = query?;
    let shop = named(&state, q.shop_id.as_deref()).await?;
    caller.require_at(&[Role::Manager], &shop, "the restock log")?;
    let (limit, cursor) = page_bounds(q.limit, q.cursor.as_deref())?;
    let mut rows = state.view.restocks(shop.as_str(), cursor.as_ref(), limit + 1).await?;
    let next_cursor = cut(&mut rows, limit, |r| Cursor {
        at: r.recorded_at.clone(),
        id: r.restock_id.clone(),
    });
    let next = next_cursor.as_deref().map(|c| {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("shopId", shop.as_str())
            .append_pair("limit", &limit.to_string())
            .append_pair("cursor", c)
            .finish();
        format!("/stocks/restocks?{query}")
    });
    Ok(Json(RestockPage {
        items: shown(rows),
        next_cursor,
        next,
    }))
}

/// A repeated `Idempotency-Key`: the same restock again is fine; another one is an error.
async fn same_restock_again(state: &AppState, restock_id: &str, request: &RestockBody) -> Result<(), ApiError> {
    let earlier = state
        .guard
        .call(state.commands()?.restock_request(restock_id))
        .await?
        .map_err(|e| ApiError::unavailable(format!("the earlier restock could not be read: {e}")))?;
    let mut earlier: Option<RestockBody> = earlier.and_then(|v| serde_json::from_value(v).ok());
    // A restock started before the chain had shops named none: it was main's.
    if let Some(earlier) = &mut earlier {
        earlier.shop_id.get_or_insert_with(|| ShopId::MAIN.to_owned());
    }
    if earlier.as_ref() != Some(request) {
        return Err(ApiError::unprocessable(
            "this Idempotency-Key was already used for a different restock; use a new key for a new restock",
        ));
    }
    Ok(())
}

/// 202: the restock is recorded in Temporal and will be carried out.
fn in_progress(request: &RestockBody, workflow_id: String) -> Response {
    let shop_id = request.shop_id.clone().unwrap_or_else(|| ShopId::MAIN.to_owned());
    let location = HeaderValue::from_str(&format!("/stocks?shopId={shop_id}")).expect("shop ids are URL-safe");
    let body = Restocked {
        shop_id,
        product_name: request.product_name.clone(),
        qty: None,
        price: request.price.clone(),
        workflow_id,
    };
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response()
}
