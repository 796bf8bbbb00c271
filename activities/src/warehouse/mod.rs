//! The warehouse: stock levels, reservations per order and the restock log. Runs on PostgreSQL or
//! SQLite (polyglot persistence), chosen by the scheme of `WAREHOUSE_DATABASE_URL`; one set of SQL
//! serves both through sqlx's `Any` driver, so the two engines cannot drift apart.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use domain::{OrderId, Price, ProductName, Reservation, Restock, RestockRecord, ShopId, StockLevel, failures};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Row};
use temporalio_macros::activities;
use temporalio_sdk::ApplicationFailure;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

use crate::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("src/warehouse/migrations");

/// The warehouse's store.
#[derive(Clone, Debug)]
pub struct WarehouseDb {
    pool: AnyPool,
    is_sqlite: bool,
}

/// What `reserve` decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserved {
    Taken(StockLevel),
    OutOfStock {
        available: i64,
    },
    UnknownProduct,
    /// The order id belongs to another order, which has a reservation already.
    DuplicateOrderId,
}

impl Reserved {
    /// The refusal as stored: its failure type (`OutOfStock`, ...), `None` when the stock was taken.
    fn refusal_kind(&self) -> Option<&'static str> {
        match self {
            Self::Taken(_) => None,
            Self::OutOfStock { .. } => Some(failures::OUT_OF_STOCK),
            Self::UnknownProduct => Some(failures::UNKNOWN_PRODUCT),
            Self::DuplicateOrderId => Some(failures::DUPLICATE_ORDER_ID),
        }
    }
}

