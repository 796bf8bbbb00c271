//! The order workflow's logic, quickly: the real `OrderWorkflow` on a real Temporal dev server,
//! with the three services' activities replaced by in-memory fakes that implement the same
//! contracts (`domain::definitions`) and record every call. No PostgreSQL, no worker processes,
//! no API: each test takes about a second. The full-stack tests in `e2e/` cover what crosses
//! processes; these cover the saga's decisions and the order of its side effects.

mod common;

use common::server;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::{
    CustomerId, Order, OrderId, OrderProjection, OrderRequest, PlaceOrder, ProductName, Quantity, Reservation,
    Restock, StockLevel, Ticket, TicketMove, failures, order_workflow_id, queues,
};
use temporalio_client::{
    Client, WorkflowCancelOptions, WorkflowExecuteUpdateOptions,
    WorkflowFetchHistoryOptions, WorkflowGetResultOptions, WorkflowStartOptions,
};
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::{ApplicationFailure, Runtime, Worker, WorkerOptions};
use workflows::OrderWorkflow;

/// Every side effect the fakes were asked for, in order: `reserveStock(o-1)`, `releaseStock(o-1)`…
#[derive(Clone, Default)]
struct Calls(Arc<Mutex<Vec<String>>>);

impl Calls {
    fn push(&self, call: String) {
        self.0.lock().unwrap().push(call);
    }
    /// Every call, projections included.
    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    /// The calls except projections (which run beside the saga, in no fixed order with it).
    fn saga(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|c| !c.starts_with("project"))
            .cloned()
            .collect()
    }
}

/// The warehouse's stock.
#[derive(Clone, Default)]
struct Stock(Arc<Mutex<HashMap<String, i64>>>);

impl Stock {
    /// Takes the reservation's quantity, or names the refusal; recorded as `reserveStock(<id>)`.
    fn reserve(&self, calls: &Calls, r: Reservation) -> Result<StockLevel, &'static str> {
        calls.push(format!("reserveStock({})", r.order_id));
        let mut stock = self.0.lock().unwrap();
        let Some(qty) = stock.get_mut(r.product_name.as_str()) else {
            return Err(failures::UNKNOWN_PRODUCT);
        };
        if *qty < i64::from(r.qty.get()) {
            return Err(failures::OUT_OF_STOCK);
        }
        *qty -= i64::from(r.qty.get());
        Ok(StockLevel {
            shop_id: r.shop_id,
            product_name: r.product_name,
            qty: *qty,
            version: 1,
            price: None,
            restocked: None,
        })
    }
}

pub struct FakeWarehouse {
    stock: Stock,
    calls: Calls,
}

#[activities]
impl FakeWarehouse {
    #[activity(definition = domain::definitions::ReserveStock)]
    pub async fn reserve_stock(
        self: Arc<Self>,
        _: ActivityContext,
        r: Reservation,
    ) -> Result<StockLevel, ActivityError> {
        self.stock.reserve(&self.calls, r).map_err(refuse)
    }

    #[activity(definition = domain::definitions::ReleaseStock)]
    pub async fn release_stock(
        self: Arc<Self>,
        _: ActivityContext,
        id: OrderId,
    ) -> Result<Option<StockLevel>, ActivityError> {
        self.calls.push(format!("releaseStock({id})"));
        Ok(None)
    }

    #[activity(definition = domain::definitions::Restock)]
    pub async fn restock(self: Arc<Self>, _: ActivityContext, r: Restock) -> Result<StockLevel, ActivityError> {
        Ok(StockLevel {
            shop_id: r.shop_id,
            product_name: r.product_name,
            qty: i64::from(r.qty.get()),
            version: 1,
            price: None,
            restocked: None,
        })
    }
}

fn refuse(kind: &str) -> ActivityError {
    ActivityError::application(
        ApplicationFailure::builder(kind.to_owned())
            .type_name(kind.to_owned())
            .non_retryable(true)
            .build(),
    )
}

pub struct FakeKitchen {
    calls: Calls,
}

#[activities]
impl FakeKitchen {
    #[activity(definition = domain::definitions::StartProduction)]
    pub async fn start_production(self: Arc<Self>, _: ActivityContext, t: Ticket) -> Result<(), ActivityError> {
        self.calls.push(format!("startProduction({})", t.order_id));
        Ok(())
    }

    #[activity(definition = domain::definitions::MoveTicket)]
    pub async fn move_ticket(self: Arc<Self>, _: ActivityContext, m: TicketMove) -> Result<(), ActivityError> {
        self.calls.push(format!("moveTicket({}, {})", m.order_id, m.status));
        Ok(())
    }

    #[activity(definition = domain::definitions::CancelProduction)]
    pub async fn cancel_production(self: Arc<Self>, _: ActivityContext, id: OrderId) -> Result<(), ActivityError> {
        self.calls.push(format!("cancelProduction({id})"));
        Ok(())
    }
}

pub struct FakeCustomerCenter;

