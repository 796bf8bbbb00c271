//! The Shop dashboard's and the chain's reads: how the last hour went, from the view alone. Each
//! query is ranges of an index that begins with the shop (finished orders by `(shop_id, status,
//! updated_at)`, the board's partial index, the stock history by `(shop_id, product_name, at)`),
//! so its cost follows the last hour's orders of the shops asked about, not all the orders the
//! view keeps.

use std::collections::BTreeMap;

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
#[derive(Debug, Clone, PartialEq, Default)]
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

/// A row of one of the queries below, with the shop it is about.
#[derive(FromRow)]
struct AtShop<T> {
    shop_id: String,
    #[sqlx(flatten)]
    row: T,
}

#[derive(FromRow)]
struct CompletionRow {
    p50: Option<f64>,
    p95: Option<f64>,
    completed: i64,
}

#[derive(FromRow)]
struct WaitingRow {
    queued: i64,
    brewing: i64,
}

impl View {
    /// How each of `shops` went since `since` (RFC 3339, as the view stores times): one shop for
    /// its dashboard, every shop for the chain's. Three queries whatever the number of shops, each
    /// a range of an index that begins with the shop. A shop without orders gets empty rows.
    pub async fn shops_since(&self, shops: &[String], since: &str) -> sqlx::Result<BTreeMap<String, ShopRows>> {
        let mut rows: BTreeMap<String, ShopRows> = shops.iter().map(|s| (s.clone(), ShopRows::default())).collect();
        let finished: Vec<AtShop<Finished>> = sqlx::query_as(
            "SELECT shop_id, substr(updated_at, 1, 16) AS minute, status,
                    COALESCE(split_part(reason, ':', 1), '') AS reason, product_name, count(*) AS orders
             FROM orders
             WHERE shop_id = ANY($2) AND status IN ('Completed', 'Rejected', 'Canceled') AND updated_at >= $1
             GROUP BY 1, 2, 3, 4, 5",
        )
        .bind(since)
        .bind(shops)
        .fetch_all(&self.pool)
        .await?;
        for f in finished {
            rows.entry(f.shop_id).or_default().finished.push(f.row);
        }
        let completion: Vec<AtShop<CompletionRow>> = sqlx::query_as(
            "SELECT shop_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
                    percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95, count(*) AS completed
             FROM (SELECT shop_id, extract(epoch FROM updated_at::timestamptz - placed_at::timestamptz)::float8 * 1000 AS ms
                   FROM orders WHERE shop_id = ANY($2) AND status = 'Completed' AND updated_at >= $1) AS completed
             GROUP BY shop_id",
        )
        .bind(since)
        .bind(shops)
        .fetch_all(&self.pool)
        .await?;
        for c in completion {
            let shop = rows.entry(c.shop_id).or_default();
            (shop.completion_p50_ms, shop.completion_p95_ms, shop.completed) = (c.row.p50, c.row.p95, c.row.completed);
        }
        let waiting: Vec<AtShop<WaitingRow>> = sqlx::query_as(
            "SELECT shop_id, count(*) FILTER (WHERE status = 'Queued') AS queued,
                    count(*) FILTER (WHERE status = 'Brewing') AS brewing
             FROM orders WHERE shop_id = ANY($1) AND status IN ('Queued', 'Brewing') GROUP BY shop_id",
        )
        .bind(shops)
        .fetch_all(&self.pool)
        .await?;
        for w in waiting {
            let shop = rows.entry(w.shop_id).or_default();
            (shop.queued, shop.brewing) = (w.row.queued, w.row.brewing);
        }
        Ok(rows)
    }

    /// How one shop went since `since`.
    pub async fn shop(&self, shop: &str, since: &str) -> sqlx::Result<ShopRows> {
        let mut rows = self.shops_since(&[shop.to_owned()], since).await?;
        Ok(rows.remove(shop).unwrap_or_default())
    }

    /// The levels of a shop's `products` since `since`: the last level of each minute that
    /// changed it, after the level each had just before (with an empty `minute`), oldest first.
    pub async fn stock_levels(&self, shop: &str, products: &[String], since: &str) -> sqlx::Result<Vec<LevelAt>> {
        sqlx::query_as(
            "SELECT p AS product_name, '' AS minute, before.qty
             FROM unnest($1::text[]) AS p,
                  LATERAL (SELECT qty FROM stock_history
                           WHERE shop_id = $3 AND product_name = p AND at < $2 ORDER BY at DESC LIMIT 1) AS before
             UNION ALL
             SELECT * FROM (
                 SELECT DISTINCT ON (product_name, substr(at, 1, 16)) product_name, substr(at, 1, 16), qty
                 FROM stock_history WHERE shop_id = $3 AND product_name = ANY($1) AND at >= $2
                 ORDER BY product_name, substr(at, 1, 16), at DESC, id DESC) AS minutes
             ORDER BY 1, 2",
        )
        .bind(products)
        .bind(since)
        .bind(shop)
        .fetch_all(&self.pool)
        .await
    }
}
