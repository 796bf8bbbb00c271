//! How often an unknown client may try: sign-in attempts per account name, attempts on the
//! anonymous routes (sign-in, sign-up) per client address, and which address a client has.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Attempts on the anonymous routes (sign-in, sign-up) allowed per client address by default:
/// a burst of this many, refilled at this many a minute.
pub const ANONYMOUS_PER_MINUTE: u32 = 60;

/// Sign-in attempts allowed per account name: a burst of this many, then one more per 12 s.
pub(super) const SIGN_IN_BURST: u32 = 5;

/// The rate limits and the rule for a client's address (cheap to clone).
#[derive(Clone)]
pub struct Limits {
    sign_ins: Arc<DefaultKeyedRateLimiter<String>>,
    /// Attempts on the anonymous routes, per client address.
    anonymous: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// The header a trusted proxy puts the client's address in (none: the connection's peer).
    client_address_header: Option<HeaderName>,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).expect("at least one"))
}

fn wait_from(not_until: governor::NotUntil<<DefaultClock as Clock>::Instant>) -> Duration {
    not_until.wait_time_from(DefaultClock::default().now())
}

impl Limits {
    /// `per_minute_per_address` attempts on the anonymous routes per client address, read from
    /// `client_address_header` when a proxy the deployment trusts sets it (else the connection's
    /// peer).
    pub fn new(per_minute_per_address: u32, client_address_header: Option<HeaderName>) -> Self {
        let per_name = Quota::with_period(Duration::from_secs(12))
            .expect("a non-zero period")
            .allow_burst(NonZeroU32::new(SIGN_IN_BURST).expect("non-zero"));
        Self {
            sign_ins: Arc::new(RateLimiter::keyed(per_name)),
            anonymous: Arc::new(RateLimiter::keyed(per_minute(per_minute_per_address))),
            client_address_header,
        }
    }

    /// The client's address: the last address in the trusted header (the one the proxy added),
    /// when one is configured and present, else the connection's `peer`.
    pub fn client_address(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
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
    pub fn anonymous_attempt(&self, address: IpAddr) -> Result<(), Duration> {
        self.anonymous.check_key(&address).map_err(wait_from)
    }

    /// A sign-in attempt for `name` (any case): `Err` with how long to wait when that name has
    /// had too many.
    pub(super) fn sign_in_attempt(&self, name: &str) -> Result<(), Duration> {
        self.sign_ins.check_key(&name.to_lowercase()).map_err(wait_from)
    }

    /// Forgets the attempts of names and addresses that have been quiet long enough to be allowed
    /// a full burst again, so the limiters' memory does not grow with every name ever tried.
    pub fn forget_quiet_attempts(&self) {
        self.sign_ins.retain_recent();
        self.sign_ins.shrink_to_fit();
        self.anonymous.retain_recent();
        self.anonymous.shrink_to_fit();
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::new(ANONYMOUS_PER_MINUTE, None)
    }
}
