//! An automatic barista killed mid-ticket (SIGKILL, OOM, a lost node) does not strand its order:
//! its claim is a lease that runs out, and a live barista takes the ticket over.

use domain::OrderStatus;
use e2e::{TestApp, eventually};

#[tokio::test]
async fn orders_held_by_a_barista_killed_while_brewing_are_finished_by_a_live_one() {
    let mut app = TestApp::spawn_with(|c| {
        c.baristas = 1;
        c.brew_ms = 3_000;
    })
    .await;
    let product = app.stocked_product(20).await;
    let ids = [
        app.place_order(&product, 1, "c-crash").await,
        app.place_order(&product, 2, "c-crash").await,
        app.place_order(&product, 3, "c-crash").await,
    ];
    // Wait until the barista has one of them in its hands, brewing.
    eventually("the automatic barista starts brewing an order", || async {
        for id in &ids {
            if app.query(id).await.ok()?.status.as_str() == "Brewing" {
                return Some(());
            }
        }
        None
    })
    .await;

    app.stack.kill("kitchen");
    app.stack
        .restart("kitchen")
        .await
        .expect("the kitchen worker starts again");

    for id in &ids {
        app.wait_for_status(id, OrderStatus::Completed).await;
        app.wait_for_ticket(id, OrderStatus::Completed).await;
    }
    assert_eq!(
        app.warehouse_stock(&product).await,
        Some(20 - 6),
        "the stock is deducted once per order"
    );
}
