//! One typed client for the commands on an order: `cancel`, `startBrewing`, `completeProduction`
//! (workflow updates) and the `status` query. Every caller (the API's orders and kitchen routes,
//! the automatic baristas, the tests) gets the same three outcomes: the order as it is now, a
//! refusal with the workflow's words, no such workflow, or Temporal unavailable.

use domain::{CancelRequest, Order, OrderId, order_workflow_id};
use temporalio_client::errors::{WorkflowQueryError, WorkflowUpdateError};
use temporalio_client::tonic::Code;
use temporalio_client::{Client, WorkflowExecuteUpdateOptions, WorkflowQueryOptions};
use workflows::OrderWorkflow;

/// Why a command did not give back the order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The workflow refused it: not valid in the order's current state; `0` says why.
    #[error("{0}")]
    Refused(String),
    /// There is no open workflow for this order (it never existed, or it has finished).
    #[error("no open workflow for order {0}")]
    NotFound(OrderId),
    /// Temporal did not take the command; nothing was decided, and retrying is safe.
    #[error("Temporal did not take the command: {message}")]
    Unavailable {
        message: String,
        /// The server itself could not be reached (as opposed to a worker not answering).
        server_unreachable: bool,
    },
}

impl CommandError {
    fn unavailable(code: Option<Code>, message: String) -> Self {
        Self::Unavailable {
            message,
            server_unreachable: code == Some(Code::Unavailable),
        }
    }

    fn from_update(id: &OrderId, e: WorkflowUpdateError) -> Self {
        match e {
            WorkflowUpdateError::Failed(failure) => Self::Refused(failure.message.clone()),
            WorkflowUpdateError::NotFound(_) => Self::NotFound(id.clone()),
            WorkflowUpdateError::Rpc(status) => Self::unavailable(Some(status.code()), status.message().to_owned()),
            other => Self::unavailable(None, other.to_string()),
        }
    }

    fn from_query(id: &OrderId, e: WorkflowQueryError) -> Self {
        match e {
            WorkflowQueryError::NotFound(_) => Self::NotFound(id.clone()),
            WorkflowQueryError::Rpc(status) => Self::unavailable(Some(status.code()), status.message().to_owned()),
            other => Self::unavailable(None, other.to_string()),
        }
    }
}

/// The order commands, on one Temporal client (cheap to clone).
#[derive(Clone)]
pub struct OrderCommands {
    client: Client,
}

/// What a barista does to an order: the `startBrewing` and `completeProduction` updates, whether a
/// person sends them through the API's kitchen routes or an automatic barista does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaristaStep {
    Start,
    Complete,
}

impl OrderCommands {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    fn handle(&self, id: &OrderId) -> temporalio_client::WorkflowHandle<Client, OrderWorkflow> {
        self.client.get_workflow_handle::<OrderWorkflow>(order_workflow_id(id))
    }

    /// Cancels the order (refused once brewing has begun); its compensations follow.
    pub async fn cancel(&self, id: &OrderId, request: CancelRequest) -> Result<Order, CommandError> {
        self.handle(id)
            .execute_update(OrderWorkflow::cancel, request, WorkflowExecuteUpdateOptions::default())
            .await
            .map_err(|e| CommandError::from_update(id, e))
    }

    /// A barista's step on the order: start brewing (only a Queued order) or hand it over (only a
    /// Brewing one).
    pub async fn barista(&self, id: &OrderId, step: BaristaStep) -> Result<Order, CommandError> {
        let options = WorkflowExecuteUpdateOptions::default();
        let handle = self.handle(id);
        match step {
            BaristaStep::Start => handle.execute_update(OrderWorkflow::start_brewing, (), options).await,
            BaristaStep::Complete => handle.execute_update(OrderWorkflow::complete_production, (), options).await,
        }
        .map_err(|e| CommandError::from_update(id, e))
    }

    /// The order's full state, from its workflow.
    pub async fn status(&self, id: &OrderId) -> Result<Order, CommandError> {
        self.handle(id)
            .query(OrderWorkflow::status, (), WorkflowQueryOptions::default())
            .await
            .map_err(|e| CommandError::from_query(id, e))
    }
}
