//! The chain's shops (in the accounts' database: a barista's or a manager's account names the
//! shop they work at). A fresh install has one, `main`.

use domain::ShopId;

use super::accounts::{Accounts, now};
use super::error::IdentityError;

/// A shop of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shop {
    pub shop_id: ShopId,
    pub name: String,
}

impl Accounts {
    /// Every shop, by id.
    pub async fn shops(&self) -> Result<Vec<Shop>, IdentityError> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT shop_id, name FROM shops ORDER BY shop_id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, name)| Some(Shop { shop_id: ShopId::parse(&id).ok()?, name }))
            .collect())
    }

    /// Whether `shop` exists.
    pub async fn has_shop(&self, shop: &ShopId) -> Result<bool, IdentityError> {
        Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM shops WHERE shop_id = $1)")
            .bind(shop.as_str())
            .fetch_one(&self.pool)
            .await?)
    }

    /// Opens a shop; `Ok(false)` if one with this id exists already.
    pub async fn open_shop(&self, shop: &Shop) -> Result<bool, IdentityError> {
        let inserted = sqlx::query(
            "INSERT INTO shops (shop_id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (shop_id) DO NOTHING",
        )
        .bind(shop.shop_id.as_str())
        .bind(&shop.name)
        .bind(now())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }
}
