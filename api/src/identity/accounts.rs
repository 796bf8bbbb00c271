//! Accounts and sessions, in the cafe's own database (`CAFE_DATABASE_URL`): create an account,
//! list the staff, sign in, authenticate a token, sign out. Passwords are kept only as argon2id
//! hashes (`passwords.rs`); a session token is signed (`session_key.rs`) and honoured only while
//! its row is neither expired nor revoked (sign-out).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use super::error::{IdentityError, SignInError};
use super::limits::Limits;
use super::passwords::{Passwords, check_password};
use super::session_key::SessionKey;
use super::sessions::SessionCache;
use super::{Account, Role};
use domain::ShopId;

/// A new session: the token to present and when it stops working.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub expires_at: i64,
    pub account: Account,
}

/// Requests that may wait for a hashing thread in the default pool; more are answered `503`.
pub const PASSWORD_QUEUE: usize = 16;

#[derive(Clone)]
pub struct Accounts {
    pub(super) pool: PgPool,
    key: SessionKey,
    ttl: Duration,
    limits: Limits,
    pub(super) passwords: Passwords,
    sessions: SessionCache,
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accounts")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

pub(super) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Accounts {
    /// A lazy pool: the API starts while the database is still away; [`Accounts::prepare`] applies
    /// the migrations once it answers.
    pub fn connect_lazy(url: &str, key: SessionKey, ttl: Duration) -> sqlx::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(2))
            .connect_lazy(url)?;
        Ok(Self {
            pool,
            key,
            ttl,
            limits: Limits::default(),
            passwords: Passwords::start(Passwords::default_threads(), PASSWORD_QUEUE),
            sessions: SessionCache::default(),
        })
    }

    /// Hashes on `passwords` instead of the default pool, and limits attempts by `limits`.
    pub fn with_limits(mut self, passwords: Passwords, limits: Limits) -> Self {
        self.passwords = passwords;
        self.limits = limits;
        self
    }

    /// The rate limits on sign-in and on the anonymous routes.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Keeps verified sessions in memory, listening to the database's sign-outs so that a
    /// signed-out token still stops working at once on every replica (see `sessions.rs`).
    /// Without it, every request reads its session's row.
    pub fn cache_sessions(&self) {
        self.sessions.spawn_listener(self.pool.clone());
    }

    /// Sessions signed out from now on: here, or on any replica while sign-outs are heard.
    pub fn signed_out(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.sessions.signed_out()
    }

    /// Whether verified sessions are being cached right now (sign-outs are being heard).
    pub fn caching_sessions(&self) -> bool {
        self.sessions.listening()
    }

    /// Creates an account (a barista or a manager at `shop`); `Ok(false)` if the name is taken.
    pub async fn create(
        &self,
        name: &str,
        password: &str,
        role: Role,
        shop: Option<&ShopId>,
    ) -> Result<bool, IdentityError> {
        check_password(password)?;
        // A taken name is answered without the (deliberately slow) hash; the insert below still
        // settles a race between two sign-ups.
        let taken: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM accounts WHERE name = $1)")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        if taken {
            return Ok(false);
        }
        let hashed = self
            .passwords
            .hash(password.to_owned())
            .await?
            .map_err(IdentityError::Hashing)?;
        let inserted = sqlx::query(
            "INSERT INTO accounts (name, role, password_hash, created_at, shop_id) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(hashed)
        .bind(now())
        .bind(shop.map(ShopId::as_str))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// Staff accounts by name: of one shop, or (`None`) of the whole chain, the owner included.
    pub async fn staff(&self, shop: Option<&ShopId>) -> Result<Vec<Account>, IdentityError> {
        let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT name, role, shop_id FROM accounts
             WHERE role <> 'customer' AND ($1::TEXT IS NULL OR shop_id = $1) ORDER BY name",
        )
        .bind(shop.map(ShopId::as_str))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().filter_map(account).collect())
    }

    /// Checks the password and opens a session. Attempts are rate-limited per name.
    pub async fn sign_in(&self, name: &str, password: &str) -> Result<Session, SignInError> {
        self.limits.sign_in_attempt(name).map_err(SignInError::TooMany)?;
        let row: Option<(String, String, Option<String>)> =
            sqlx::query_as("SELECT role, password_hash, shop_id FROM accounts WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        let (found, stored) = row.map_or((None, None), |(role, hash, shop)| {
            (account((name.to_owned(), role, shop)), Some(hash))
        });
        if !self.passwords.verify(password.to_owned(), stored).await? {
            return Err(SignInError::Refused);
        }
        let account = found.ok_or(SignInError::Refused)?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let expires_at = now() + self.ttl.as_secs() as i64;
        sqlx::query("INSERT INTO sessions (id, account, expires_at) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(name)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(Session {
            token: self.key.sign(&id, expires_at),
            expires_at,
            account,
        })
    }

    /// The account a token signs in, if the token is genuine, unexpired and not signed out.
    pub async fn authenticate(&self, token: &str) -> Result<Option<(String, Account)>, IdentityError> {
        let Some((session, expires_at)) = self.key.verify(token) else {
            return Ok(None);
        };
        let now = now();
        if expires_at <= now {
            return Ok(None);
        }
        if let Some(account) = self.sessions.get(&session, now) {
            return Ok(Some((session, account)));
        }
        let ticket = self.sessions.ticket();
        let row: Option<(String, String, Option<String>, i64)> = sqlx::query_as(
            "SELECT a.name, a.role, a.shop_id, s.expires_at FROM sessions s JOIN accounts a ON a.name = s.account
             WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2",
        )
        .bind(&session)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some((name, role, shop, row_expires_at)) = row else {
            return Ok(None);
        };
        let Some(account) = account((name, role, shop)) else {
            return Ok(None);
        };
        self.sessions
            .keep(ticket, session.clone(), account.clone(), row_expires_at.min(expires_at));
        Ok(Some((session, account)))
    }

    /// Signs a session out: its token stops working at once, on every API replica.
    pub async fn sign_out(&self, session: &str) -> Result<(), IdentityError> {
        sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(session)
            .bind(now())
            .execute(&self.pool)
            .await?;
        // Here at once; on the other replicas when the database's announcement reaches them.
        self.sessions.forget(Some(session));
        Ok(())
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}

/// An account from its row (name, role, shop), or `None` for a row this code cannot read.
fn account((name, role, shop): (String, String, Option<String>)) -> Option<Account> {
    Some(Account {
        name,
        role: Role::parse(&role)?,
        shop: shop.map(|s| ShopId::parse(&s)).transpose().ok()?,
    })
}