#[activities]
impl FakeCustomerCenter {
    #[activity(definition = domain::definitions::ProjectStock)]
    pub async fn project_stock(self: Arc<Self>, _: ActivityContext, _: StockLevel) -> Result<(), ActivityError> {
        Ok(())
    }
}

/// The cafe worker's local `projectOrder`, recorded as `projectOrder(<id>, <status>)`.
pub struct FakeCafe {
    calls: Calls,
}

#[activities]
impl FakeCafe {
    #[activity(definition = domain::definitions::ProjectOrder)]
    pub async fn project_order(self: Arc<Self>, _: ActivityContext, p: OrderProjection) -> Result<(), ActivityError> {
        self.calls
            .push(format!("projectOrder({}, {})", p.order.order_id, p.order.status));
        Ok(())
    }
}

/// Runs `body` while in-process workers serve the cafe queue (the real workflow) and the three
/// service queues (the fakes, with `stock` in the warehouse). Returns the calls the fakes saw.
async fn with_workers<F, Fut>(stock: &[(&str, i64)], body: F) -> Calls
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let server = server().await;
    let calls = Calls::default();
    let stock = Stock(Arc::new(Mutex::new(
        stock.iter().map(|(p, q)| ((*p).to_owned(), *q)).collect(),
    )));
    let runtime = Runtime::from_current_tokio(Default::default()).unwrap();
    let worker = |options: WorkerOptions| Worker::new(&runtime, server.client.clone(), options).unwrap();
    let mut cafe = worker(
        WorkerOptions::new(queues::CAFE)
            .register_workflow::<OrderWorkflow>()
            .unwrap()
            .register_activities(FakeCafe { calls: calls.clone() })
            .build(),
    );
    let mut warehouse = worker(
        WorkerOptions::new(queues::WAREHOUSE)
            .register_activities(FakeWarehouse {
                stock,
                calls: calls.clone(),
            })
            .build(),
    );
    let mut kitchen = worker(
        WorkerOptions::new(queues::KITCHEN)
            .register_activities(FakeKitchen { calls: calls.clone() })
            .build(),
    );
    let mut center = worker(
        WorkerOptions::new(queues::CUSTOMERCENTER)
            .register_activities(FakeCustomerCenter)
            .build(),
    );
    let workers = async { tokio::join!(cafe.run(), warehouse.run(), kitchen.run(), center.run()) };
    tokio::select! {
        _ = workers => panic!("a worker stopped"),
        () = body(server.client.clone()) => {}
    }
    calls
}

fn order(id: &str, product: &str, qty: i64, kitchen_max_wait_ms: Option<u64>) -> OrderRequest {
    OrderRequest::from(PlaceOrder {
        order_id: OrderId::parse(id).unwrap(),
        product_name: ProductName::parse(product).unwrap(),
        qty: Quantity::parse(qty).unwrap(),
        customer_id: CustomerId::parse("c-wf").unwrap(),
        shop_id: Default::default(),
        kitchen_max_wait_ms,
        placed_at: None,
    })
}

async fn place(client: &Client, request: OrderRequest) -> String {
    let OrderRequest::Valid(o) = &request else {
        unreachable!()
    };
    let id = order_workflow_id(&o.order_id);
    client
        .start_workflow(
            OrderWorkflow::run,
            request,
            WorkflowStartOptions::new(queues::CAFE, id.clone()).build(),
        )
        .await
        .expect("the order starts");
    id
}

async fn result(client: &Client, workflow_id: &str) -> Order {
    let handle = client.get_workflow_handle::<OrderWorkflow>(workflow_id.to_owned());
    tokio::time::timeout(
        Duration::from_secs(30),
        handle.get_result(WorkflowGetResultOptions::default()),
    )
    .await
    .expect("the order finishes in time")
    .expect("the workflow completes")
}

