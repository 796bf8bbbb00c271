//! What every handler can reach: the application state, built once by `main` (or a test) and
//! handed to `app` (lib.rs).

use std::sync::{Arc, OnceLock};

use temporalio_client::Client;

use crate::admission::ShopAdmission;
use crate::commands::TemporalGuard;
use crate::identity::Accounts;
use crate::just_placed::JustPlaced;
use crate::fanout::Live;
use crate::metrics::Metrics;
use crate::problem::ApiError;
use crate::view::View;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// Set once the first connection to Temporal succeeds; the API serves (health, reads, 503 for
    /// commands) before that.
    pub temporal: Arc<OnceLock<Client>>,
    pub view: View,
    /// Accounts and sessions (the cafe's database).
    pub accounts: Accounts,
    pub guard: Arc<TemporalGuard>,
    pub metrics: Metrics,
    /// The live updates' fan-out (`GET /events`).
    pub live: Live,
    /// `KITCHEN_MAX_WAIT` in milliseconds (0: no limit), given to every order placed.
    pub kitchen_max_wait_ms: u64,
    /// Orders this replica has just placed, readable before the view has them.
    pub just_placed: Arc<JustPlaced>,
    /// Each shop's share of new orders (`COFFEESHOP_ORDERS_PER_SHOP_PER_SECOND`).
    pub admission: ShopAdmission,
}

impl AppState {
    /// The commands to Temporal (orders and restocks), or a 503 while the API has not reached
    /// Temporal yet.
    pub fn commands(&self) -> Result<order_commands::OrderCommands, ApiError> {
        Ok(order_commands::OrderCommands::new(self.temporal()?.clone()))
    }

    /// The Temporal client, or a 503 while the API has not reached Temporal yet.
    pub fn temporal(&self) -> Result<&Client, ApiError> {
        self.temporal
            .get()
            .ok_or_else(|| ApiError::unavailable("not connected to Temporal yet"))
    }
}

/// Notes the order a request is about on its span (and so on every log line under it).
pub(crate) fn record_order(id: &impl std::fmt::Display) {
    tracing::Span::current().record("order_id", tracing::field::display(id));
}
