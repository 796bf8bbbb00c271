//! The cafe worker's own activity, run as a local activity inside an order's workflow task:
//! handing a projection to the customercenter over its ingest route. A local activity costs the
//! order one marker event instead of an activity task's three events and the workflow task that
//! follows. The customercenter applies it exactly as `projectOrder` would (idempotent,
//! order-safe); when it cannot take it now, the workflow falls back to that durable activity, so a
//! stopped customercenter still gets every projection once it is back.

use std::sync::Arc;
use std::time::Duration;

use domain::{OrderProjection, ingest};
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

pub struct CafeActivities {
    http: reqwest::Client,
    ingest: String,
}

impl CafeActivities {
    /// Hands projections to the customercenter whose health server is at `customercenter`
    /// (e.g. `http://127.0.0.1:8093`).
    pub fn new(customercenter: &str) -> Result<Self, reqwest::Error> {
        Ok(Self {
            // Well inside the local activity's own timeout: a slow customercenter means the
            // durable fallback, not a workflow task held up.
            http: reqwest::Client::builder().timeout(Duration::from_secs(1)).build()?,
            ingest: format!("{}{}", customercenter.trim_end_matches('/'), ingest::ORDER),
        })
    }
}

#[activities]
impl CafeActivities {
    #[activity(definition = domain::definitions::HandOverProjection)]
    pub async fn hand_over_projection(
        self: Arc<Self>,
        _ctx: ActivityContext,
        p: OrderProjection,
    ) -> Result<(), ActivityError> {
        self.http
            .post(&self.ingest)
            .json(&p)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| {
                tracing::debug!(order_id = %p.order.order_id, error = %e, "hand-over refused; projectOrder follows");
                e
            })?;
        Ok(())
    }
}
