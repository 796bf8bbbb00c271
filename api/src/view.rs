//! How the API shows what the customercenter view holds (the queries themselves live with the
//! view's schema, in the `view` crate).

use domain::{Price, order_workflow_id};
use serde::Serialize;

pub use view::{Cursor, View};

/// An order as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    pub order_id: String,
    pub workflow_id: String,
    pub customer_id: String,
    /// The shop it was placed at.
    pub shop_id: String,
    pub product_name: String,
    pub qty: i32,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub placed_at: String,
    pub updated_at: String,
    /// What the order costs (`"7.00"`), once the warehouse has reserved it at a price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<Step>>,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Step {
    pub status: String,
    pub at: String,
}

impl From<view::OrderRow> for OrderView {
    fn from(r: view::OrderRow) -> Self {
        Self {
            workflow_id: format!("order-{}", r.order_id),
            order_id: r.order_id,
            customer_id: r.customer_id,
            shop_id: r.shop_id,
            product_name: r.product_name,
            qty: r.qty,
            status: r.status,
            reason: r.reason,
            placed_at: r.placed_at,
            updated_at: r.updated_at,
            total: r.total_cents.map(|c| Price::from_cents(c).to_string()),
            history: r.history.map(|steps| {
                steps
                    .into_iter()
                    .map(|s| Step {
                        status: s.status,
                        at: s.at,
                    })
                    .collect()
            }),
        }
    }
}

impl From<domain::Order> for OrderView {
    fn from(o: domain::Order) -> Self {
        let total = o.total().map(|p| p.to_string());
        Self {
            workflow_id: order_workflow_id(&o.order_id),
            order_id: o.order_id.to_string(),
            customer_id: o.customer_id.to_string(),
            shop_id: o.shop_id.to_string(),
            product_name: o.product_name.to_string(),
            qty: o.qty.get() as i32,
            status: o.status.to_string(),
            reason: o.reason,
            total,
            placed_at: o.placed_at,
            updated_at: o.updated_at,
            history: Some(
                o.history
                    .into_iter()
                    .map(|h| Step {
                        status: h.status.to_string(),
                        at: h.at,
                    })
                    .collect(),
            ),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockView {
    pub shop_id: String,
    pub product_name: String,
    pub qty: i64,
    /// The price of one unit (`"3.50"`); absent while the manager has set none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
}

impl From<view::StockRow> for StockView {
    fn from(r: view::StockRow) -> Self {
        Self {
            shop_id: r.shop_id,
            product_name: r.product_name,
            qty: r.qty,
            price: r.price_cents.map(|c| Price::from_cents(c).to_string()),
        }
    }
}

/// The most rows a page holds, and how many it holds unless asked.
pub const MAX_PAGE: i64 = 100;
pub const DEFAULT_PAGE: i64 = 20;

/// A page's bounds from its query: `limit` (1 to [`MAX_PAGE`], default [`DEFAULT_PAGE`]) and the
/// `cursor` where the previous page ended.
pub(crate) fn page_bounds(limit: Option<i64>, cursor: Option<&str>) -> Result<(i64, Option<Cursor>), crate::problem::ApiError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(crate::problem::ApiError::bad_request(format!("limit must be from 1 to {MAX_PAGE}")));
    }
    let cursor = cursor
        .map(|raw| Cursor::decode(raw).ok_or_else(|| crate::problem::ApiError::bad_request("cursor is not one this API gave out")))
        .transpose()?;
    Ok((limit, cursor))
}

/// Keeps the first `limit` of `rows` (read one more than that) and returns where the next page
/// starts, if there is one.
pub(crate) fn cut<R>(rows: &mut Vec<R>, limit: i64, key: impl Fn(&R) -> Cursor) -> Option<String> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    more.then(|| rows.last().map(|row| key(row).encode())).flatten()
}

/// Rows of the view as the API shows them.
pub(crate) fn shown<R, V: From<R>>(rows: Vec<R>) -> Vec<V> {
    rows.into_iter().map(V::from).collect()
}
