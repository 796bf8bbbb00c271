//! `/shops`: the chain's shops. Anyone may list them; the owner opens new ones. The routes that
//! act on one shop name it as `shopId` ([`named`]); one that names none acts on `main`, the shop
//! of a fresh install.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::{ShopId, ShopName};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::identity::{Role, Shop};
use crate::json::Body;
use crate::problem::{ApiError, ProblemDoc};
use crate::state::AppState;

/// The `shopId` a GET names, as a query parameter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ShopQuery {
    /// The shop (see `GET /shops`); absent: `main`.
    pub shop_id: Option<String>,
}

/// The shop a request names (`shopId`): `main` when it names none; 422 when it is not a shop of
/// the chain.
pub(crate) async fn named(state: &AppState, raw: Option<&str>) -> Result<ShopId, ApiError> {
    let Some(raw) = raw else {
        return Ok(ShopId::main());
    };
    let shop = ShopId::parse(raw)?;
    if !state.accounts.has_shop(&shop).await? {
        return Err(ApiError::unprocessable(format!(
            "shopId: the chain has no shop {raw:?}; GET /shops lists its shops"
        )));
    }
    Ok(shop)
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_shops, open_shop))
}

/// A shop: its id (a slug: lowercase letters, digits and `-`, 1 to 32) and its name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShopEntry {
    pub shop_id: String,
    pub name: String,
}

impl From<Shop> for ShopEntry {
    fn from(shop: Shop) -> Self {
        Self {
            shop_id: shop.shop_id.to_string(),
            name: shop.name,
        }
    }
}

/// The chain's shops, by id.
#[utoipa::path(get, path = "/shops", tag = "shops", security(()),
    responses((status = 200, body = Vec<ShopEntry>), (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn list_shops(State(state): State<AppState>) -> Result<Json<Vec<ShopEntry>>, ApiError> {
    Ok(Json(state.accounts.shops().await?.into_iter().map(Into::into).collect()))
}

/// Open a shop. Requires: owner.
#[utoipa::path(post, path = "/shops", tag = "shops", request_body = ShopEntry,
    responses((status = 201, description = "opened", body = ShopEntry),
        (status = 400, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "a shop with this id exists", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, body = ProblemDoc, content_type = "application/problem+json"), (status = 415, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, body = ProblemDoc, content_type = "application/problem+json"), (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn open_shop(State(state): State<AppState>, caller: Caller, Body(body): Body<ShopEntry>) -> Result<Response, ApiError> {
    caller.require(&[Role::Owner], "opening a shop")?;
    let shop_id = ShopId::parse(&body.shop_id)?;
    let shop = Shop {
        shop_id,
        name: ShopName::parse(&body.name)?.to_string(),
    };
    if !state.accounts.open_shop(&shop).await? {
        return Err(ApiError::Invalid {
            status: StatusCode::CONFLICT,
            kind: "shop-exists",
            title: "The shop exists",
            detail: format!("there is a shop {:?} already; choose another shopId", shop.shop_id.as_str()),
        });
    }
    tracing::info!(shop = %shop.shop_id, by = %caller.account.name, "shop opened");
    let location = HeaderValue::from_static("/shops");
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(ShopEntry::from(shop))).into_response())
}
