//! `/stocks`: stock levels (from the view) and restocking (a `RestockWorkflow` per restock).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::{ProductName, Restock, RestockQuantity, queues, restock_workflow_id};
use serde::{Deserialize, Serialize};
use temporalio_client::{WorkflowGetResultOptions, WorkflowStartOptions};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use workflows::RestockWorkflow;

use crate::json::Body;
use crate::problem::ProblemDoc;
use crate::view::StockView;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(levels, restock))
}

/// Stock levels, from the customercenter view.
#[utoipa::path(get, path = "/stocks", tag = "stock", responses((status = 200, body = Vec<StockView>)))]
async fn levels(State(state): State<AppState>) -> Result<Json<Vec<StockView>>, ApiError> {
    Ok(Json(state.view.stocks().await.map_err(ApiError::unavailable)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestockBody {
    pub product_name: String,
    pub qty: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Restocked {
    pub product_name: String,
    /// The level after this restock.
    pub qty: i64,
    pub workflow_id: String,
}

/// Add stock (a `RestockWorkflow`); answers with the new level.
#[utoipa::path(post, path = "/stocks", tag = "stock", request_body = RestockBody,
    responses((status = 200, description = "stock added", body = Restocked), (status = 201, description = "a new product", body = Restocked),
        (status = 422, body = ProblemDoc), (status = 503, body = ProblemDoc)))]
async fn restock(
    State(state): State<AppState>,
    Body(body): Body<RestockBody>,
) -> Result<(StatusCode, Json<Restocked>), ApiError> {
    let input = Restock {
        restock_id: Uuid::now_v7().to_string(),
        product_name: ProductName::parse(&body.product_name)?,
        qty: RestockQuantity::parse(body.qty)?,
    };
    let workflow_id = restock_workflow_id(&input.restock_id);
    let options = WorkflowStartOptions::new(queues::WAREHOUSE, workflow_id.clone()).build();
    let handle = state
        .guard
        .call(state.temporal()?.start_workflow(RestockWorkflow::run, input, options))
        .await?
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("starting the restock: {e}")))?;
    let level = state
        .guard
        .call(handle.get_result(WorkflowGetResultOptions::default()))
        .await?
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("restocking: {e}")))?;
    tracing::info!(product = %level.product_name, qty = level.qty, "restocked");
    let status = if level.version == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(Restocked {
            product_name: level.product_name.to_string(),
            qty: level.qty,
            workflow_id,
        }),
    ))
}
