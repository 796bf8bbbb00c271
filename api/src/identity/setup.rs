//! The accounts database's schema (migrations in `api/migrations/`) and the first manager.

use super::accounts::{Accounts, now};
use super::passwords::check_password;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

impl Accounts {
    /// Applies the migrations and makes sure the chain's owner, `admin`, exists with
    /// `admin_password` (so changing the configured password changes it).
    pub async fn prepare(&self, admin_password: Option<&str>) -> anyhow::Result<()> {
        MIGRATOR.run(&self.pool).await?;
        let Some(password) = admin_password else {
            return Ok(());
        };
        check_password(password).map_err(|e| anyhow::anyhow!("COFFEESHOP_ADMIN_PASSWORD: {e}"))?;
        let stored: Option<String> = sqlx::query_scalar("SELECT password_hash FROM accounts WHERE name = 'admin'")
            .fetch_optional(&self.pool)
            .await?;
        if stored.is_some() && self.passwords.verify(password.to_owned(), stored).await? {
            return Ok(());
        }
        let hashed = self
            .passwords
            .hash(password.to_owned())
            .await?
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?;
        sqlx::query(
            "INSERT INTO accounts (name, role, password_hash, created_at) VALUES ('admin', 'owner', $1, $2)
             ON CONFLICT (name) DO UPDATE SET role = 'owner', shop_id = NULL, password_hash = excluded.password_hash",
        )
        .bind(hashed)
        .bind(now())
        .execute(&self.pool)
        .await?;
        tracing::info!("the owner account `admin` is set up from COFFEESHOP_ADMIN_PASSWORD");
        Ok(())
    }
}
