//! The cafe worker's own activities, run as local activities inside an order's workflow task: each
//! hands one step to the service that owns it, over that service's ingest route (a projection to
//! the customercenter, a reservation to the warehouse, a ticket and its move to Brewing to the
//! kitchen). A local activity costs the order one marker event instead of an activity task's three
//! events and the workflow task that follows. The owner applies the step exactly as its durable
//! activity would (idempotent, order-safe); when it cannot take it now, the workflow falls back to
//! that durable activity, so a stopped service still gets every step once it is back.

use std::sync::Arc;
use std::time::Duration;

use domain::{OrderId, OrderProjection, Reservation, ReservationOutcome, Ticket, TicketMove, ingest};
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

/// Where each owner takes its hand-overs: the base URL of its health server (e.g.
/// `http://127.0.0.1:8093`).
#[derive(Debug, Clone)]
pub struct Owners {
    pub customercenter: String,
    pub warehouse: String,
    pub kitchen: String,
}

pub struct CafeActivities {
    http: reqwest::Client,
    projections: String,
    reservations: String,
    tickets: String,
    moves: String,
}

impl CafeActivities {
    pub fn new(owners: &Owners) -> Result<Self, reqwest::Error> {
        let route = |base: &str, path: &str| format!("{}{path}", base.trim_end_matches('/'));
        Ok(Self {
            // Well inside the local activity's own timeout: a slow owner means the durable
            // fallback, not a workflow task held up.
            http: reqwest::Client::builder().timeout(Duration::from_secs(1)).build()?,
            projections: route(&owners.customercenter, ingest::ORDER),
            reservations: route(&owners.warehouse, ingest::RESERVATION),
            tickets: route(&owners.kitchen, ingest::TICKET),
            moves: route(&owners.kitchen, ingest::MOVE),
        })
    }

    /// Posts `step` to `url`; any failure (unreachable, refused, malformed answer) is the
    /// activity's failure, and the workflow then runs the step's durable activity.
    async fn hand_over<T, R>(&self, url: &str, order_id: &OrderId, step: &T) -> Result<R, ActivityError>
    where
        T: serde::Serialize,
        R: serde::de::DeserializeOwned,
    {
        let answer = async {
            self.http
                .post(url)
                .json(step)
                .send()
                .await?
                .error_for_status()?
                .json::<R>()
                .await
        };
        Ok(answer.await.map_err(|e| {
            tracing::debug!(order_id = %order_id, route = url, error = %e, "hand-over refused; the durable activity follows");
            e
        })?)
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
        self.hand_over(&self.projections, &p.order.order_id, &p).await
    }

    #[activity(definition = domain::definitions::HandOverReservation)]
    pub async fn hand_over_reservation(
        self: Arc<Self>,
        _ctx: ActivityContext,
        r: Reservation,
    ) -> Result<ReservationOutcome, ActivityError> {
        self.hand_over(&self.reservations, &r.order_id, &r).await
    }

    #[activity(definition = domain::definitions::HandOverTicket)]
    pub async fn hand_over_ticket(self: Arc<Self>, _ctx: ActivityContext, t: Ticket) -> Result<(), ActivityError> {
        self.hand_over(&self.tickets, &t.order_id, &t).await
    }

    #[activity(definition = domain::definitions::HandOverMove)]
    pub async fn hand_over_move(self: Arc<Self>, _ctx: ActivityContext, m: TicketMove) -> Result<(), ActivityError> {
        self.hand_over(&self.moves, &m.order_id, &m).await
    }
}
