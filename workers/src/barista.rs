//! Automatic baristas (`KITCHEN_AUTO_BARISTAS`, `KITCHEN_BREW_MS`): they take the oldest Queued
//! ticket, start brewing, wait the brew time and complete it, through exactly the workflow updates
//! a person would send, so demos and load tests need nobody at the counter.

use std::time::Duration;

use activities::kitchen::KitchenDb;
use domain::{Order, OrderId, order_workflow_id};
use temporalio_client::errors::WorkflowUpdateError;
use temporalio_client::{Client, WorkflowExecuteUpdateOptions};
use tokio::sync::watch;
use workflows::OrderWorkflow;

/// How long an idle barista waits before looking at the board again.
const IDLE_POLL: Duration = Duration::from_millis(100);

#[derive(Debug, Clone)]
pub struct Baristas {
    pub count: usize,
    pub brew: Duration,
}

impl Baristas {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            count: crate::config::number_or("KITCHEN_AUTO_BARISTAS", 0)?,
            brew: Duration::from_millis(crate::config::number_or("KITCHEN_BREW_MS", 3000)?),
        })
    }

    /// Runs the baristas until `stop` turns true; a barista finishes the order in its hands first.
    pub async fn run(self, db: KitchenDb, client: Client, stop: watch::Receiver<bool>) {
        if self.count == 0 {
            return;
        }
        // Names unique to this process, so tickets it left claimed can be handed back at start.
        let prefix = format!("auto-{}-", std::process::id());
        tracing::info!(
            count = self.count,
            brew_ms = self.brew.as_millis() as u64,
            "automatic baristas at work"
        );
        let mut crew = tokio::task::JoinSet::new();
        for i in 0..self.count {
            let name = format!("{prefix}{i}");
            crew.spawn(work(name, self.brew, db.clone(), client.clone(), stop.clone()));
        }
        while crew.join_next().await.is_some() {}
        if let Ok(n) = db.unclaim_all(&prefix).await
            && n > 0
        {
            tracing::info!(tickets = n, "handed unstarted tickets back to the board");
        }
    }
}

async fn work(name: String, brew: Duration, db: KitchenDb, client: Client, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        let claimed = match db.claim(&name).await {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(barista = %name, error = %e, "cannot read the kitchen board");
                None
            }
        };
        let Some(order_id) = claimed else {
            tokio::select! { _ = tokio::time::sleep(IDLE_POLL) => {}, _ = stop.changed() => {} }
            continue;
        };
        if !send(&client, &order_id, Step::Start).await {
            // Refused: the ticket can reach the board a moment before the workflow records it
            // as Queued, or a person started it first. Put it back; if it is still Queued, it
            // gets another try shortly, and a canceled or started ticket leaves the board anyway.
            if let Err(e) = db.release_claim(&order_id).await {
                tracing::warn!(order_id = %order_id, error = %e, "cannot put the ticket back");
            }
            tokio::select! { _ = tokio::time::sleep(IDLE_POLL) => {}, _ = stop.changed() => {} }
            continue;
        }
        tokio::time::sleep(brew).await;
        send(&client, &order_id, Step::Complete).await;
    }
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Start,
    Complete,
}

/// Sends one barista update, retrying while Temporal is unreachable. `false` when the workflow
/// refused it (the order was canceled first, say): that is a normal outcome, not an error.
async fn send(client: &Client, order_id: &OrderId, step: Step) -> bool {
    let handle = client.get_workflow_handle::<OrderWorkflow>(order_workflow_id(order_id));
    let mut delay = Duration::from_millis(100);
    loop {
        let result: Result<Order, WorkflowUpdateError> = match step {
            Step::Start => {
                handle
                    .execute_update(
                        OrderWorkflow::start_brewing,
                        (),
                        WorkflowExecuteUpdateOptions::default(),
                    )
                    .await
            }
            Step::Complete => {
                handle
                    .execute_update(
                        OrderWorkflow::complete_production,
                        (),
                        WorkflowExecuteUpdateOptions::default(),
                    )
                    .await
            }
        };
        match result {
            Ok(order) => {
                tracing::info!(order_id = %order_id, status = %order.status, "barista");
                return true;
            }
            Err(WorkflowUpdateError::Failed(failure)) => {
                tracing::info!(order_id = %order_id, step = ?step, refused = %failure.message, "barista skipped the ticket");
                return false;
            }
            Err(WorkflowUpdateError::NotFound(_)) => return false,
            Err(e) => {
                tracing::warn!(order_id = %order_id, error = %e, "barista cannot reach Temporal; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
}
