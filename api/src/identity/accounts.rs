//! Accounts and sessions, in the cafe's own database (`CAFE_DATABASE_URL`, migrations in
//! `api/migrations/`). Passwords are kept only as argon2id hashes; a session token is
//! `<session id>.<expiry>.<HMAC-SHA256 of both under the API's key>`: a forged or altered token is
//! refused without touching the database, a genuine one is honoured only while its row is neither
//! expired nor revoked (sign-out).

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::ApiError;
use super::passwords::{Busy, Passwords};
use super::sessions::SessionCache;
use super::{Account, Role};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// The key sessions are signed with. Never printed.
#[derive(Clone)]
pub struct SessionKey(Arc<Vec<u8>>);

impl SessionKey {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(Arc::new(bytes.into()))
    }

    /// A random key (for a single API process: its sessions end when it stops).
    pub fn random() -> Self {
        let mut bytes = Vec::with_capacity(32);
        while bytes.len() < 32 {
            bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        }
        Self::new(bytes)
    }

    fn mac(&self, payload: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(payload.as_bytes());
        mac
    }

    fn sign(&self, session: &str, expires_at: i64) -> String {
        let payload = format!("{session}.{expires_at}");
        let tag = URL_SAFE_NO_PAD.encode(self.mac(&payload).finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    /// The session id and expiry of a token signed with this key, or `None` if it was not.
    fn verify(&self, token: &str) -> Option<(String, i64)> {
        let (payload, tag) = token.rsplit_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(payload).verify_slice(&tag).ok()?;
        let (session, expires_at) = payload.split_once('.')?;
        Some((session.to_owned(), expires_at.parse().ok()?))
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKey(***)")
    }
}

/// A new session: the token to present and when it stops working.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub expires_at: i64,
    pub account: Account,
}

/// Why a sign-in failed.
#[derive(Debug)]
pub enum SignInError {
    /// Unknown name or wrong password (which one is not said).
    Refused,
    /// Too many attempts for this name; try again after this long.
    TooMany(Duration),
    Store(ApiError),
}

impl From<Busy> for SignInError {
    fn from(busy: Busy) -> Self {
        Self::Store(busy.into())
    }
}

/// Attempts on the anonymous routes (sign-in, sign-up) allowed per client address by default:
/// a burst of this many, refilled at this many a minute.
pub const ANONYMOUS_PER_MINUTE: u32 = 60;

/// Sign-in attempts allowed per account name: a burst of this many, then one more per 12 s.
pub(super) const SIGN_IN_BURST: u32 = 5;

#[derive(Clone)]
pub struct Accounts {
    pool: PgPool,
    key: SessionKey,
    ttl: Duration,
    sign_ins: Arc<DefaultKeyedRateLimiter<String>>,
    /// Attempts on the anonymous routes, per client address.
    anonymous: Arc<DefaultKeyedRateLimiter<std::net::IpAddr>>,
    /// The header a trusted proxy puts the client's address in (none: the connection's peer).
    client_address_header: Option<axum::http::HeaderName>,
    passwords: Passwords,
    sessions: SessionCache,
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accounts")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Password rules, checked before anything is stored.
pub(super) fn check_password(password: &str) -> Result<(), ApiError> {
    let chars = password.chars().count();
    if !(8..=128).contains(&chars) {
        return Err(ApiError::unprocessable("password must be 8 to 128 characters"));
    }
    Ok(())
}

/// Requests that may wait for a hashing thread in the default pool; more are answered `503`.
pub const PASSWORD_QUEUE: usize = 16;

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).expect("at least one"))
}

