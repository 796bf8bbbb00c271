//! The cafe worker's one activity of its own: `projectOrder`, run as a *local* activity inside an
//! order's workflow task, as Temporal's order reference app runs its status updates. It hands the
//! projection to the customercenter, which applies and stores it exactly as it would any other
//! (idempotent, ordered by `(atEvent, seq)`): one marker in the order's history instead of an
//! activity task's three events and the workflow task that follows. The workflow retries it until
//! it lands.

use std::sync::Arc;
use std::time::Duration;

use domain::OrderProjection;
use temporalio_macros::activities;
use temporalio_sdk::ApplicationFailure;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

use crate::Tally;
use crate::customercenter::INGEST_ROUTE;

/// The counter of orders that ended, by `outcome` (their final status) and `reason` (a refusal's
/// or the kitchen timeout's kind, `other` for a reason someone wrote, `none` when completed).
pub const ORDERS_FINISHED: &str = "coffeeshop_orders_finished";

pub struct CafeActivities {
    tally: Arc<dyn Tally>,
    http: reqwest::Client,
    projections: String,
    /// `Bearer <COFFEESHOP_INTERNAL_KEY>`: the ingest route is the cafe worker's alone.
    authorization: String,
}

impl CafeActivities {
    /// `customercenter`: the base URL of the customercenter's health server (e.g.
    /// `http://127.0.0.1:8093`), where it takes projections; `authorization`: the header value
    /// that route requires; `tally`: where an order's end is counted (once its final state is in
    /// the view).
    pub fn new(customercenter: &str, authorization: String, tally: Arc<dyn Tally>) -> Result<Self, reqwest::Error> {
        Ok(Self {
            tally,
            // Well inside the local activity's own timeout.
            http: reqwest::Client::builder().timeout(Duration::from_secs(1)).build()?,
            projections: format!("{}{INGEST_ROUTE}", customercenter.trim_end_matches('/')),
            authorization,
        })
    }
}

#[activities]
impl CafeActivities {
    #[activity(definition = domain::definitions::ProjectOrder)]
    pub async fn project_order(
        self: Arc<Self>,
        _ctx: ActivityContext,
        p: OrderProjection,
    ) -> Result<(), ActivityError> {
        let answer = self
            .http
            .post(&self.projections)
            .header(reqwest::header::AUTHORIZATION, &self.authorization)
            // The order's trace goes on to the customercenter.
            .headers(platform::telemetry::outgoing_headers())
            .json(&p)
            .send()
            .await;
        match answer.map(|r| r.status()) {
            Ok(status) if status.is_success() => {
                tracing::info!(order_id = %p.order.order_id, status = %p.order.status, "order step projected");
                if p.order.status.is_final() {
                    let reason = p.order.reason.as_deref().map_or("none", domain::reason_kind);
                    self.tally.count(ORDERS_FINISHED, &[("outcome", p.order.status.as_str()), ("reason", reason)]);
                }
                Ok(())
            }
            // A configuration mistake the operator fixes; the projection waits for it.
            Ok(reqwest::StatusCode::UNAUTHORIZED) => Err(anyhow::anyhow!(
                "the customercenter refused this worker's COFFEESHOP_INTERNAL_KEY (the two must match)"
            )
            .into()),
            // The customercenter refused the projection itself: sending it again cannot help.
            Ok(status) if status.is_client_error() => Err(ActivityError::application(
                ApplicationFailure::builder(format!("the customercenter refused the projection: {status}"))
                    .type_name("ProjectionRefused".to_owned())
                    .non_retryable(true)
                    .build(),
            )),
            Ok(status) => Err(anyhow::anyhow!("the customercenter answered {status}").into()),
            Err(e) => {
                tracing::debug!(order_id = %p.order.order_id, error = %e, "the view is away; the workflow retries");
                Err(e.into())
            }
        }
    }
}
