//! Each shop's share of the order intake: at most so many new orders a second per shop (a burst
//! of as many), more answered `429` with `Retry-After` before anything reaches Temporal. A rush at
//! one shop then enters the system at the rate the deployment can carry beside the other shops;
//! the fairness keys share out what it admits (docs/decisions/0010-shops-share-the-queues-with-fairness-keys.md).

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use domain::ShopId;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// New orders a shop may place a second by default (`COFFEESHOP_ORDERS_PER_SHOP_PER_SECOND`):
/// 18,000 an hour, more than a kitchen brews. Measured on two cores (decision 0010): a rush held
/// to it leaves another shop's placed → Queued p99 within 1.5x its value alone; at 10 a second,
/// 4-6x.
pub const ORDERS_PER_SHOP_PER_SECOND: u32 = 5;

/// The per-shop limit on new orders (cheap to clone); `None` inside when there is no limit.
#[derive(Clone, Default)]
pub struct ShopAdmission(Option<Arc<DefaultKeyedRateLimiter<ShopId>>>);

impl ShopAdmission {
    /// `per_second` new orders a second per shop, in bursts of as many; 0: no limit.
    pub fn new(per_second: u32) -> Self {
        Self(NonZeroU32::new(per_second).map(|n| Arc::new(RateLimiter::keyed(Quota::per_second(n)))))
    }

    /// One new order at `shop`: `Err` with how long to wait when the shop has had its share.
    pub fn admit(&self, shop: &ShopId) -> Result<(), Duration> {
        let Some(limiter) = &self.0 else { return Ok(()) };
        limiter
            .check_key(shop)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets the shops that have been quiet long enough to be allowed a full burst again, so
    /// the limiter's memory does not grow with every shop id ever named.
    pub fn forget_quiet_shops(&self) {
        if let Some(limiter) = &self.0 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop(id: &str) -> ShopId {
        ShopId::parse(id).unwrap()
    }

    #[test]
    fn a_shop_gets_its_burst_then_waits_while_another_shop_is_admitted() {
        let admission = ShopAdmission::new(3);
        for _ in 0..3 {
            assert!(admission.admit(&shop("rush")).is_ok());
        }
        let wait = admission.admit(&shop("rush")).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(334), "{wait:?}");
        assert!(admission.admit(&shop("main")).is_ok(), "another shop has its own share");
    }

    #[test]
    fn zero_means_no_limit() {
        let admission = ShopAdmission::new(0);
        for _ in 0..1000 {
            assert!(admission.admit(&shop("main")).is_ok());
        }
    }
}