impl WarehouseDb {
    /// Connects (creating a SQLite file if needed) and applies the migrations.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let is_sqlite = url.starts_with("sqlite:");
        if !is_sqlite && !url.starts_with("postgres:") && !url.starts_with("postgresql:") {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        }
        let separator = if url.contains('?') { '&' } else { '?' };
        let url = if is_sqlite && !url.contains("mode=") {
            format!("{url}{separator}mode=rwc")
        } else if !is_sqlite && !url.contains("options=") {
            // Bounded statements and lock waits, as for every PostgreSQL store (platform::postgres).
            format!(
                "{url}{separator}options=-c%20statement_timeout%3D{}%20-c%20lock_timeout%3D{}",
                platform::postgres::STATEMENT_TIMEOUT,
                platform::postgres::LOCK_TIMEOUT
            )
        } else {
            url.to_owned()
        };
        let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        // SQLite serialises writers anyway; one connection avoids lock upgrades failing as busy.
        let max = if is_sqlite { 1 } else { max_connections };
        let pool = AnyPoolOptions::new().max_connections(max).connect_with(options).await?;
        if is_sqlite {
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
        }
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool, is_sqlite })
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The orders whose reservations were made more than `age` ago, oldest first, at most
    /// `batch`: candidates for deletion, once their orders are known to be over
    /// (`workers::WarehouseRetention` asks Temporal). The one statement that differs by engine:
    /// how each says "`age` ago".
    pub async fn reservations_older_than(&self, age: Duration, batch: i64) -> Result<Vec<String>, StoreError> {
        let sql = format!(
            "SELECT order_id FROM reservations WHERE created_at < {} ORDER BY created_at LIMIT $2",
            self.ago()
        );
        let rows: Vec<(String,)> =
            sqlx::query_as(&sql).bind(age.as_secs() as i64).bind(batch).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Deletes the reservations of `orders` (orders that are over); returns how many went.
    pub async fn forget_reservations(&self, orders: &[String]) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut gone = 0;
        for order_id in orders {
            gone += sqlx::query("DELETE FROM reservations WHERE order_id = $1")
                .bind(order_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(gone)
    }

    /// Deletes at most `batch` restock records made more than `age` ago; returns how many went.
    pub async fn prune_restocks(&self, age: Duration, batch: i64) -> Result<u64, StoreError> {
        let sql = format!(
            "DELETE FROM restocks WHERE restock_id IN (
                 SELECT restock_id FROM restocks WHERE created_at < {} LIMIT $2)",
            self.ago()
        );
        Ok(sqlx::query(&sql).bind(age.as_secs() as i64).bind(batch).execute(&self.pool).await?.rows_affected())
    }

    /// "`$1` seconds ago", as this engine says it.
    fn ago(&self) -> &'static str {
        if self.is_sqlite {
            "datetime('now', '-' || $1 || ' seconds')"
        } else {
            "CURRENT_TIMESTAMP - make_interval(secs => $1)"
        }
    }

    /// Takes `qty` for the order if that much is in stock, in one transaction. A second call for
    /// the same order (a retry, or an earlier attempt that wakes up late) finds the order's row and
    /// takes nothing: the row records what was decided, a refusal included, so a late attempt can
    /// never contradict it. A row of another order with the same id is refused.
    #[tracing::instrument(name = "db.reserve", skip_all, fields(order_id = %r.order_id))]
    pub async fn reserve(&self, r: &Reservation) -> Result<Reserved, StoreError> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO reservations (order_id, product_name, qty, order_run, shop_id, price_cents)
             VALUES ($1, $2, $3, $4, $5, (SELECT price_cents FROM stock WHERE shop_id = $5 AND product_name = $2))
             ON CONFLICT (order_id) DO NOTHING",
        )
        .bind(r.order_id.as_str())
        .bind(r.product_name.as_str())
        .bind(i64::from(r.qty.get()))
        .bind(r.order_run.as_deref())
        .bind(r.shop_id.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            tx.rollback().await?;
            return self.decided(r).await;
        }
        // The conditional update is the atomic check-and-deduct: concurrent orders on scarce
        // stock serialise on the row, and the loser finds too little left.
        let taken = sqlx::query(
            "UPDATE stock SET qty = qty - $1, version = version + 1
             WHERE shop_id = $3 AND product_name = $2 AND qty >= $1 RETURNING qty, version, price_cents",
        )
        .bind(i64::from(r.qty.get()))
        .bind(r.product_name.as_str())
        .bind(r.shop_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = taken {
            tx.commit().await?;
            let level = StockLevel {
                shop_id: r.shop_id.clone(),
                product_name: r.product_name.clone(),
                qty: row.try_get(0)?,
                version: row.try_get(1)?,
                price: price(row.try_get(2)?),
                restocked: None,
            };
            tracing::info!(order_id = %r.order_id, product = %r.product_name, qty = r.qty.get(), left = level.qty, "stock reserved");
            return Ok(Reserved::Taken(level));
        }
        // Read inside the transaction: on SQLite the pool has one connection, which it holds.
        let available: Option<i64> =
            sqlx::query_scalar("SELECT qty FROM stock WHERE shop_id = $1 AND product_name = $2")
            .bind(r.shop_id.as_str())
            .bind(r.product_name.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let refusal = match available {
            Some(available) => Reserved::OutOfStock { available },
            None => Reserved::UnknownProduct,
        };
        sqlx::query("UPDATE reservations SET refused = $2 WHERE order_id = $1")
            .bind(r.order_id.as_str())
            .bind(refusal.refusal_kind())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(refusal)
    }

    /// What was decided for an order that already has a reservation row.
    async fn decided(&self, r: &Reservation) -> Result<Reserved, StoreError> {
        let row: Option<(Option<String>, Option<String>, Option<i64>)> =
            sqlx::query_as("SELECT order_run, refused, price_cents FROM reservations WHERE order_id = $1")
                .bind(r.order_id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        let (order_run, refused, taken_at) = row.unwrap_or_default();
        if let (Some(stored), Some(asking)) = (&order_run, &r.order_run)
            && stored != asking
        {
            return Ok(Reserved::DuplicateOrderId);
        }
        let level = self.level(&r.shop_id, &r.product_name).await?;
        Ok(match (refused.as_deref(), level) {
            (Some(failures::UNKNOWN_PRODUCT), _) | (_, None) => Reserved::UnknownProduct,
            (Some(_), Some(level)) => Reserved::OutOfStock { available: level.qty },
            // The price the stock was taken at, whatever the product costs now.
            (None, Some(level)) => Reserved::Taken(StockLevel {
                price: price(taken_at),
                ..level
            }),
        })
    }

    /// Puts an order's reservation back, once. `None` when the order holds nothing. When the
    /// order has no reservation at all, leaves a released one in its place, so an attempt to
    /// reserve that arrives after the compensation takes nothing.
    #[tracing::instrument(name = "db.release", skip_all, fields(order_id = %order_id))]
    pub async fn release(&self, order_id: &OrderId) -> Result<Option<StockLevel>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let held = sqlx::query(
            "UPDATE reservations SET released = TRUE
             WHERE order_id = $1 AND released = FALSE AND refused IS NULL
             RETURNING shop_id, product_name, qty",
        )
        .bind(order_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(held) = held else {
            sqlx::query(
                "INSERT INTO reservations (order_id, product_name, qty, released) VALUES ($1, '', 0, TRUE)
                 ON CONFLICT (order_id) DO NOTHING",
            )
            .bind(order_id.as_str())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(None);
        };
        let shop: String = held.try_get(0)?;
        let product: String = held.try_get(1)?;
        let qty: i64 = held.try_get(2)?;
        let row = sqlx::query(
            "UPDATE stock SET qty = qty + $1, version = version + 1 WHERE shop_id = $2 AND product_name = $3
             RETURNING qty, version, price_cents",
        )
        .bind(qty)
        .bind(&shop)
        .bind(&product)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::Inconsistent(format!(
                "order {order_id} holds {qty} of {product:?}, a product shop {shop} does not stock"
            )));
        };
        tx.commit().await?;
        let (Ok(shop_id), Ok(product_name)) = (ShopId::parse(&shop), ProductName::parse(&product)) else {
            tracing::warn!(order_id = %order_id, product, "stock released for a product whose stored name is not valid");
            return Ok(None);
        };
        Ok(Some(StockLevel {
            shop_id,
            product_name,
            qty: row.try_get(0)?,
            version: row.try_get(1)?,
            price: price(row.try_get(2)?),
            restocked: None,
        }))
    }

    /// Adds stock (creating the product if new), once per restock id.
    #[tracing::instrument(name = "db.restock", skip_all, fields(product = %r.product_name))]
    pub async fn restock(&self, r: &Restock) -> Result<StockLevel, StoreError> {
        let mut tx = self.pool.begin().await?;
        let first_time = sqlx::query(
            "INSERT INTO restocks (restock_id, shop_id, product_name, qty) VALUES ($1, $2, $3, $4)
             ON CONFLICT (restock_id) DO NOTHING",
        )
        .bind(&r.restock_id)
        .bind(r.shop_id.as_str())
        .bind(r.product_name.as_str())
        .bind(i64::from(r.qty.get()))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if first_time {
            sqlx::query(
                "INSERT INTO stock (shop_id, product_name, qty, version, price_cents) VALUES ($1, $2, $3, 1, $4)
                 ON CONFLICT (shop_id, product_name)
                 DO UPDATE SET qty = stock.qty + excluded.qty, version = stock.version + 1,
                               price_cents = COALESCE(excluded.price_cents, stock.price_cents)",
            )
            .bind(r.shop_id.as_str())
            .bind(r.product_name.as_str())
            .bind(i64::from(r.qty.get()))
            .bind(r.price.map(Price::cents))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        let level = self.level(&r.shop_id, &r.product_name).await?.ok_or_else(|| {
            StoreError::Inconsistent(format!("{} was restocked at {} but is not in stock", r.product_name, r.shop_id))
        })?;
        Ok(StockLevel {
            restocked: Some(RestockRecord {
                restock_id: r.restock_id.clone(),
                qty: i64::from(r.qty.get()),
            }),
            ..level
        })
    }

    /// A product's current level at a shop, `None` if that shop does not stock it.
    pub async fn level(&self, shop: &ShopId, product: &ProductName) -> Result<Option<StockLevel>, StoreError> {
        let row = sqlx::query("SELECT qty, version, price_cents FROM stock WHERE shop_id = $1 AND product_name = $2")
            .bind(shop.as_str())
            .bind(product.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(StockLevel {
                shop_id: shop.clone(),
                product_name: product.clone(),
                qty: row.try_get(0)?,
                version: row.try_get(1)?,
                price: price(row.try_get(2)?),
                restocked: None,
            })
        })
        .transpose()
    }

    /// How much stock an order holds right now (0 when none or released).
    pub async fn held_by(&self, order_id: &OrderId) -> Result<i64, StoreError> {
        let row =
            sqlx::query("SELECT qty FROM reservations WHERE order_id = $1 AND released = FALSE AND refused IS NULL")
                .bind(order_id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some(row) => row.try_get(0)?,
            None => 0,
        })
    }
}

