//! The reading side: every query the API makes on the view. Nothing here writes.

use domain::{OrderId, OrderStatus};
use sqlx::postgres::PgPoolOptions;
use sqlx::{FromRow, PgPool, Row};

/// An order's row, and its history when the query reads it.
#[derive(Debug, Clone, FromRow, PartialEq)]
pub struct OrderRow {
    pub order_id: String,
    pub customer_id: String,
    pub shop_id: String,
    pub product_name: String,
    pub qty: i32,
    pub status: String,
    pub reason: Option<String>,
    pub placed_at: String,
    pub updated_at: String,
    /// What the order costs in cents, once reserved at a price.
    pub total_cents: Option<i64>,
    /// Every step in sequence order: read by [`View::order`], not by the list queries.
    #[sqlx(skip)]
    pub history: Option<Vec<Step>>,
}

/// One step of an order's history.
#[derive(Debug, Clone, FromRow, PartialEq, serde::Deserialize)]
pub struct Step {
    pub status: String,
    pub at: String,
}

#[derive(Debug, Clone, FromRow, PartialEq)]
pub struct StockRow {
    pub shop_id: String,
    pub product_name: String,
    pub qty: i64,
    /// The price of one unit in cents; `None` while the manager has set none.
    pub price_cents: Option<i64>,
}

/// One entry of the restock log.
#[derive(Debug, Clone, FromRow, PartialEq)]
pub struct RestockRow {
    pub restock_id: String,
    pub product_name: String,
    pub qty: i64,
    pub price_cents: Option<i64>,
    pub recorded_at: String,
}

/// Where a page ends: the last row's sort key (a customer's orders: when placed and the order's
/// id; the restock log: when recorded and the restock's id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// When the last row happened (an order placed, a restock recorded).
    pub at: String,
    /// The last row's id (an order's, a restock's).
    pub id: String,
}

impl Cursor {
    /// The cursor after `row`.
    pub fn after(row: &OrderRow) -> Self {
        Self {
            at: row.placed_at.clone(),
            id: row.order_id.clone(),
        }
    }

    pub fn encode(&self) -> String {
        format!("{}_{}", self.at, self.id)
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let (placed_at, order_id) = raw.split_once('_')?;
        OrderId::parse(order_id).ok()?;
        if placed_at.len() != 24 || !placed_at.ends_with('Z') {
            return None;
        }
        Some(Self {
            at: placed_at.to_owned(),
            id: order_id.to_owned(),
        })
    }
}

const ORDER_COLUMNS: &str = "order_id, customer_id, shop_id, product_name, qty, status, reason, placed_at, updated_at, total_cents";

#[derive(Clone, Debug)]
pub struct View {
    pub(crate) pool: PgPool,
}

impl View {
    /// A lazy pool: the API starts (and answers health checks) while the database is still away.
    pub fn connect_lazy(url: &str, max_connections: u32) -> sqlx::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(std::time::Duration::from_secs(2))
            .connect_lazy(url)?;
        Ok(Self { pool })
    }

    pub async fn ping(&self) -> sqlx::Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
    }

    /// One order with its full history, in sequence order: one round trip.
    pub async fn order(&self, id: &OrderId) -> sqlx::Result<Option<OrderRow>> {
        let row = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS},
                    (SELECT COALESCE(json_agg(json_build_object('status', h.status, 'at', h.at) ORDER BY h.seq), '[]')
                     FROM order_history h WHERE h.order_id = o.order_id) AS history
             FROM orders o WHERE o.order_id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut order = OrderRow::from_row(&row)?;
        let history: sqlx::types::Json<Vec<Step>> = row.try_get("history")?;
        order.history = Some(history.0);
        Ok(Some(order))
    }

    /// A customer's orders (at `shop`, or at every shop), newest first, `limit` after `cursor`: a
    /// range of the customer's index, whatever the number of orders.
    pub async fn orders_of(
        &self,
        customer_id: &str,
        shop: Option<&str>,
        cursor: Option<&Cursor>,
        limit: i64,
    ) -> sqlx::Result<Vec<OrderRow>> {
        match cursor {
            None => {
                sqlx::query_as(&format!(
                    "SELECT {ORDER_COLUMNS} FROM orders WHERE customer_id = $1 AND ($3::text IS NULL OR shop_id = $3)
                     ORDER BY placed_at DESC, order_id DESC LIMIT $2"
                ))
                .bind(customer_id)
                .bind(limit)
                .bind(shop)
                .fetch_all(&self.pool)
                .await
            }
            Some(c) => {
                sqlx::query_as(&format!(
                    "SELECT {ORDER_COLUMNS} FROM orders
                     WHERE customer_id = $1 AND (placed_at, order_id) < ($2, $3) AND ($5::text IS NULL OR shop_id = $5)
                     ORDER BY placed_at DESC, order_id DESC LIMIT $4"
                ))
                .bind(customer_id)
                .bind(&c.at)
                .bind(&c.id)
                .bind(limit)
                .bind(shop)
                .fetch_all(&self.pool)
                .await
            }
        }
    }

    /// A shop's kitchen board: its orders in `status`; the queue (Queued, Brewing) oldest first,
    /// as it is worked; finished orders most recently finished first.
    pub async fn board(&self, shop: &str, status: OrderStatus, limit: i64) -> sqlx::Result<Vec<OrderRow>> {
        let order = if status.is_final() {
            "updated_at DESC, order_id DESC"
        } else {
            "placed_at, order_id"
        };
        sqlx::query_as(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE shop_id = $3 AND status = $1 ORDER BY {order} LIMIT $2"
        ))
        .bind(status.as_str())
        .bind(limit)
        .bind(shop)
        .fetch_all(&self.pool)
        .await
    }

    /// A shop's restock log, newest first, `limit` after `cursor`: an index range scan, whatever the
    /// number of restocks or orders.
    pub async fn restocks(&self, shop: &str, cursor: Option<&Cursor>, limit: i64) -> sqlx::Result<Vec<RestockRow>> {
        const COLUMNS: &str = "restock_id, product_name, qty, price_cents, recorded_at";
        match cursor {
            None => {
                sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM restocks WHERE shop_id = $2
                     ORDER BY recorded_at DESC, restock_id DESC LIMIT $1"
                ))
                .bind(limit)
                .bind(shop)
                .fetch_all(&self.pool)
                .await
            }
            Some(c) => {
                sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM restocks WHERE shop_id = $4 AND (recorded_at, restock_id) < ($1, $2)
                     ORDER BY recorded_at DESC, restock_id DESC LIMIT $3"
                ))
                .bind(&c.at)
                .bind(&c.id)
                .bind(limit)
                .bind(shop)
                .fetch_all(&self.pool)
                .await
            }
        }
    }

    /// A shop's menu: what it stocks, how much and at what price.
    pub async fn stocks(&self, shop: &str) -> sqlx::Result<Vec<StockRow>> {
        sqlx::query_as(
            "SELECT shop_id, product_name, qty, price_cents FROM stock WHERE shop_id = $1 ORDER BY product_name",
        )
        .bind(shop)
        .fetch_all(&self.pool)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    #[test]
    fn a_cursor_survives_its_round_trip_and_junk_is_refused() {
        let c = Cursor {
            at: "2026-11-25T08:19:11.123Z".into(),
            id: "0190-ab".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        for junk in ["", "x", "2026_abc", "2026-11-25T08:19:11.123Z_a/b"] {
            assert_eq!(Cursor::decode(junk), None, "{junk:?}");
        }
    }
}
