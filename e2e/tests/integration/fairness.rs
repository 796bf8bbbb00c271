//! No shop starves another: during a rush of orders at one shop, another shop's orders do not
//! wait behind it on their way to the kitchen board. Each order's tasks carry its shop as their
//! fairness key (order-commands), and the server dispatches a task queue's backlog round-robin
//! over the keys (`matching.enableFairness`, set by the stack). The target, the quiet
//! shop's p99 within twice its value without a rush, is not met on a two-core machine: the figures
//! and why are in docs/decisions/0010-shops-share-the-queues-with-fairness-keys.md.

use std::time::Duration;

use domain::{CustomerId, OrderId, OrderStatus, PlaceOrder, ProductName, Quantity, ShopId};
use e2e::TestApp;
use order_commands::OrderCommands;
use reqwest::StatusCode;
use serde_json::json;

/// The rush: orders started at once at one shop.
const RUSH: usize = 400;
/// The other shop's steady trickle, one order every [`TRICKLE_EVERY`].
const TRICKLE: usize = 30;
const TRICKLE_EVERY: Duration = Duration::from_millis(100);

/// placed → Queued of each of `ids`, in ms, from the view's timeline (the workflow's clock).
async fn placed_to_queued(app: &TestApp, ids: &[OrderId]) -> Vec<f64> {
    let mut ms = Vec::new();
    for id in ids {
        let order = app.wait_for_status(id, OrderStatus::Queued).await;
        let at = |status: OrderStatus| {
            let step = order.history.iter().find(|s| s.status == status).expect("the step is in the timeline");
            humantime::parse_rfc3339(&step.at).unwrap()
        };
        ms.push(at(OrderStatus::Queued).duration_since(at(OrderStatus::Ordered)).unwrap().as_secs_f64() * 1000.0);
    }
    ms
}

/// Places the trickle at `main` through the API, as customers do (an order the API could not
/// hand to Temporal in time, `503`, is sent again with its `Idempotency-Key`); their ids.
async fn trickle(app: &TestApp, product: &str) -> Vec<OrderId> {
    let customer = app.customer("steady").await;
    let mut ids = Vec::new();
    let mut pace = tokio::time::interval(TRICKLE_EVERY);
    for _ in 0..TRICKLE {
        pace.tick().await;
        let key = uuid::Uuid::now_v7().to_string();
        let id = e2e::eventually("the API to accept the order", || async {
            let r = customer
                .post(format!("{}/orders", app.api))
                .header("Idempotency-Key", &key)
                .json(&json!({"productName": product, "qty": 1}))
                .send()
                .await
                .unwrap();
            match r.status() {
                StatusCode::ACCEPTED => Some(e2e::order_id_of(&r.json().await.unwrap())),
                StatusCode::SERVICE_UNAVAILABLE => None,
                other => panic!("placing an order: {other}"),
            }
        })
        .await;
        ids.push(id);
    }
    ids
}

fn percentile(mut ms: Vec<f64>, q: f64) -> f64 {
    ms.sort_by(f64::total_cmp);
    ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1]
}

#[tokio::test]
async fn a_rush_at_one_shop_leaves_another_shops_orders_as_quick_as_before() {
    let app = TestApp::spawn().await;
    app.post("/shops", json!({"shopId": "rush", "name": "Rush"})).await;
    let product = app.stocked_product(10_000).await;
    let r = app
        .post("/stocks", json!({"shopId": "rush", "productName": product, "qty": 10_000}))
        .await;
    assert!(r.status().is_success());

    let quiet = percentile(placed_to_queued(&app, &trickle(&app, &product).await).await, 0.99);

    let commands = OrderCommands::new(app.temporal.clone());
    let rush_began = std::time::SystemTime::now();
    let rush = {
        let (commands, product) = (commands.clone(), product.clone());
        tokio::spawn(async move {
            let starts = (0..RUSH).map(|i| {
                let commands = commands.clone();
                let order = PlaceOrder {
                    order_id: OrderId::parse(&format!("rush-{i}-{}", uuid::Uuid::now_v7().simple())).unwrap(),
                    product_name: ProductName::parse(&product).unwrap(),
                    qty: Quantity::parse(1).unwrap(),
                    customer_id: CustomerId::parse("rusher").unwrap(),
                    shop_id: ShopId::parse("rush").unwrap(),
                    kitchen_max_wait_ms: None,
                    placed_at: None,
                };
                async move {
                    commands.place(&order).await.expect("the rush's order starts");
                    order.order_id
                }
            });
            futures::future::join_all(starts).await
        })
    };
    let during = placed_to_queued(&app, &trickle(&app, &product).await).await;
    let rushed = rush.await.unwrap();
    let last_rushed = app.wait_for_status(rushed.last().unwrap(), OrderStatus::Queued).await;
    let drained = humantime::parse_rfc3339(&last_rushed.updated_at).unwrap().duration_since(rush_began).unwrap();
    let drained_ms = drained.as_secs_f64() * 1000.0;
    let (median, busy) = (percentile(during.clone(), 0.5), percentile(during, 0.99));
    println!(
        "placed→Queued at the quiet shop: p99 {quiet:.0} ms alone; during a rush of {RUSH} at another shop \
         (drained in {drained_ms:.0} ms) p50 {median:.0} ms, p99 {busy:.0} ms"
    );
    // Without fairness keys the quiet shop's orders wait behind the whole rush (measured: p50
    // about 11 s, p99 16.4 s for a rush that drained in about 16 s); with them they are dispatched
    // in turn (measured: p50 a tenth to a third of the drain time, the most with other tests
    // running beside this one).
    assert!(
        median < drained_ms / 2.0,
        "the quiet shop's orders waited behind the rush: p50 {median:.0} ms, the rush drained in {drained_ms:.0} ms"
    );
}
