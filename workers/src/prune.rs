//! Retention: deleting, a batch at a time, what a service keeps per order once it is past
//! `COFFEESHOP_RETENTION` (decision 0003).

use std::future::Future;
use std::time::{Duration, SystemTime};

use activities::customercenter::ViewDb;
use activities::kitchen::KitchenDb;
use activities::warehouse::WarehouseDb;
use tokio::sync::watch;

use crate::config::RetentionConfig;

/// The most rows one pruning statement deletes, so that none holds its locks for long.
pub const PRUNE_BATCH: i64 = 1000;

/// A store that keeps rows per order: it can delete, at most [`PRUNE_BATCH`] at a time, those
/// older than `age` whose order is over, and say how many went.
pub trait Retained: Clone + Send + Sync + 'static {
    fn prune(&self, age: Duration) -> impl Future<Output = anyhow::Result<u64>> + Send;
}

impl Retained for WarehouseDb {
    async fn prune(&self, age: Duration) -> anyhow::Result<u64> {
        Ok(WarehouseDb::prune(self, age, PRUNE_BATCH).await?)
    }
}

impl Retained for KitchenDb {
    async fn prune(&self, age: Duration) -> anyhow::Result<u64> {
        Ok(KitchenDb::prune(self, age, PRUNE_BATCH).await?)
    }
}

impl Retained for ViewDb {
    async fn prune(&self, age: Duration) -> anyhow::Result<u64> {
        // The view keeps its times as RFC 3339 text.
        let before = domain::timestamp(SystemTime::now() - age);
        Ok(ViewDb::prune(self, &before, PRUNE_BATCH).await?)
    }
}

/// Every `config.prune_every` until `stop`, deletes what `store` holds past `config.retention`, a
/// batch at a time until a batch comes back short. A failure is logged and tried again next time.
pub(crate) async fn periodically(
    service: &'static str,
    config: RetentionConfig,
    store: impl Retained,
    mut stop: watch::Receiver<bool>,
) {
    let mut every = tokio::time::interval(config.prune_every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        let mut deleted = 0;
        loop {
            match store.prune(config.retention).await {
                Ok(n) => {
                    deleted += n;
                    if n < PRUNE_BATCH as u64 || *stop.borrow() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(service, error = %e, "cannot delete rows past COFFEESHOP_RETENTION now; trying again later");
                    break;
                }
            }
        }
        if deleted > 0 {
            tracing::info!(service, deleted, "deleted rows past COFFEESHOP_RETENTION");
        }
    }
}
