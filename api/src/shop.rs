//! `GET /shop`: the manager's dashboard, how the last hour went, from the customercenter view:
//! orders that ended each minute by outcome, placed-to-completed times, what waits now, refusals
//! by reason, and the stock of the most ordered products over the hour. The page draws it and
//! reads it again when `GET /events` says an order or a level changed.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use axum::Json;
use axum::extract::{Query, State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use view::{LevelAt, ShopRows};

use crate::auth::Caller;
use crate::identity::Role;
use crate::problem::ProblemDoc;
use crate::problem::ApiError;
use crate::shops::{ShopQuery, named};
use crate::state::AppState;

/// The window the dashboard shows, in minutes.
const WINDOW_MINUTES: u64 = 60;
/// How many products the stock chart follows.
const TOP_PRODUCTS: usize = 5;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(shop)).routes(routes!(chain))
}

/// A shop's dashboard: its last hour, and its stock over it.
#[derive(Debug, Serialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ShopView {
    #[serde(flatten)]
    pub last_hour: LastHour,
    /// The stock of the products most ordered in the window (up to five, those the shop stocks),
    /// over the window.
    pub stock: Vec<StockSeries>,
}

/// How a shop's last hour went: its dashboard's figures, and its row in the chain's view.
#[derive(Debug, Serialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LastHour {
    /// The first minute of the window (`YYYY-MM-DDTHH:MM`, UTC); the window is the last hour.
    pub since: String,
    /// Orders that ended, every minute of the window, oldest first.
    pub per_minute: Vec<Minute>,
    /// Orders that ended in the window, by outcome.
    pub finished: Outcomes,
    /// From placed to completed, over the orders completed in the window.
    pub placed_to_completed: Completion,
    /// Orders waiting now.
    pub waiting: Waiting,
    /// Orders refused in the window (rejected, or canceled because no barista took them in
    /// time), by reason: `OutOfStock`, `UnknownProduct`, `InvalidOrder`, `KitchenTimeout`, `other`.
    pub refusals: BTreeMap<String, i64>,
}

#[derive(Debug, Serialize, ToSchema, PartialEq, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Minute {
    /// `YYYY-MM-DDTHH:MM`, UTC.
    pub minute: String,
    pub completed: i64,
    pub rejected: i64,
    pub canceled: i64,
}

