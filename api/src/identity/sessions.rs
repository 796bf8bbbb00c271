//! A cache of verified sessions, so that a signed-in request does not need a database round trip
//! every time, without giving up "a signed-out token stops working at once, on every replica".
//!
//! The cafe database announces every sign-out (a trigger, `NOTIFY coffeeshop_signouts`); each API
//! process listens and drops the session from its cache. The cache is used only while that
//! listener is connected: when it is not (starting, or its connection lost), every request is
//! checked in the database as before, and the cache starts empty again once it listens again. A
//! sign-out that lands while a request is reading the session's row can never leave that row in
//! the cache: a row is kept only if no sign-out was heard since the read began.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;

use super::Account;

const SIGNOUTS: &str = "coffeeshop_signouts";

/// More sessions than this at once and the cache starts over (a bound, not a policy).
const MAX_ENTRIES: usize = 100_000;

#[derive(Clone)]
pub(crate) struct SessionCache {
    inner: Arc<Inner>,
}

impl Default for SessionCache {
    fn default() -> Self {
        Self {
            inner: Arc::new(Inner {
                entries: Mutex::default(),
                listening: AtomicBool::default(),
                signouts: AtomicU64::default(),
                ended: broadcast::channel(256).0,
            }),
        }
    }
}

struct Inner {
    /// Session id → the account it signs in and its expiry (Unix seconds).
    entries: Mutex<HashMap<String, (Account, i64)>>,
    /// Whether sign-outs are being heard right now; the cache is used only then.
    listening: AtomicBool,
    /// Sign-outs heard (and connections lost) so far.
    signouts: AtomicU64,
    /// Each session heard signed out, for whatever is still open on its behalf (live-update
    /// streams).
    ended: broadcast::Sender<String>,
}

/// Where a lookup started: see [`SessionCache::keep`].
pub(crate) struct Ticket(Option<u64>);

impl SessionCache {
    /// The cached account of `session`, if it is cached and unexpired at `now`.
    pub(crate) fn get(&self, session: &str, now: i64) -> Option<Account> {
        if !self.inner.listening.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.inner.entries.lock().expect("the cache lock is never poisoned");
        entries
            .get(session)
            .filter(|(_, expires_at)| *expires_at > now)
            .map(|(account, _)| account.clone())
    }

    pub(crate) fn listening(&self) -> bool {
        self.inner.listening.load(Ordering::Acquire)
    }

    /// Taken before reading a session's row from the database.
    pub(crate) fn ticket(&self) -> Ticket {
        let listening = self.inner.listening.load(Ordering::Acquire);
        Ticket(listening.then(|| self.inner.signouts.load(Ordering::Acquire)))
    }

    /// Keeps a row read under `ticket`, unless a sign-out was heard since (or nothing is heard).
    pub(crate) fn keep(&self, ticket: Ticket, session: String, account: Account, expires_at: i64) {
        let Ticket(Some(seen)) = ticket else { return };
        let mut entries = self.inner.entries.lock().expect("the cache lock is never poisoned");
        if self.inner.signouts.load(Ordering::Acquire) != seen || !self.inner.listening.load(Ordering::Acquire) {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(session, (account, expires_at));
    }

    /// Drops `session` (every session, for `None`) from the cache.
    pub(crate) fn forget(&self, session: Option<&str>) {
        let mut entries = self.inner.entries.lock().expect("the cache lock is never poisoned");
        self.inner.signouts.fetch_add(1, Ordering::AcqRel);
        match session {
            Some(session) => {
                entries.remove(session);
                let _ = self.inner.ended.send(session.to_owned());
            }
            None => entries.clear(),
        }
    }

    /// The sessions signed out from now on (as far as they are heard: see the module's notes).
    pub(crate) fn signed_out(&self) -> broadcast::Receiver<String> {
        self.inner.ended.subscribe()
    }

    fn set_listening(&self, listening: bool) {
        if !listening {
            self.inner.listening.store(false, Ordering::Release);
        }
        self.forget(None);
        if listening {
            self.inner.listening.store(true, Ordering::Release);
        }
    }

    /// Listens to the sign-outs of `pool`'s database for as long as the process runs.
    pub(crate) fn spawn_listener(&self, pool: PgPool) {
        let cache = self.clone();
        tokio::spawn(async move {
            loop {
                let mut listener = match listen(&pool).await {
                    Ok(listener) => listener,
                    Err(e) => {
                        tracing::debug!(error = %e, "sign-outs cannot be heard yet; every request checks its session");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                cache.set_listening(true);
                loop {
                    match listener.try_recv().await {
                        Ok(Some(signout)) => cache.forget(Some(signout.payload())),
                        // The connection was lost: sign-outs in between are unknown, so the
                        // cache is emptied and unused until a new connection listens.
                        Ok(None) => {
                            cache.set_listening(false);
                            break;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "sign-outs can no longer be heard; every request checks its session");
                            cache.set_listening(false);
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            break;
                        }
                    }
                }
            }
        });
    }
}

async fn listen(pool: &PgPool) -> sqlx::Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(SIGNOUTS).await?;
    Ok(listener)
}
