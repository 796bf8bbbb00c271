//! `GET /events`: live updates for the web page, as Server-Sent Events.
//!
//! One task listens to the view's change feed (one PostgreSQL connection, whatever the number of
//! pages open) and fans each change out over a broadcast channel; each open stream is one small
//! task that filters what its reader may see: customers their own orders, staff their shop's, the
//! owner every shop's, everyone the stock levels (each says its shop). Streams are bounded (`COFFEESHOP_MAX_EVENT_STREAMS`; beyond it 503).
//!
//! A stream opens with `ready`; after `ready` or `resync` the page reads a fresh snapshot over the
//! REST routes, so nothing missed while it was away (a reconnect, a lagging reader, the feed's
//! own lost connection) stays missing. The browser's `EventSource` reconnects by itself.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use serde::Serialize;
use tokio::sync::{OwnedSemaphorePermit, broadcast};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use crate::fanout::{Change, Live};

use crate::identity::Role;
use crate::auth::Caller;
use crate::problem::ProblemDoc;
use crate::view::OrderView;
use crate::problem::ApiError;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

/// Whose orders a stream shows.
enum Audience {
    Customer(String),
    /// A barista or manager: their shop's orders.
    Shop(String),
    /// The owner: every shop's orders.
    Chain,
}

impl Audience {
    fn sees(&self, order: &OrderView) -> bool {
        match self {
            Self::Customer(me) => order.customer_id == *me,
            Self::Shop(shop) => order.shop_id == *shop,
            Self::Chain => true,
        }
    }
}

#[derive(Serialize)]
struct Ready<'a> {
    account: &'a str,
    role: &'a str,
}

/// Live updates (Server-Sent Events): `ready` first, then `order` (an order as `GET /orders/{id}`
/// shows it: a customer's own orders, staff their shop's, the owner every order), `stock` (a
/// product's level at a shop) and
/// `resync` (changes may have been missed: read again). Any signed-in account; at most
/// `COFFEESHOP_MAX_EVENT_STREAMS` open at once (503 beyond).
#[utoipa::path(get, path = "/events", tag = "live",
    responses((status = 200, description = "an event stream", content_type = "text/event-stream"),
        (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn events(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let permit = state
        .live
        .streams
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::unavailable("too many live update streams are open; try again shortly"))?;
    let audience = match (caller.role(), &caller.account.shop) {
        (Role::Customer, _) => Audience::Customer(caller.account.name.clone()),
        (Role::Barista | Role::Manager, Some(shop)) => Audience::Shop(shop.to_string()),
        _ => Audience::Chain,
    };
    let ready = Event::default().event("ready").json_data(Ready {
        account: &caller.account.name,
        role: caller.role().as_str(),
    });
    let first = ready.map_err(|e| ApiError::Internal(e.into()))?;
    let stream = Subscriber {
        changes: state.live.changes.subscribe(),
        signed_out: state.accounts.signed_out(),
        session: caller.session().to_owned(),
        audience,
        _permit: permit,
    };
    let events = futures::stream::once(async move { Ok(first) }).chain(futures::stream::unfold(stream, next_event));
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// One open stream: its place in the fan-out and its share of the limit (given back on drop,
/// i.e. when the reader goes away).
struct Subscriber {
    changes: broadcast::Receiver<Change>,
    /// Sessions signed out: when this stream's is, the stream ends (and the page, reconnecting,
    /// is told to sign in again).
    signed_out: broadcast::Receiver<String>,
    session: String,
    audience: Audience,
    _permit: OwnedSemaphorePermit,
}

async fn next_event(mut s: Subscriber) -> Option<(Result<Event, Infallible>, Subscriber)> {
    loop {
        let received = tokio::select! {
            ended = s.signed_out.recv() => match ended {
                Ok(session) if session == s.session => return None,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            },
            received = s.changes.recv() => received,
        };
        let event = match received {
            Ok(Change::Order(order)) if s.audience.sees(&order) => Event::default().event("order").json_data(&*order),
            Ok(Change::Order(_)) => continue,
            Ok(Change::Stock(level)) => Event::default().event("stock").json_data(&*level),
            Ok(Change::Resync) | Err(broadcast::error::RecvError::Lagged(_)) => {
                Ok(Event::default().event("resync").data("{}"))
            }
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        match event {
            Ok(event) => return Some((Ok(event), s)),
            Err(e) => tracing::warn!(error = %e, "a change could not be written as an event"),
        }
    }
}
