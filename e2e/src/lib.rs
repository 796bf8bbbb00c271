//! The test harness: each [`TestApp`] is a whole, real system (Temporal dev server, PostgreSQL,
//! the four worker processes and the API, as `make run` starts them) on free ports in its own
//! temporary directory, stopped and removed when the test ends, passed or failed. Tests talk to it
//! as users do: over HTTP, with the Temporal client, with the `temporal` CLI.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use domain::{Order, OrderId, OrderStatus, order_workflow_id};
use reqwest::{Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use stack::{Stack, StackConfig, Tools};
use temporalio_client::Client;
use workflows::OrderWorkflow;

/// How long a test waits for something that should happen by itself.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// `GET /orders/<id>` as a client reads it: the REST contract's fields, typed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    pub order_id: OrderId,
    pub workflow_id: String,
    pub customer_id: String,
    pub shop_id: String,
    pub product_name: String,
    pub qty: i64,
    pub status: OrderStatus,
    pub reason: Option<String>,
    pub placed_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub history: Vec<Step>,
}

/// One entry of an order's timeline.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Step {
    pub status: OrderStatus,
    pub at: String,
}

impl OrderView {
    /// The statuses of the timeline, in order.
    pub fn statuses(&self) -> Vec<OrderStatus> {
        self.history.iter().map(|s| s.status).collect()
    }
}

/// The `orderId` of an order the API accepted (a `202` body).
pub fn order_id_of(accepted: &Value) -> OrderId {
    order_id(accepted["orderId"].as_str().expect("an orderId"))
}

/// An order id written in a test (panics on an invalid one).
pub fn order_id(raw: &str) -> OrderId {
    OrderId::parse(raw).expect("a valid order id")
}

pub struct TestApp {
    pub stack: Stack,
    pub api: String,
    /// Signed in as the shop's manager (`admin`): the kitchen, stock, staff, and reading any order.
    pub http: reqwest::Client,
    /// The manager's bearer token (what `http` sends).
    pub manager_token: String,
    pub temporal: Client,
    /// Customers signed up so far, by name: a client signed in as each.
    customers: std::sync::Mutex<std::collections::HashMap<String, reqwest::Client>>,
    _dir: TempDir,
    /// Held until the stack has stopped (fields drop in order).
    _turn: Turn,
}

/// The suite runs two tests at a time. A test that compares latencies measured at two moments
/// runs alone ([`Turn::alone`]), so that another test's work between the two is not what it
/// measures; every other stack takes a shared turn ([`Turn::shared`]): each [`TestApp`] does, and
/// a test that starts its processes itself takes one first. A test holds one turn at most: a
/// second, asked for while a test waits to run alone, would wait for ever.
pub enum Turn {
    Shared(tokio::sync::OwnedRwLockReadGuard<()>),
    Alone(tokio::sync::OwnedRwLockWriteGuard<()>),
}

static TURNS: std::sync::LazyLock<std::sync::Arc<tokio::sync::RwLock<()>>> =
    std::sync::LazyLock::new(Default::default);

impl Turn {
    /// Beside any other test that takes a shared turn; waits while one runs alone.
    pub async fn shared() -> Self {
        Self::Shared(TURNS.clone().read_owned().await)
    }

    /// Once every other running test has finished; no other starts until this one has.
    pub async fn alone() -> Self {
        Self::Alone(TURNS.clone().write_owned().await)
    }
}

/// Signs the customer `name` up (unless they exist) and in; returns a client that acts as them.
/// A client signed in as an existing account.
pub async fn signed_in_client(api: &str, name: &str, password: &str) -> reqwest::Client {
    let token = stack::sign_in(&reqwest::Client::new(), api, name, password)
        .await
        .expect("the account signs in");
    stack::client_with(&token).expect("a client")
}

pub async fn customer_client(api: &str, name: &str) -> reqwest::Client {
    let token = stack::customer_token(&reqwest::Client::new(), api, name, &format!("pw-{name}-secret"))
        .await
        .expect("a customer signs up and in");
    stack::client_with(&token).expect("a client")
}