#[derive(Debug, Serialize, ToSchema, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Outcomes {
    pub completed: i64,
    pub rejected: i64,
    pub canceled: i64,
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    /// Median, in milliseconds; absent when no order completed in the window.
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub orders: i64,
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Waiting {
    /// For a barista to start them.
    pub queued: i64,
    /// Being made.
    pub brewing: i64,
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StockSeries {
    pub product_name: String,
    /// The level at the start of the window (minute `since`, when known), then at the end of each
    /// minute that changed it.
    pub points: Vec<LevelPoint>,
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct LevelPoint {
    /// `YYYY-MM-DDTHH:MM`, UTC.
    pub minute: String,
    pub qty: i64,
}

/// How a shop did in the last hour. Requires: a manager of the shop.
#[utoipa::path(get, path = "/shop", tag = "shop", params(ShopQuery),
    responses((status = 200, body = ShopView), (status = 422, description = "no such shop", body = ProblemDoc, content_type = "application/problem+json"), (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn shop(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ShopQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ShopView>, ApiError> {
    caller.require(&[Role::Manager], "the shop's dashboard")?;
    let Query(q) = query?;
    let shop = named(&state, q.shop_id.as_deref()).await?;
    caller.require_at(&[Role::Manager], &shop, "the shop's dashboard")?;
    let minutes = window(SystemTime::now());
    let since = format!("{}:00.000Z", minutes[0]);
    let rows = state.view.shop(shop.as_str(), &since).await?;
    let mut products = most_ordered(&rows);
    if products.is_empty() {
        let menu = state.view.stocks(shop.as_str()).await?;
        products = menu.into_iter().map(|s| s.product_name).take(TOP_PRODUCTS).collect();
    }
    let levels = state.view.stock_levels(shop.as_str(), &products, &since).await?;
    Ok(Json(ShopView { stock: stock_series(&minutes, &products, levels), last_hour: last_hour(&minutes, rows) }))
}

/// One shop in the chain's view: its last hour as its dashboard shows it (without the stock chart).
#[derive(Debug, Serialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ChainShop {
    pub shop_id: String,
    pub name: String,
    #[serde(flatten)]
    pub last_hour: LastHour,
}

/// Every shop's last hour, side by side, by shop id: orders finished by outcome (and per minute),
/// what waits now, placed-to-completed p50/p95, refusals by reason. Requires: owner.
#[utoipa::path(get, path = "/chain", tag = "shop",
    responses((status = 200, body = Vec<ChainShop>), (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn chain(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<ChainShop>>, ApiError> {
    caller.require(&[Role::Owner], "the chain's view")?;
    let shops = state.accounts.shops().await?;
    let ids: Vec<String> = shops.iter().map(|s| s.shop_id.to_string()).collect();
    let minutes = window(SystemTime::now());
    let since = format!("{}:00.000Z", minutes[0]);
    let mut rows = state.view.shops_since(&ids, &since).await?;
    let side_by_side = shops
        .into_iter()
        .map(|shop| ChainShop {
            last_hour: last_hour(&minutes, rows.remove(shop.shop_id.as_str()).unwrap_or_default()),
            shop_id: shop.shop_id.to_string(),
            name: shop.name,
        })
        .collect();
    Ok(Json(side_by_side))
}

/// The minutes of the window ending at `now`, oldest first (`YYYY-MM-DDTHH:MM`).
fn window(now: SystemTime) -> Vec<String> {
    (0..WINDOW_MINUTES)
        .rev()
        .map(|ago| domain::timestamp(now - Duration::from_secs(60 * ago))[..16].to_owned())
        .collect()
}

/// The products with the most orders that ended in the window, most first (up to five).
fn most_ordered(rows: &ShopRows) -> Vec<String> {
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for f in &rows.finished {
        *counts.entry(&f.product_name).or_default() += f.orders;
    }
    let mut ranked: Vec<_> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    ranked.into_iter().take(TOP_PRODUCTS).map(|(p, _)| p.to_owned()).collect()
}

/// A refusal's reason kind as the dashboard counts it; `None` for an order that was not refused
/// (completed, or canceled by someone).
fn refusal(status: &str, reason: &str) -> Option<&'static str> {
    let kind = domain::reason_kind(reason);
    match status {
        "Rejected" => Some(kind),
        "Canceled" if kind == domain::KITCHEN_TIMEOUT => Some(kind),
        _ => None,
    }
}

fn last_hour(minutes: &[String], rows: ShopRows) -> LastHour {
    let mut per_minute: Vec<Minute> =
        minutes.iter().map(|m| Minute { minute: m.clone(), ..Minute::default() }).collect();
    let mut finished = Outcomes::default();
    let mut refusals: BTreeMap<String, i64> = BTreeMap::new();
    for f in &rows.finished {
        let slot = per_minute.iter_mut().find(|m| m.minute == f.minute);
        let (total, in_minute) = match f.status.as_str() {
            "Completed" => (&mut finished.completed, slot.map(|m| &mut m.completed)),
            "Rejected" => (&mut finished.rejected, slot.map(|m| &mut m.rejected)),
            _ => (&mut finished.canceled, slot.map(|m| &mut m.canceled)),
        };
        *total += f.orders;
        if let Some(count) = in_minute {
            *count += f.orders;
        }
        if let Some(kind) = refusal(&f.status, &f.reason) {
            *refusals.entry(kind.to_owned()).or_default() += f.orders;
        }
    }
    LastHour {
        since: minutes[0].clone(),
        per_minute,
        finished,
        placed_to_completed: Completion {
            p50_ms: rows.completion_p50_ms,
            p95_ms: rows.completion_p95_ms,
            orders: rows.completed,
        },
        waiting: Waiting { queued: rows.queued, brewing: rows.brewing },
        refusals,
    }
}

/// The stock chart: each of `products`' levels over the window.
fn stock_series(minutes: &[String], products: &[String], levels: Vec<LevelAt>) -> Vec<StockSeries> {
    products
        .iter()
        .map(|product| StockSeries {
            product_name: product.clone(),
            points: levels
                .iter()
                .filter(|l| &l.product_name == product)
                .map(|l| LevelPoint {
                    minute: if l.minute.is_empty() { minutes[0].clone() } else { l.minute.clone() },
                    qty: l.qty,
                })
                .collect(),
        })
        // A product the shop never stocked (an order for something it does not sell) has no line.
        .filter(|series: &StockSeries| !series.points.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use view::Finished;

    fn finished(minute: &str, status: &str, reason: &str, product: &str, orders: i64) -> Finished {
        Finished {
            minute: minute.into(),
            status: status.into(),
            reason: reason.into(),
            product_name: product.into(),
            orders,
        }
    }

    #[test]
    fn the_window_is_the_last_sixty_minutes_oldest_first() {
        let now = humantime::parse_rfc3339("2026-12-05T11:30:42.000Z").unwrap();
        let minutes = window(now);
        assert_eq!(minutes.len(), 60);
        assert_eq!(minutes[0], "2026-12-05T10:31");
        assert_eq!(minutes[59], "2026-12-05T11:30");
    }

    #[test]
    fn ended_orders_are_counted_by_minute_outcome_and_refusal_reason() {
        let minutes = vec!["2026-12-05T11:00".to_owned(), "2026-12-05T11:01".to_owned()];
        let rows = ShopRows {
            finished: vec![
                finished("2026-12-05T11:00", "Completed", "", "Latte", 3),
                finished("2026-12-05T11:01", "Completed", "", "Mocha", 1),
                finished("2026-12-05T11:01", "Rejected", "OutOfStock", "Mocha", 2),
                finished("2026-12-05T11:01", "Rejected", "InvalidOrder", "Tea", 1),
                finished("2026-12-05T11:01", "Canceled", "KitchenTimeout", "Latte", 1),
                // Canceled by the customer: not a refusal.
                finished("2026-12-05T11:01", "Canceled", "changed my mind", "Latte", 4),
            ],
            completion_p50_ms: Some(120.0),
            completion_p95_ms: Some(400.0),
            completed: 4,
            queued: 2,
            brewing: 1,
        };
        assert_eq!(most_ordered(&rows), ["Latte", "Mocha", "Tea"]);
        let levels = vec![
            LevelAt { product_name: "Latte".into(), minute: String::new(), qty: 10 },
            LevelAt { product_name: "Latte".into(), minute: "2026-12-05T11:01".into(), qty: 6 },
        ];
        // Tea was never stocked: no line for it.
        let view = last_hour(&minutes, rows);
        let stock = stock_series(&minutes, &["Latte".to_owned(), "Tea".to_owned()], levels);
        assert_eq!(view.per_minute[0], Minute { minute: minutes[0].clone(), completed: 3, rejected: 0, canceled: 0 });
        assert_eq!(view.per_minute[1], Minute { minute: minutes[1].clone(), completed: 1, rejected: 3, canceled: 5 });
        assert_eq!(view.finished, Outcomes { completed: 4, rejected: 3, canceled: 5 });
        let refusals: Vec<_> = view.refusals.into_iter().collect();
        assert_eq!(
            refusals,
            [("InvalidOrder".to_owned(), 1), ("KitchenTimeout".to_owned(), 1), ("OutOfStock".to_owned(), 2)]
        );
        assert_eq!(view.waiting, Waiting { queued: 2, brewing: 1 });
        assert_eq!(stock.len(), 1);
        assert_eq!(stock[0].points[0], LevelPoint { minute: minutes[0].clone(), qty: 10 });
        assert_eq!(stock[0].points[1], LevelPoint { minute: minutes[1].clone(), qty: 6 });
    }
}
