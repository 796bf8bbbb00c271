//! Retention: deleting, a batch at a time, what a service keeps per order once it is past
//! `COFFEESHOP_RETENTION` (decision 0003).

use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, SystemTime};

use activities::customercenter::ViewDb;
use activities::kitchen::KitchenDb;
use activities::warehouse::WarehouseDb;
use futures::StreamExt;
use temporalio_client::{Client, WorkflowListOptions};
use tokio::sync::watch;

use crate::config::RetentionConfig;

/// The most rows one pruning statement deletes, so that none holds its locks for long.
pub const PRUNE_BATCH: i64 = 1000;

/// A store that keeps rows per order: it can delete, at most [`PRUNE_BATCH`] at a time, those
/// older than `age` whose order is over, and say how many went.
pub trait Retained: Clone + Send + Sync + 'static {
    fn prune(&self, age: Duration) -> impl Future<Output = anyhow::Result<u64>> + Send;
}

/// The warehouse's retention. A reservation alone does not say whether its order is over (the
/// warehouse hears of an order's end only when it is compensated), so Temporal is asked: the
/// reservations past the retention whose orders' workflows are still running stay, however short
/// `COFFEESHOP_RETENTION` is and however long an order waits (`KITCHEN_MAX_WAIT=0`), so that their
/// `releaseStock` still finds them. Temporal not answering deletes nothing this time.
#[derive(Clone)]
pub struct WarehouseRetention {
    pub db: WarehouseDb,
    pub temporal: Client,
}

/// How many orders one visibility query asks about.
const ASKED_AT_ONCE: usize = 100;

impl WarehouseRetention {
    /// Of `orders`, those whose workflows are running.
    async fn running(&self, orders: &[String]) -> anyhow::Result<HashSet<String>> {
        let mut running = HashSet::new();
        for chunk in orders.chunks(ASKED_AT_ONCE) {
            let ids: Vec<String> = chunk.iter().map(|id| format!("'order-{}'", id.replace('\'', ""))).collect();
            let query = format!("ExecutionStatus = 'Running' AND WorkflowId IN ({})", ids.join(", "));
            let mut found = self.temporal.list_workflows(query, WorkflowListOptions::default());
            while let Some(workflow) = found.next().await {
                if let Some(order_id) = workflow?.id().strip_prefix("order-") {
                    running.insert(order_id.to_owned());
                }
            }
        }
        Ok(running)
    }
}

impl Retained for WarehouseRetention {
    async fn prune(&self, age: Duration) -> anyhow::Result<u64> {
        let old = self.db.reservations_older_than(age, PRUNE_BATCH).await?;
        let running = self.running(&old).await?;
        let over: Vec<String> = old.into_iter().filter(|id| !running.contains(id)).collect();
        let gone = self.db.forget_reservations(&over).await?;
        Ok(gone + self.db.prune_restocks(age, PRUNE_BATCH).await?)
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