async fn until_queued(client: &Client, workflow_id: &str) {
    let handle = client.get_workflow_handle::<OrderWorkflow>(workflow_id.to_owned());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(o) = handle.query(OrderWorkflow::status, (), Default::default()).await
            && o.status.as_str() == "Queued"
        {
            return;
        }
        assert!(Instant::now() < deadline, "{workflow_id} never became Queued");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_order_with_too_little_stock_is_rejected_and_nothing_is_compensated() {
    let calls = with_workers(&[("Latte", 1)], |client| async move {
        let id = place(&client, order("wf-1", "Latte", 2, None)).await;
        let done = result(&client, &id).await;
        assert_eq!(done.status.as_str(), "Rejected");
        assert_eq!(done.reason.as_deref(), Some("OutOfStock"));
    })
    .await
    .saga();
    assert_eq!(calls, ["reserveStock(wf-1)"]);
}

#[tokio::test]
async fn a_barista_moves_the_ticket_in_order_and_the_view_hears_of_each_command_only_once_it_is_recorded() {
    let calls = with_workers(&[("Latte", 5)], |client| async move {
        let id = place(&client, order("wf-2", "Latte", 1, Some(0))).await;
        until_queued(&client, &id).await;
        let handle = client.get_workflow_handle::<OrderWorkflow>(id.clone());
        let update = WorkflowExecuteUpdateOptions::default;
        handle
            .execute_update(OrderWorkflow::start_brewing, (), update())
            .await
            .unwrap();
        handle
            .execute_update(OrderWorkflow::complete_production, (), update())
            .await
            .unwrap();
        assert_eq!(result(&client, &id).await.status.as_str(), "Completed");
        // The task that accepts an update could still be lost: it sends nothing to the view.
        let tasks = recorded_tasks(&client, &id).await;
        let accepting: Vec<_> = tasks
            .iter()
            .filter(|t| t.iter().any(|k| k == "WorkflowExecutionUpdateAccepted"))
            .collect();
        assert_eq!(accepting.len(), 2, "{tasks:?}");
        for task in accepting {
            assert!(!task.iter().any(|k| k == "LocalActivity"), "{task:?}");
        }
    })
    .await;
    assert_eq!(
        calls.saga(),
        [
            "reserveStock(wf-2)",
            "startProduction(wf-2)",
            "moveTicket(wf-2, Brewing)",
            "moveTicket(wf-2, Completed)"
        ]
    );
    let all = calls.all();
    let projected: Vec<&str> = all.iter().filter_map(|c| c.strip_prefix("projectOrder(wf-2, ")).collect();
    assert_eq!(projected.last(), Some(&"Completed)"), "{all:?}");
    assert!(projected.len() <= 5, "one projection at most per status: {all:?}");
}

#[tokio::test]
async fn a_canceled_queued_order_withdraws_its_ticket_then_releases_its_stock() {
    let calls = with_workers(&[("Latte", 5)], |client| async move {
        let id = place(&client, order("wf-3", "Latte", 1, Some(0))).await;
        until_queued(&client, &id).await;
        let handle = client.get_workflow_handle::<OrderWorkflow>(id.clone());
        handle
            .execute_update(
                OrderWorkflow::cancel,
                Default::default(),
                WorkflowExecuteUpdateOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(result(&client, &id).await.status.as_str(), "Canceled");
    })
    .await
    .saga();
    assert_eq!(
        calls,
        [
            "reserveStock(wf-3)",
            "startProduction(wf-3)",
            "cancelProduction(wf-3)",
            "releaseStock(wf-3)"
        ]
    );
}

#[tokio::test]
async fn a_temporal_cancellation_request_is_the_cancel_command_and_the_workflow_completes() {
    let calls = with_workers(&[("Latte", 5)], |client| async move {
        let id = place(&client, order("wf-4", "Latte", 1, Some(0))).await;
        until_queued(&client, &id).await;
        let handle = client.get_workflow_handle::<OrderWorkflow>(id.clone());
        handle.cancel(WorkflowCancelOptions::default()).await.unwrap();
        let done = result(&client, &id).await;
        assert_eq!(done.status.as_str(), "Canceled");
        assert_eq!(done.reason.as_deref(), Some("canceled through Temporal"));
    })
    .await
    .saga();
    assert_eq!(calls[2..], ["cancelProduction(wf-4)", "releaseStock(wf-4)"]);
}

#[tokio::test]
async fn an_order_nobody_starts_within_its_limit_is_canceled_with_kitchen_timeout() {
    let calls = with_workers(&[("Latte", 5)], |client| async move {
        let id = place(&client, order("wf-5", "Latte", 1, Some(500))).await;
        let done = result(&client, &id).await;
        assert_eq!(done.status.as_str(), "Canceled");
        assert_eq!(done.reason.as_deref(), Some("KitchenTimeout"));
    })
    .await
    .saga();
    assert_eq!(calls[2..], ["cancelProduction(wf-5)", "releaseStock(wf-5)"]);
}

/// The workflow tasks of an order's history, each as the kinds of the events it recorded (from its
/// `WorkflowTaskCompleted` up to the next task), in the JSON form of the SDK's `WorkflowHistory`.
async fn recorded_tasks(client: &Client, workflow_id: &str) -> Vec<Vec<String>> {
    let json = client
        .get_workflow_handle::<OrderWorkflow>(workflow_id.to_owned())
        .fetch_history(WorkflowFetchHistoryOptions::default())
        .to_json()
        .await
        .expect("the history is fetched");
    let history: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let mut tasks: Vec<Vec<String>> = Vec::new();
    for event in history["events"].as_array().unwrap() {
        let Some((kind, attributes)) = event["attributes"].as_object().and_then(|a| a.iter().next()) else {
            continue;
        };
        let kind = kind.trim_end_matches("EventAttributes");
        if kind == "WorkflowTaskScheduled" || kind == "WorkflowTaskCompleted" {
            tasks.push(Vec::new());
        }
        let kind = match attributes["marker_name"].as_str() {
            Some("core_local_activity") => "LocalActivity".to_owned(),
            _ => kind.to_owned(),
        };
        if let Some(task) = tasks.last_mut() {
            task.push(kind);
        }
    }
    tasks
}
