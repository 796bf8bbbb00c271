//! The warehouse: stock levels, reservations per order and the restock log. Runs on PostgreSQL or
//! SQLite (polyglot persistence), chosen by the scheme of `WAREHOUSE_DATABASE_URL`; one set of SQL
//! serves both through sqlx's `Any` driver, so the two engines cannot drift apart.

use std::str::FromStr;
use std::sync::Arc;

use domain::{OrderId, ProductName, Reservation, Restock, StockLevel, failures};
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
}

/// What `reserve` decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserved {
    Taken(StockLevel),
    OutOfStock { available: i64 },
    UnknownProduct,
}

impl WarehouseDb {
    /// Connects (creating a SQLite file if needed) and applies the migrations.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let is_sqlite = url.starts_with("sqlite:");
        if !is_sqlite && !url.starts_with("postgres:") && !url.starts_with("postgresql:") {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        }
        let url = if is_sqlite && !url.contains("mode=") {
            format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
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
        Ok(Self { pool })
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Takes `qty` for the order if that much is in stock, in one transaction. A second call for
    /// the same order finds its reservation and takes nothing.
    pub async fn reserve(&self, r: &Reservation) -> Result<Reserved, StoreError> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO reservations (order_id, product_name, qty) VALUES ($1, $2, $3)
             ON CONFLICT (order_id) DO NOTHING",
        )
        .bind(r.order_id.as_str())
        .bind(r.product_name.as_str())
        .bind(i64::from(r.qty.get()))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            tx.rollback().await?;
            return Ok(match self.level(&r.product_name).await? {
                Some(level) => Reserved::Taken(level),
                None => Reserved::UnknownProduct,
            });
        }
        // The conditional update is the atomic check-and-deduct: concurrent orders on scarce
        // stock serialise on the row, and the loser finds too little left.
        let taken = sqlx::query(
            "UPDATE stock SET qty = qty - $1, version = version + 1
             WHERE product_name = $2 AND qty >= $1 RETURNING qty, version",
        )
        .bind(i64::from(r.qty.get()))
        .bind(r.product_name.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        match taken {
            Some(row) => {
                tx.commit().await?;
                Ok(Reserved::Taken(StockLevel {
                    product_name: r.product_name.clone(),
                    qty: row.try_get(0)?,
                    version: row.try_get(1)?,
                }))
            }
            None => {
                tx.rollback().await?;
                Ok(match self.level(&r.product_name).await? {
                    Some(level) => Reserved::OutOfStock { available: level.qty },
                    None => Reserved::UnknownProduct,
                })
            }
        }
    }

    /// Puts an order's reservation back, once. `None` when the order holds nothing.
    pub async fn release(&self, order_id: &OrderId) -> Result<Option<StockLevel>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let held = sqlx::query(
            "UPDATE reservations SET released = TRUE WHERE order_id = $1 AND released = FALSE
             RETURNING product_name, qty",
        )
        .bind(order_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(held) = held else {
            tx.rollback().await?;
            return Ok(None);
        };
        let product: String = held.try_get(0)?;
        let qty: i64 = held.try_get(1)?;
        let row = sqlx::query(
            "UPDATE stock SET qty = qty + $1, version = version + 1 WHERE product_name = $2
             RETURNING qty, version",
        )
        .bind(qty)
        .bind(&product)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(StockLevel {
            product_name: ProductName::parse(&product).expect("stored names were parsed on the way in"),
            qty: row.try_get(0)?,
            version: row.try_get(1)?,
        }))
    }

    /// Adds stock (creating the product if new), once per restock id.
    pub async fn restock(&self, r: &Restock) -> Result<StockLevel, StoreError> {
        let mut tx = self.pool.begin().await?;
        let first_time = sqlx::query(
            "INSERT INTO restocks (restock_id, product_name, qty) VALUES ($1, $2, $3)
             ON CONFLICT (restock_id) DO NOTHING",
        )
        .bind(&r.restock_id)
        .bind(r.product_name.as_str())
        .bind(i64::from(r.qty.get()))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if first_time {
            sqlx::query(
                "INSERT INTO stock (product_name, qty, version) VALUES ($1, $2, 1)
                 ON CONFLICT (product_name)
                 DO UPDATE SET qty = stock.qty + excluded.qty, version = stock.version + 1",
            )
            .bind(r.product_name.as_str())
            .bind(i64::from(r.qty.get()))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(self
            .level(&r.product_name)
            .await?
            .expect("the product exists once restocked"))
    }

    /// A product's current level, `None` if the warehouse does not know it.
    pub async fn level(&self, product: &ProductName) -> Result<Option<StockLevel>, StoreError> {
        let row = sqlx::query("SELECT qty, version FROM stock WHERE product_name = $1")
            .bind(product.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(StockLevel {
                product_name: product.clone(),
                qty: row.try_get(0)?,
                version: row.try_get(1)?,
            })
        })
        .transpose()
    }

    /// How much stock an order holds right now (0 when none or released).
    pub async fn held_by(&self, order_id: &OrderId) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT qty FROM reservations WHERE order_id = $1 AND released = FALSE")
            .bind(order_id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => row.try_get(0)?,
            None => 0,
        })
    }
}

/// Hides the password of a database URL for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme + 3], &creds[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The warehouse's activities (task queue `warehouse`).
pub struct WarehouseActivities {
    pub db: WarehouseDb,
}

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
        match crate::logged("reserveStock", &r.order_id, self.db.reserve(&r).await)? {
            Reserved::Taken(level) => {
                tracing::info!(order_id = %r.order_id, product = %r.product_name, qty = r.qty.get(), left = level.qty, "stock reserved");
                Ok(level)
            }
            Reserved::OutOfStock { available } => Err(refuse(
                failures::OUT_OF_STOCK,
                format!("{} {} wanted, {available} in stock", r.qty.get(), r.product_name),
            )),
            Reserved::UnknownProduct => Err(refuse(
                failures::UNKNOWN_PRODUCT,
                format!("the warehouse does not know {:?}", r.product_name.as_str()),
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
