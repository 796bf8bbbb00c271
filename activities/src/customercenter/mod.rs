//! The customercenter: the projections that keep the read model (CQRS) current. An order's
//! projections reach it on its ingest route ([`INGEST_ROUTE`], from the cafe worker's local
//! `projectOrder`); a restock's as the `projectStock` activity. The view's schema and its
//! statements live in the `view` crate, which the API reads with too.

use std::sync::Arc;

use domain::StockLevel;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

pub use view::ViewDb;

/// Where the customercenter takes an order's projections (`POST`, JSON [`domain::OrderProjection`]), on
/// its health port; the only route between the workers.
pub const INGEST_ROUTE: &str = "/ingest/order";

/// The customercenter's activities (task queue `customercenter`).
pub struct CustomerCenterActivities {
    pub db: ViewDb,
}

#[activities]
impl CustomerCenterActivities {
    #[activity(definition = domain::definitions::ProjectStock)]
    pub async fn project_stock(self: Arc<Self>, _ctx: ActivityContext, level: StockLevel) -> Result<(), ActivityError> {
        crate::logged(
            "projectStock",
            &level.product_name,
            self.db.project_stock(&level).await.map_err(Into::into),
        )?;
        Ok(())
    }
}
