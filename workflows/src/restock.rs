//! `RestockWorkflow`: one restock, so every stock addition is visible and auditable in the
//! Temporal UI (who added what, when, with its result).

use domain::{CustomerCenter, Restock, StockLevel, Warehouse};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{WorkflowContext, WorkflowResult};

use crate::options;

#[workflow]
#[derive(Default)]
pub struct RestockWorkflow;

#[workflow_methods]
impl RestockWorkflow {
    /// Adds the stock (idempotent per restock id), then projects the new level into the view.
    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>, restock: Restock) -> WorkflowResult<StockLevel> {
        let level = ctx
            .execute_activity(Warehouse::restock, restock, options::warehouse())
            .await?;
        ctx.execute_activity(CustomerCenter::project_stock, level.clone(), options::customercenter())
            .await?;
        Ok(level)
    }
}
