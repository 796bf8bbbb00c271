//! The Shop dashboard's reads: how the last hour went, from the view alone. Each query is a range
//! of an index (finished orders by `(status, updated_at)`, the board's partial index, the stock
//! history by `(product_name, at)`), so its cost follows the last hour's orders, not all the
//! orders the view keeps.

use sqlx::FromRow;

use crate::View;

/// Finished orders of one minute, one outcome, one reason kind and one product.
#[derive(Debug, Clone, FromRow, PartialEq)]
pub struct Finished {
    /// `YYYY-MM-DDTHH:MM`, UTC: the minute the order ended in.
    pub minute: String,
    /// Completed, Rejected or Canceled.
    pub status: String,
    /// The reason's kind (what comes before a `:`), empty when completed.
    pub reason: String,
    pub product_name: String,
    pub orders: i64,
}

/// A product's level at the end of a minute (or, with an empty minute, just before the window).
#[derive(Debug, Clone, FromRow, PartialEq)]
pub struct LevelAt {
    pub product_name: String,
    pub minute: String,
    pub qty: i64,
}

/// What the dashboard is drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct ShopRows {
    pub finished: Vec<Finished>,
    /// Placed to completed, of the orders completed in the window: p50 and p95 in ms, and how many.
    pub completion_p50_ms: Option<f64>,
    pub completion_p95_ms: Option<f64>,
    pub completed: i64,
    /// Orders in Queued and in Brewing now.
    pub queued: i64,
    pub brewing: i64,
}

impl View {
    /// How the shop went since `since` (RFC 3339, as the view stores times).
    pub async fn shop(&self, since: &str) -> sqlx::Result<ShopRows> {
        let finished: Vec<Finished> = sqlx::query_as(
            "SELECT substr(updated_at, 1, 16) AS minute, status, COALESCE(split_part(reason, ':', 1), '') AS reason,
                    product_name, count(*) AS orders
             FROM orders
             WHERE status IN ('Completed', 'Rejected', 'Canceled') AND updated_at >= $1
             GROUP BY 1, 2, 3, 4",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        let (completion_p50_ms, completion_p95_ms, completed): (Option<f64>, Option<f64>, i64) = sqlx::query_as(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), percentile_cont(0.95) WITHIN GROUP (ORDER BY ms),
                    count(*)
             FROM (SELECT extract(epoch FROM updated_at::timestamptz - placed_at::timestamptz)::float8 * 1000 AS ms
                   FROM orders WHERE status = 'Completed' AND updated_at >= $1) AS completed",
        )
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        let (queued, brewing): (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE status = 'Queued'), count(*) FILTER (WHERE status = 'Brewing')
             FROM orders WHERE status IN ('Queued', 'Brewing')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(ShopRows { finished, completion_p50_ms, completion_p95_ms, completed, queued, brewing })
    }

    /// The levels of `products` since `since`: the last level of each minute that changed it,
    /// after the level each had just before (with an empty `minute`), oldest first.
    pub async fn stock_levels(&self, products: &[String], since: &str) -> sqlx::Result<Vec<LevelAt>> {
        sqlx::query_as(
            "SELECT p AS product_name, '' AS minute, before.qty
             FROM unnest($1::text[]) AS p,
                  LATERAL (SELECT qty FROM stock_history
                           WHERE product_name = p AND at < $2 ORDER BY at DESC LIMIT 1) AS before
             UNION ALL
             SELECT * FROM (
                 SELECT DISTINCT ON (product_name, substr(at, 1, 16)) product_name, substr(at, 1, 16), qty
                 FROM stock_history WHERE product_name = ANY($1) AND at >= $2
                 ORDER BY product_name, substr(at, 1, 16), at DESC, id DESC) AS minutes
             ORDER BY 1, 2",
        )
        .bind(products)
        .bind(since)
        .fetch_all(&self.pool)
        .await
    }
}
