//! Chaos: under a stream of orders with Idempotency-Keys, every process of the system is killed
//! (SIGKILL) and started again, one after another: each worker, the API, the Temporal dev server
//! (file-backed, restarted on the same db file) and PostgreSQL. Then every accepted key has
//! exactly one order, every order is finished, the stock moved by exactly what was served and never
//! went negative, and the view agrees with the workflows.

use domain::{OrderId, OrderStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use e2e::{TestApp, eventually};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ORDERS: usize = 300;
/// Clients placing orders at once.
const CLIENTS: usize = 4;
/// The stream's pace: order `i` is placed no earlier than `i` times this after the start, so the
/// stream lasts through every kill (about 12 s).
const PACE: Duration = Duration::from_millis(40);
const VICTIMS: [&str; 7] = [
    "cafe",
    "warehouse",
    "kitchen",
    "customercenter",
    "api",
    "temporal",
    "postgres",
];

/// Places one order with `key`, retrying (bounded) until the API accepts it; returns its id.
async fn place_until_accepted(http: &reqwest::Client, api: &str, key: &str, product: &str) -> OrderId {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let sent = http
            .post(format!("{api}/orders"))
            .header("Idempotency-Key", key)
            .json(&json!({"productName": product, "qty": 1, "customerId": "c-chaos"}))
            .send()
            .await;
        if let Ok(r) = sent
            && r.status() == StatusCode::ACCEPTED
            && let Ok(body) = r.json::<Value>().await
            && let Some(id) = body["orderId"].as_str().and_then(|id| OrderId::parse(id).ok())
        {
            return id;
        }
        assert!(Instant::now() < deadline, "order {key} was never accepted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn killing_every_process_in_turn_under_a_stream_of_orders_loses_and_doubles_nothing() {
    let mut app = TestApp::spawn_with(|c| {
        c.temporal_on_disk();
        c.baristas = 2;
        c.brew_ms = 20;
        c.extra_env
            .push(("COFFEESHOP_COMMAND_TIMEOUT_MS".into(), "3000".into()));
    })
    .await;
    const STOCK: i64 = 10_000;
    let product = app.stocked_product(STOCK).await;
    let started = Instant::now();

    // The stream: a few clients placing orders one after another, each retried until accepted.
    let accepted = Arc::new(AtomicUsize::new(0));
    let chaos_customer = app.customer("c-chaos").await;
    let mut clients = tokio::task::JoinSet::new();
    for client in 0..CLIENTS {
        let (http, api, product, accepted) = (
            chaos_customer.clone(),
            app.api.clone(),
            product.clone(),
            accepted.clone(),
        );
        clients.spawn(async move {
            let mut ids = Vec::new();
            for i in (client..ORDERS).step_by(CLIENTS) {
                tokio::time::sleep_until((started + PACE * i as u32).into()).await;
                let key = format!("chaos-{i}");
                ids.push((key.clone(), place_until_accepted(&http, &api, &key, &product).await));
                accepted.fetch_add(1, Ordering::Relaxed);
            }
            ids
        });
    }

    // The chaos: kill each process after the stream has moved on a little, and start it again.
    for (round, victim) in VICTIMS.iter().enumerate() {
        let target = (round + 1) * ORDERS / (VICTIMS.len() + 2);
        let deadline = Instant::now() + Duration::from_secs(60);
        let not_before = Instant::now() + Duration::from_secs(1);
        while (accepted.load(Ordering::Relaxed) < target || Instant::now() < not_before) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        println!(
            "[{:>5.1} s] killing {victim} (SIGKILL) after {} accepted orders",
            started.elapsed().as_secs_f64(),
            accepted.load(Ordering::Relaxed)
        );
        app.stack.crash(victim);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut tries = 0;
        while let Err(e) = app.stack.revive(victim).await {
            tries += 1;
            assert!(tries < 5, "{victim} did not come back: {e:#}");
            println!("  {victim} not back yet ({e:#}); trying again");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        println!("[{:>5.1} s] {victim} started again", started.elapsed().as_secs_f64());
    }
    let mut placed = Vec::new();
    while let Some(ids) = clients.join_next().await {
        placed.extend(ids.expect("a client finishes"));
    }
    println!(
        "[{:>5.1} s] all {} orders accepted",
        started.elapsed().as_secs_f64(),
        placed.len()
    );

    // Every accepted key has exactly one order: the key decides the order id, and Temporal knows
    // exactly one workflow per key.
    let mut ids: Vec<&OrderId> = placed.iter().map(|(_, id)| id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), ORDERS, "one order per key");
    for (key, id) in placed.iter().take(5) {
        let again = place_until_accepted(&chaos_customer, &app.api, key, &product).await;
        assert_eq!(&again, id, "a retried key is the same order");
    }
    let count = eventually("Temporal counts one workflow per key", || async {
        let (ok, out) = app
            .temporal_cli(&["workflow", "count", "--query", &format!("ProductName=\"{product}\"")])
            .await;
        let n: usize = out.trim().strip_prefix("Total:")?.trim().parse().ok()?;
        (ok && n == ORDERS).then_some(n)
    })
    .await;
    assert_eq!(count, ORDERS);

    // Every order finishes, and the view comes to agree with its workflow, step by step. Steps
    // are compared by status, not time: a step's time is the workflow's clock when it was
    // decided, and a projection sent from a workflow task that the server's death then lost is
    // sent again, from the task that decides the step again, with that task's time.
    for id in &ids {
        let workflow = app.wait_for_workflow_status(id, OrderStatus::Completed).await;
        let truth: Vec<OrderStatus> = workflow.history.iter().map(|h| h.status).collect();
        let deadline = Instant::now() + e2e::PATIENCE;
        loop {
            let order = app.order_view(id).await;
            if order.status == OrderStatus::Completed && order.statuses() == truth {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the view never came to show order {id} as its workflow does: {order:?}, not {truth:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // The stock moved by exactly what was served, once each, and never went negative.
    let left = app.warehouse_stock(&product).await.expect("the product exists");
    assert_eq!(
        left,
        STOCK - ORDERS as i64,
        "one unit per completed order, no more, no less"
    );
    assert!(left >= 0);
    eventually("the view's stock converges to the warehouse", || async {
        let stocks: Vec<Value> = app.get("/stocks").await.json().await.ok()?;
        stocks
            .iter()
            .any(|s| s["productName"] == product.as_str() && s["qty"] == left)
            .then_some(())
    })
    .await;
    assert!(
        app.stack.crashed().is_empty(),
        "nothing left dead: {:?}",
        app.stack.crashed()
    );
    println!("[{:>5.1} s] chaos survived", started.elapsed().as_secs_f64());
}
