//! One typed client for every command sent to Temporal: starting an order's `OrderWorkflow` and a
//! `RestockWorkflow` (with their options: queue, id, id reuse, search attributes, memo, the shop's
//! fairness key), the
//! order's `cancel`, `startBrewing` and `completeProduction` updates and its `status` query.
//! Every caller (the API's routes, the automatic baristas, the tests) sends them from here.
//!
//! A start answers [`Started::New`] or [`Started::Existing`] (that id already has its workflow: an
//! idempotent retry); an update or query answers the order as it is now or a [`CommandError`]:
//! a refusal with the workflow's words, no such workflow, or Temporal unavailable.

use domain::{
    CancelRequest, Order, OrderId, OrderRequest, OrderStatus, PlaceOrder, Restock, ShopId, StockLevel, order_workflow_id,
    queues, restock_workflow_id, search_attributes as sa,
};
use temporalio_client::errors::{
    WorkflowGetResultError, WorkflowInteractionError, WorkflowQueryError, WorkflowStartError, WorkflowUpdateError,
};
use temporalio_client::tonic::Code;
use temporalio_client::{
    Client, Priority, WorkflowDescribeOptions, WorkflowExecuteUpdateOptions, WorkflowGetResultOptions, WorkflowIdReusePolicy,
    WorkflowQueryOptions, WorkflowStartOptions,
};
use temporalio_common::MemoValues;
use temporalio_common::search_attributes::SearchAttributes;
use workflows::{OrderWorkflow, RestockWorkflow};

/// The memo key under which a restock keeps the request that started it, so that a repeated
/// `Idempotency-Key` can be told apart from a reused one.
const REQUEST_MEMO: &str = "request";

/// What a start did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// A new workflow runs.
    New,
    /// This id already has its workflow (running or finished); nothing new was started.
    Existing,
}

fn started(result: Result<impl Sized, WorkflowStartError>) -> Result<Started, WorkflowStartError> {
    match result {
        Ok(_) => Ok(Started::New),
        Err(WorkflowStartError::AlreadyStarted { .. }) => Ok(Started::Existing),
        Err(e) => Err(e),
    }
}

/// The fairness key of a shop's work: every task of its orders and restocks (the workflow's, and
/// the activities', which inherit it) is dispatched in turn with other shops' on the shared task
/// queues, so a rush at one shop does not make the others wait behind it
/// (docs/decisions/0010-shops-share-the-queues-with-fairness-keys.md).
fn by_shop(shop: &ShopId) -> Priority {
    Priority::builder().fairness_key(shop.as_str()).build()
}

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

/// The commands to Temporal, on one client (cheap to clone).
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

    /// Starts the order's `OrderWorkflow` on the cafe's queue, its id derived from the order id
    /// (never reused), searchable by status, product, customer and shop from its first event.
    pub async fn place(&self, order: &PlaceOrder) -> Result<Started, WorkflowStartError> {
        let options = WorkflowStartOptions::new(queues::CAFE, order_workflow_id(&order.order_id))
            .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
            .search_attributes(SearchAttributes::new([
                sa::ORDER_STATUS.value_set(OrderStatus::Ordered.to_string()),
                sa::PRODUCT_NAME.value_set(order.product_name.to_string()),
                sa::CUSTOMER_ID.value_set(order.customer_id.to_string()),
                sa::SHOP_ID.value_set(order.shop_id.to_string()),
            ]))
            .priority(by_shop(&order.shop_id))
            .build();
        started(
            self.client
                .start_workflow(OrderWorkflow::run, OrderRequest::from(order.clone()), options)
                .await,
        )
    }

    /// Starts a `RestockWorkflow` on the warehouse's queue, its id derived from the restock id
    /// (never reused), keeping `request` (what the caller asked, as JSON) in its memo.
    pub async fn restock(&self, restock: Restock, request: serde_json::Value) -> Result<Started, WorkflowStartError> {
        let mut memo = MemoValues::new();
        memo.insert(REQUEST_MEMO, request);
        let options = WorkflowStartOptions::new(queues::WAREHOUSE, restock_workflow_id(&restock.restock_id))
            .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
            .memo(memo)
            .priority(by_shop(&restock.shop_id))
            .build();
        started(self.client.start_workflow(RestockWorkflow::run, restock, options).await)
    }

    /// The request a restock was started with (from its memo; `None` if it has none).
    pub async fn restock_request(&self, restock_id: &str) -> Result<Option<serde_json::Value>, WorkflowInteractionError> {
        let described = self
            .client
            .get_workflow_handle::<RestockWorkflow>(restock_workflow_id(restock_id))
            .describe(WorkflowDescribeOptions::default())
            .await?;
        Ok(described.memo().get(REQUEST_MEMO).ok().flatten())
    }

    /// The stock level a restock left, once it has finished (waits for it).
    pub async fn restock_result(&self, restock_id: &str) -> Result<StockLevel, WorkflowGetResultError> {
        self.client
            .get_workflow_handle::<RestockWorkflow>(restock_workflow_id(restock_id))
            .get_result(WorkflowGetResultOptions::default())
            .await
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