impl Accounts {
    /// A lazy pool: the API starts while the database is still away; [`Accounts::prepare`] applies
    /// the migrations once it answers.
    pub fn connect_lazy(url: &str, key: SessionKey, ttl: Duration) -> sqlx::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(2))
            .connect_lazy(url)?;
        let quota = Quota::with_period(Duration::from_secs(12))
            .expect("a non-zero period")
            .allow_burst(NonZeroU32::new(SIGN_IN_BURST).expect("non-zero"));
        Ok(Self {
            pool,
            key,
            ttl,
            sign_ins: Arc::new(RateLimiter::keyed(quota)),
            anonymous: Arc::new(RateLimiter::keyed(per_minute(ANONYMOUS_PER_MINUTE))),
            client_address_header: None,
            passwords: Passwords::start(Passwords::default_threads(), PASSWORD_QUEUE),
            sessions: SessionCache::default(),
        })
    }

    /// Hashes on `passwords` instead of the default pool; allows `per_minute_per_address`
    /// attempts on the anonymous routes per client address, read from `client_address_header`
    /// when a proxy the deployment trusts sets it (else the connection's peer).
    pub fn with_limits(
        mut self,
        passwords: Passwords,
        per_minute_per_address: u32,
        client_address_header: Option<axum::http::HeaderName>,
    ) -> Self {
        self.passwords = passwords;
        self.anonymous = Arc::new(RateLimiter::keyed(per_minute(per_minute_per_address)));
        self.client_address_header = client_address_header;
        self
    }

    /// The client's address: the last address in the trusted header (the one the proxy added),
    /// when one is configured and present, else the connection's `peer`.
    pub fn client_address(
        &self,
        peer: Option<std::net::IpAddr>,
        headers: &axum::http::HeaderMap,
    ) -> Option<std::net::IpAddr> {
        let Some(header) = &self.client_address_header else {
            return peer;
        };
        let forwarded = headers
            .get_all(header)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .last();
        forwarded.or(peer)
    }

    /// An attempt on an anonymous route from `address`: `Err` with how long to wait when that
    /// address has made too many.
    pub fn anonymous_attempt(&self, address: std::net::IpAddr) -> Result<(), Duration> {
        self.anonymous.check_key(&address).map_err(|not_until| {
            not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()))
        })
    }

    /// Forgets the attempts of names and addresses that have been quiet long enough to be allowed
    /// a full burst again, so the limiters' memory does not grow with every name ever tried.
    pub fn forget_quiet_attempts(&self) {
        self.sign_ins.retain_recent();
        self.sign_ins.shrink_to_fit();
        self.anonymous.retain_recent();
        self.anonymous.shrink_to_fit();
    }

    /// Keeps verified sessions in memory, listening to the database's sign-outs so that a
    /// signed-out token still stops working at once on every replica (see `sessions.rs`).
    /// Without it, every request reads its session's row.
    pub fn cache_sessions(&self) {
        self.sessions.spawn_listener(self.pool.clone());
    }

    /// Sessions signed out from now on: here, or on any replica while sign-outs are heard.
    pub(crate) fn signed_out(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.sessions.signed_out()
    }

    /// Whether verified sessions are being cached right now (sign-outs are being heard).
    pub fn caching_sessions(&self) -> bool {
        self.sessions.listening()
    }

    /// Applies the migrations and makes sure the first manager, `admin`, exists with
    /// `admin_password` (so changing the configured password changes it).
    pub async fn prepare(&self, admin_password: Option<&str>) -> anyhow::Result<()> {
        MIGRATOR.run(&self.pool).await?;
        if let Some(password) = admin_password {
            check_password(password).map_err(|e| anyhow::anyhow!("COFFEESHOP_ADMIN_PASSWORD: {e}"))?;
            let stored: Option<String> = sqlx::query_scalar("SELECT password_hash FROM accounts WHERE name = 'admin'")
                .fetch_optional(&self.pool)
                .await?;
            if stored.is_none() || !self.passwords.verify(password.to_owned(), stored).await? {
                let hashed = self
                    .passwords
                    .hash(password.to_owned())
                    .await?
                    .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?;
                sqlx::query(
                    "INSERT INTO accounts (name, role, password_hash, created_at) VALUES ('admin', 'manager', $1, $2)
                     ON CONFLICT (name) DO UPDATE SET role = 'manager', password_hash = excluded.password_hash",
                )
                .bind(hashed)
                .bind(now())
                .execute(&self.pool)
                .await?;
                tracing::info!("the manager account `admin` is set up from COFFEESHOP_ADMIN_PASSWORD");
            }
        }
        Ok(())
    }

    /// Creates an account; `Ok(false)` if the name is taken.
    pub async fn create(&self, name: &str, password: &str, role: Role) -> Result<bool, ApiError> {
        check_password(password)?;
        // A taken name is answered without the (deliberately slow) hash; the insert below still
        // settles a race between two sign-ups.
        let taken: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM accounts WHERE name = $1)")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)?;
        if taken {
            return Ok(false);
        }
        let hashed = self
            .passwords
            .hash(password.to_owned())
            .await?
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("hashing a password: {e}")))?;
        let inserted = sqlx::query(
            "INSERT INTO accounts (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(hashed)
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// Staff accounts, by name.
    pub async fn staff(&self) -> Result<Vec<Account>, ApiError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT name, role FROM accounts WHERE role <> 'customer' ORDER BY name")
                .fetch_all(&self.pool)
                .await
                .map_err(unavailable)?;
        Ok(rows
            .into_iter()
            .filter_map(|(name, role)| {
                Some(Account {
                    name,
                    role: Role::parse(&role)?,
                })
            })
            .collect())
    }

    /// Checks the password and opens a session. Attempts are rate-limited per name.
    pub async fn sign_in(&self, name: &str, password: &str) -> Result<Session, SignInError> {
        if let Err(not_until) = self.sign_ins.check_key(&name.to_lowercase()) {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
            return Err(SignInError::TooMany(wait));
        }
        let row: Option<(String, String)> = sqlx::query_as("SELECT role, password_hash FROM accounts WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| SignInError::Store(unavailable(e)))?;
        let (role, stored) = row.map_or((None, None), |(r, h)| (Role::parse(&r), Some(h)));
        if !self.passwords.verify(password.to_owned(), stored).await? {
            return Err(SignInError::Refused);
        }
        let role = role.ok_or(SignInError::Refused)?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let expires_at = now() + self.ttl.as_secs() as i64;
        sqlx::query("INSERT INTO sessions (id, account, expires_at) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(name)
            .bind(expires_at)
            .execute(&self.pool)
            .await
            .map_err(|e| SignInError::Store(unavailable(e)))?;
        Ok(Session {
            token: self.key.sign(&id, expires_at),
            expires_at,
            account: Account {
                name: name.to_owned(),
                role,
            },
        })
    }

    /// The account a token signs in, if the token is genuine, unexpired and not signed out.
    pub async fn authenticate(&self, token: &str) -> Result<Option<(String, Account)>, ApiError> {
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
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT a.name, a.role, s.expires_at FROM sessions s JOIN accounts a ON a.name = s.account
             WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2",
        )
        .bind(&session)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        let Some((name, role, row_expires_at)) = row else {
            return Ok(None);
        };
        let Some(role) = Role::parse(&role) else {
            return Ok(None);
        };
        let account = Account { name, role };
        self.sessions
            .keep(ticket, session.clone(), account.clone(), row_expires_at.min(expires_at));
        Ok(Some((session, account)))
    }

    /// Signs a session out: its token stops working at once, on every API replica.
    pub async fn sign_out(&self, session: &str) -> Result<(), ApiError> {
        sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(session)
            .bind(now())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        // Here at once; on the other replicas when the database's announcement reaches them.
        self.sessions.forget(Some(session));
        Ok(())
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}

fn unavailable(e: sqlx::Error) -> ApiError {
    ApiError::Unavailable {
        cause: anyhow::Error::new(e).context("the accounts database is unavailable"),
        retry_after_secs: 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_unaltered_and_under_its_own_key() {
        let key = SessionKey::new(b"k1-k1-k1-k1-k1-k1-k1-k1-k1-k1-k1".to_vec());
        let token = key.sign("abc", 1_900_000_000);
        assert_eq!(key.verify(&token), Some(("abc".to_owned(), 1_900_000_000)));
        let other = SessionKey::new(b"k2-k2-k2-k2-k2-k2-k2-k2-k2-k2-k2".to_vec());
        assert_eq!(other.verify(&token), None, "another key");
        let later = token.replace("1900000000", "1900000001");
        assert_eq!(key.verify(&later), None, "a changed expiry");
        let swapped = token.replacen("abc", "abd", 1);
        assert_eq!(key.verify(&swapped), None, "a changed session");
        for junk in ["", ".", "a.b", "a.b.c", "abc.1900000000."] {
            assert_eq!(key.verify(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn the_key_is_never_printed() {
        assert_eq!(format!("{:?}", SessionKey::new(b"secret".to_vec())), "SessionKey(***)");
    }
}
