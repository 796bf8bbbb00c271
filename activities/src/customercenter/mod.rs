//! The customercenter: the projection activities that keep the read model (CQRS) current. The
//! view's schema and its statements live in the `view` crate, which the API reads with too.

use std::sync::Arc;

use domain::{OrderProjection, StockLevel};
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

pub use view::ViewDb;

/// The customercenter's activities (task queue `customercenter`).
pub struct CustomerCenterActivities {
    pub db: ViewDb,
}

#[activities]
impl CustomerCenterActivities {
    #[activity(definition = domain::definitions::ProjectOrder)]
    pub async fn project_order(
        self: Arc<Self>,
        _ctx: ActivityContext,
        p: OrderProjection,
    ) -> Result<(), ActivityError> {
        crate::logged(
            "projectOrder",
            &p.order.order_id,
            self.db.project_order(&p).await.map_err(Into::into),
        )?;
        tracing::debug!(order_id = %p.order.order_id, status = %p.order.status, seq = p.order.seq(), "projected");
        Ok(())
    }

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
