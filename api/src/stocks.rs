//! `/stocks`: stock levels (from the view) and restocking (a `RestockWorkflow` per restock).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Json;
use domain::{ProductName, Restock, RestockQuantity, queues, restock_workflow_id};
use serde::{Deserialize, Serialize};
use temporalio_client::{WorkflowGetResultOptions, WorkflowStartOptions};
use uuid::Uuid;
use workflows::RestockWorkflow;

use crate::commands::bounded;
use crate::json::Body;
use crate::view::StockView;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/stocks", get(levels).post(restock))
}

async fn levels(State(state): State<AppState>) -> Result<Json<Vec<StockView>>, ApiError> {
    Ok(Json(state.view.stocks().await.map_err(ApiError::unavailable)?))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestockBody {
    pub product_name: String,
    pub qty: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Restocked {
    pub product_name: String,
    /// The level after this restock.
    pub qty: i64,
    pub workflow_id: String,
}

/// Adds stock and answers with the new level: 201 when the product is new, 200 otherwise.
async fn restock(State(state): State<AppState>, Body(body): Body<RestockBody>) -> Result<(StatusCode, Json<Restocked>), ApiError> {
    let input = Restock {
        restock_id: Uuid::now_v7().to_string(),
        product_name: ProductName::parse(&body.product_name)?,
        qty: RestockQuantity::parse(body.qty)?,
    };
    let workflow_id = restock_workflow_id(&input.restock_id);
    let options = WorkflowStartOptions::new(queues::WAREHOUSE, workflow_id.clone()).build();
    let handle = bounded(&state, state.temporal.start_workflow(RestockWorkflow::run, input, options))
        .await?
        .map_err(ApiError::unavailable)?;
    let level = bounded(&state, handle.get_result(WorkflowGetResultOptions::default()))
        .await?
        .map_err(ApiError::unavailable)?;
    tracing::info!(product = %level.product_name, qty = level.qty, "restocked");
    let status = if level.version == 1 { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(Restocked { product_name: level.product_name.to_string(), qty: level.qty, workflow_id })))
}