pub use platform::config::redact;

fn price(cents: Option<i64>) -> Option<Price> {
    cents.map(Price::from_cents)
}

/// The warehouse's activities (task queue `warehouse`).
pub struct WarehouseActivities {
    pub db: WarehouseDb,
    /// Where refused reservations are counted ([`RESERVATIONS_REFUSED`]).
    pub tally: Arc<dyn crate::Tally>,
}

/// The counter of reservations the warehouse refused, by `reason` (`OutOfStock`, …).
pub const RESERVATIONS_REFUSED: &str = "coffeeshop_reservations_refused";

fn refuse(kind: &str, message: String) -> ActivityError {
    ActivityError::application(
        ApplicationFailure::builder(message)
            .type_name(kind.to_owned())
            .non_retryable(true)
            .build(),
    )
}

#[activities]
impl WarehouseActivities {
    #[activity(definition = domain::definitions::ReserveStock)]
    pub async fn reserve_stock(
        self: Arc<Self>,
        _ctx: ActivityContext,
        r: Reservation,
    ) -> Result<StockLevel, ActivityError> {
        let reserved = crate::logged("reserveStock", &r.order_id, self.db.reserve(&r).await)?;
        if let Some(reason) = reserved.refusal_kind() {
            self.tally.count(RESERVATIONS_REFUSED, &[("reason", reason)]);
        }
        match reserved {
            Reserved::Taken(level) => Ok(level),
            Reserved::OutOfStock { available } => Err(refuse(
                failures::OUT_OF_STOCK,
                format!("{} {} wanted, {available} in stock", r.qty.get(), r.product_name),
            )),
            Reserved::UnknownProduct => Err(refuse(
                failures::UNKNOWN_PRODUCT,
                format!("shop {} does not stock {:?}", r.shop_id, r.product_name.as_str()),
            )),
            Reserved::DuplicateOrderId => Err(refuse(
                failures::DUPLICATE_ORDER_ID,
                format!("order id {} belongs to an earlier order; place a new order", r.order_id),
            )),
        }
    }

    #[activity(definition = domain::definitions::ReleaseStock)]
    pub async fn release_stock(
        self: Arc<Self>,
        _ctx: ActivityContext,
        order_id: OrderId,
    ) -> Result<Option<StockLevel>, ActivityError> {
        let level = crate::logged("releaseStock", &order_id, self.db.release(&order_id).await)?;
        tracing::info!(order_id = %order_id, released = level.is_some(), "stock released");
        Ok(level)
    }

    #[activity(definition = domain::definitions::Restock)]
    pub async fn restock(self: Arc<Self>, _ctx: ActivityContext, r: Restock) -> Result<StockLevel, ActivityError> {
        let level = crate::logged("restock", &r.restock_id, self.db.restock(&r).await)?;
        tracing::info!(restock_id = %r.restock_id, product = %r.product_name, added = r.qty.get(), now = level.qty, "restocked");
        Ok(level)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(super::redact("postgres://u:secret@h:5/db"), "postgres://u:***@h:5/db");
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