/// A directory removed on drop (after the stack in it has stopped: fields drop in order), unless
/// the test failed: then its logs stay for reading, and the path is printed.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "the failed test's stack directory (logs in logs/) is kept: {}",
                self.0.display()
            );
            return;
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A stack with its configuration adjusted by `adjust` (baristas, a SQLite warehouse, ...).
    pub async fn spawn_with(adjust: impl FnOnce(&mut StackConfig)) -> Self {
        let turn = Turn::shared().await;
        Self::try_spawn(turn, adjust).await.expect("the test stack starts")
    }

    /// Like [`spawn_with`](Self::spawn_with), for a test that runs alone (see [`Turn`]).
    pub async fn spawn_alone_with(adjust: impl FnOnce(&mut StackConfig)) -> Self {
        let turn = Turn::alone().await;
        Self::try_spawn(turn, adjust).await.expect("the test stack starts")
    }

    async fn try_spawn(turn: Turn, adjust: impl FnOnce(&mut StackConfig)) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("coffeeshop-test-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir)?;
        let dir = TempDir(dir);
        let tools = Tools::locate(&stack::tools::stack_dir())?;
        let mut config = StackConfig::ephemeral(&dir.0, tools)?;
        config.rust_log = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned());
        adjust(&mut config);
        let stack = Stack::start(config).await.context("starting the stack")?;
        let api = stack.api_url();
        let temporal = temporalio_client::Client::new(
            temporalio_client::Connection::connect(
                temporalio_client::ConnectionOptions::new(temporalio_client::Url::parse(&format!(
                    "http://{}",
                    stack.temporal_address
                ))?)
                .build(),
            )
            .await?,
            temporalio_client::ClientOptions::new("default").build(),
        )?;
        let anonymous = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
        let token = stack::sign_in(&anonymous, &api, "admin", stack.config.admin_password.expose()).await?;
        Ok(Self {
            stack,
            api,
            http: stack::client_with(&token)?,
            manager_token: token,
            temporal,
            customers: Default::default(),
            _dir: dir,
            _turn: turn,
        })
    }

    /// A client signed in as the customer `name` (signed up on first use).
    pub async fn customer(&self, name: &str) -> reqwest::Client {
        if let Some(client) = self.customers.lock().unwrap().get(name) {
            return client.clone();
        }
        let client = customer_client(&self.api, name).await;
        self.customers.lock().unwrap().insert(name.to_owned(), client.clone());
        client
    }

    /// The client for the person a request is for: the order's customer to place or cancel an
    /// order (`customerId` in the body, or the order's owner), the manager for everything else.
    async fn client_for(&self, path: &str, body: &Value) -> reqwest::Client {
        if path == "/orders" {
            if let Some(customer) = body["customerId"].as_str() {
                return self.customer(customer).await;
            }
        } else if let Some(id) = path
            .strip_prefix("/orders/")
            .and_then(|rest| rest.strip_suffix("/cancel"))
        {
            return match OrderId::parse(id) {
                Ok(id) => self.owner_of(&id).await,
                Err(_) => self.customer("c-nobody").await,
            };
        }
        self.http.clone()
    }

    /// A client signed in as the customer who placed order `id` (a customer who placed nothing,
    /// `c-nobody`, if there is no such order).
    pub async fn owner_of(&self, id: &OrderId) -> reqwest::Client {
        let r = self.get(&format!("/orders/{id}")).await;
        let owner = if r.status() == StatusCode::OK {
            r.json::<Value>()
                .await
                .ok()
                .and_then(|o| o["customerId"].as_str().map(str::to_owned))
        } else {
            None
        };
        self.customer(owner.as_deref().unwrap_or("c-nobody")).await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.api))
            .send()
            .await
            .expect("the API answers")
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.client_for(path, &body)
            .await
            .post(format!("{}{path}", self.api))
            .json(&body)
            .send()
            .await
            .expect("the API answers")
    }

    /// `POST /orders`; returns the response (202 on success).
    pub async fn order(&self, product: &str, qty: i64, customer: &str) -> Response {
        self.post(
            "/orders",
            json!({"productName": product, "qty": qty, "customerId": customer}),
        )
        .await
    }

    /// Places an order that must be accepted; returns its id.
    pub async fn place_order(&self, product: &str, qty: i64, customer: &str) -> OrderId {
        let r = self.order(product, qty, customer).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED, "placing an order");
        order_id_of(&r.json().await.unwrap())
    }

    /// Places an order and waits until the view shows it `Queued` (on the kitchen board); returns
    /// its id. The usual starting point for a test about what happens next.
    pub async fn queued_order(&self, product: &str, qty: i64, customer: &str) -> OrderId {
        let id = self.place_order(product, qty, customer).await;
        self.wait_for_status(&id, OrderStatus::Queued).await;
        id
    }

    /// Adds stock through the API (a RestockWorkflow); returns the new level. As a client should,
    /// it sends an `Idempotency-Key` and, while the answer is 202 (accepted, not finished within
    /// the command timeout, as on a loaded machine), asks again with the same key for the result.
    pub async fn restock(&self, product: &str, qty: i64) -> i64 {
        let key = uuid::Uuid::now_v7().to_string();
        let body = json!({"productName": product, "qty": qty});
        let client = self.client_for("/stocks", &body).await;
        eventually(&format!("the restock of {product} to finish"), || async {
            let r = client
                .post(format!("{}/stocks", self.api))
                .header("Idempotency-Key", &key)
                .json(&body)
                .send()
                .await
                .expect("the API answers");
            let status = r.status();
            assert!(status.is_success(), "restocking {product}: {status}");
            let level = r.json::<Value>().await.unwrap()["qty"].as_i64();
            assert!(
                level.is_some() || status == StatusCode::ACCEPTED,
                "restocking {product}: {status} without a level"
            );
            level
        })
        .await
    }

    /// A product name no other test uses, stocked with `qty`.
    pub async fn stocked_product(&self, qty: i64) -> String {
        let product = format!("Blend-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
        self.restock(&product, qty).await;
        product
    }

    /// `GET /orders/<id>` (panics unless 200 with an order).
    pub async fn order_view(&self, id: &OrderId) -> OrderView {
        let r = self.get(&format!("/orders/{id}")).await;
        assert_eq!(r.status(), StatusCode::OK, "reading order {id}");
        r.json().await.expect("an order as the REST contract describes it")
    }

    /// Waits until the customercenter view holds the order in `status` (read from the view's own
    /// table, so a GET answered from the workflow does not count); returns `GET /orders/<id>`.
    pub async fn wait_for_status(&self, id: &OrderId, status: OrderStatus) -> OrderView {
        let view = sqlx::PgPool::connect(&self.stack.postgres.url("customercenter"))
            .await
            .expect("the view opens");
        let deadline = Instant::now() + PATIENCE;
        loop {
            let now: Option<String> = sqlx::query_scalar("SELECT status FROM orders WHERE order_id = $1")
                .bind(id.as_str())
                .fetch_optional(&view)
                .await
                .unwrap_or(None);
            if now.as_deref() == Some(status.as_str()) {
                view.close().await;
                return self.order_view(id).await;
            }
            assert!(
                Instant::now() < deadline,
                "order {id} never reached {status} in the view; it is {now:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the workflow itself (the `status` query) shows `status`.
    pub async fn wait_for_workflow_status(&self, id: &OrderId, status: OrderStatus) -> Order {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(order) = self.query(id).await
                && order.status == status
            {
                return order;
            }
            assert!(
                Instant::now() < deadline,
                "workflow of order {id} never reached {status}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The `status` query of an order's workflow.
    pub async fn query(&self, id: &OrderId) -> anyhow::Result<Order> {
        let orders = order_commands::OrderCommands::new(self.temporal.clone());
        Ok(orders.status(id).await?)
    }

    /// Waits until the order's workflow has closed.
    pub async fn wait_closed(&self, id: &OrderId) {
        let handle = self
            .temporal
            .get_workflow_handle::<OrderWorkflow>(order_workflow_id(id));
        tokio::time::timeout(PATIENCE, handle.get_result(Default::default()))
            .await
            .expect("the workflow closes in time")
            .expect("the workflow completes");
    }

    /// A product's level at `main` in the warehouse's own database (the source of truth, not the
    /// view).
    pub async fn warehouse_stock(&self, product: &str) -> Option<i64> {
        self.warehouse_stock_at(domain::ShopId::MAIN, product).await
    }

    /// A product's level at a shop in the warehouse's own database.
    pub async fn warehouse_stock_at(&self, shop: &str, product: &str) -> Option<i64> {
        let db = self.warehouse_db().await;
        db.level(&domain::ShopId::parse(shop).unwrap(), &domain::ProductName::parse(product).unwrap())
            .await
            .unwrap()
            .map(|l| l.qty)
    }

    /// Waits until the warehouse holds exactly `qty` of `product`.
    pub async fn wait_for_stock(&self, product: &str, qty: i64) {
        eventually(&format!("{product} back at {qty} in the warehouse"), || async {
            (self.warehouse_stock(product).await == Some(qty)).then_some(())
        })
        .await;
    }

    /// Waits until the kitchen's own ticket for the order is in `status`.
    pub async fn wait_for_ticket(&self, id: &OrderId, status: OrderStatus) {
        let kitchen = self.kitchen_db().await;
        eventually(&format!("ticket {id} {status} in the kitchen"), || async {
            kitchen.status(id).await.unwrap().filter(|s| s == status.as_str())
        })
        .await;
    }

    /// The warehouse's store, opened on the same database the warehouse worker uses.
    pub async fn warehouse_db(&self) -> activities::warehouse::WarehouseDb {
        let url = self
            .stack
            .config
            .warehouse_url
            .clone()
            .unwrap_or_else(|| self.stack.postgres.url("warehouse"));
        activities::warehouse::WarehouseDb::connect(&url, 2)
            .await
            .expect("the warehouse database opens")
    }

    /// The kitchen's store.
    pub async fn kitchen_db(&self) -> activities::kitchen::KitchenDb {
        activities::kitchen::KitchenDb::connect(&self.stack.postgres.url("kitchen"), 2)
            .await
            .expect("the kitchen database opens")
    }

    /// Runs the `temporal` CLI against this stack's server; returns (success, stdout + stderr).
    pub async fn temporal_cli(&self, args: &[&str]) -> (bool, String) {
        let out = tokio::process::Command::new(&self.stack.config.tools.temporal)
            .args(args)
            .args(["--address", &self.stack.temporal_address])
            .output()
            .await
            .expect("the temporal CLI runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }
}

impl TestApp {
    /// The events of an order's history as `temporal workflow show -o json` lists them.
    pub async fn history_events(&self, id: &OrderId) -> Vec<Value> {
        self.stack
            .history_events(&order_workflow_id(id))
            .await
            .expect("the order's history")
    }

    /// Starts an `OrderWorkflow` by hand with the `temporal` CLI, as an operator would, with any
    /// input (the workflow validates it itself).
    pub async fn start_order_by_hand(&self, workflow_id: &str, input: &str) {
        let (ok, out) = self
            .temporal_cli(&[
                "workflow",
                "start",
                "--type",
                "OrderWorkflow",
                "--task-queue",
                domain::queues::CAFE,
                "--workflow-id",
                workflow_id,
                "--input",
                input,
            ])
            .await;
        assert!(ok, "{out}");
    }
}

pub mod browser;
pub mod collector;
pub mod history;

pub use stack::postgres::fresh_test_database as fresh_database;

/// How long a well-behaved client waits before sending again what was answered `429` or `503`:
/// the answer's `Retry-After` (1 s without one) and up to a second more, so that clients sent
/// back together do not all come back together.
pub fn retry_wait(answer: &reqwest::Response) -> Duration {
    let told = answer
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(1);
    Duration::from_secs(told) + Duration::from_millis((uuid::Uuid::new_v4().as_u128() % 1000) as u64)
}

/// Polls `check` until it returns `Some`, or panics after [`PATIENCE`] with `what`.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
