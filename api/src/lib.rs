//! The gateway: one axum API for every command and query (SPEC §4). Commands go to Temporal
//! (start a workflow, execute an update); queries read the customercenter view.
//!
//! `app(state)` builds the router without serving it, so tests can drive it on any listener.

mod commands;
mod json;
pub mod kitchen;
pub mod ops;
pub mod orders;
pub mod problem;
pub mod stocks;
pub mod view;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use temporalio_client::Client;
use tower_http::trace::TraceLayer;

pub use problem::ApiError;
pub use view::View;

/// Bodies above this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub temporal: Client,
    pub view: View,
    /// How long a command may wait for Temporal before the API answers 503.
    pub command_timeout: Duration,
}

pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(orders::router())
        .merge(stocks::router())
        .merge(kitchen::router())
        .merge(ops::router())
        .fallback(|| async {
            problem::problem(StatusCode::NOT_FOUND, "not-found", "Not found", "no such route; see /openapi.json".to_owned())
        })
        .method_not_allowed_fallback(|| async {
            problem::problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "this route does not take that method; see /openapi.json".to_owned(),
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
