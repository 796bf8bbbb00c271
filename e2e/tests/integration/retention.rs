//! Nothing per order is kept for ever: each service deletes, once they are older than
//! `COFFEESHOP_RETENTION`, the rows it holds for orders that are over (the view's order and its
//! history, the kitchen's ticket, the warehouse's reservation), the restock log's entries and the
//! stock levels the Shop dashboard draws;
//! an order still under way keeps its rows however old they are.

use domain::OrderStatus::*;
use e2e::{TestApp, eventually};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn count(url: &str, sql: &str, id: &str) -> i64 {
    let pool = sqlx::PgPool::connect(url).await.expect("the database opens");
    let n = sqlx::query_scalar(sql).bind(id).fetch_one(&pool).await.expect("the count runs");
    pool.close().await;
    n
}

#[tokio::test]
async fn rows_of_finished_orders_and_old_restocks_go_after_the_retention_and_running_orders_stay() {
    let app = TestApp::spawn_with(|c| {
        c.extra_env.push(("COFFEESHOP_RETENTION".into(), "2s".into()));
        c.extra_env.push(("COFFEESHOP_PRUNE_EVERY".into(), "1s".into()));
    })
    .await;
    let product = app.stocked_product(10).await;
    // Placed first, so it is older than the finished one throughout.
    let waiting = app.queued_order(&product, 1, "keeper").await;
    let done = app.queued_order(&product, 1, "keeper").await;
    assert_eq!(app.post(&format!("/kitchen/tickets/{done}/start"), json!({})).await.status(), StatusCode::OK);
    assert_eq!(app.post(&format!("/kitchen/tickets/{done}/complete"), json!({})).await.status(), StatusCode::OK);
    app.wait_for_status(&done, Completed).await;

    let (view, kitchen, warehouse) = (
        app.stack.postgres.url("customercenter"),
        app.stack.postgres.url("kitchen"),
        app.stack.postgres.url("warehouse"),
    );
    eventually("the finished order's rows are deleted everywhere", || async {
        let left = count(&view, "SELECT count(*) FROM orders WHERE order_id = $1", done.as_str()).await
            + count(&view, "SELECT count(*) FROM order_history WHERE order_id = $1", done.as_str()).await
            + count(&kitchen, "SELECT count(*) FROM tickets WHERE order_id = $1", done.as_str()).await
            + count(&warehouse, "SELECT count(*) FROM reservations WHERE order_id = $1", done.as_str()).await;
        (left == 0).then_some(())
    })
    .await;
    eventually("the restock log forgets the old restock", || async {
        let log: Value = app.get("/stocks/restocks").await.json().await.ok()?;
        let items = log["items"].as_array()?;
        (!items.iter().any(|r| r["productName"] == product.as_str())).then_some(())
    })
    .await;
    assert_eq!(
        count(&warehouse, "SELECT count(*) FROM restocks WHERE product_name = $1", &product).await,
        0,
        "the warehouse's own restock records go too"
    );
    eventually("the Shop dashboard's stock history forgets the old levels", || async {
        let levels = count(&view, "SELECT count(*) FROM stock_history WHERE product_name = $1", &product).await;
        (levels == 0).then_some(())
    })
    .await;

    // The order still waiting for a barista is older, and still all there.
    assert_eq!(count(&view, "SELECT count(*) FROM orders WHERE order_id = $1", waiting.as_str()).await, 1);
    assert_eq!(count(&kitchen, "SELECT count(*) FROM tickets WHERE order_id = $1", waiting.as_str()).await, 1);
    assert_eq!(
        count(&warehouse, "SELECT count(*) FROM reservations WHERE order_id = $1", waiting.as_str()).await,
        1,
        "the warehouse keeps the reservation of an order still under way"
    );
    assert_eq!(app.order_view(&waiting).await.status, Queued);
    // And the stock the finished order took stays taken.
    assert_eq!(app.warehouse_stock(&product).await, Some(8));
    // Canceled now, the waiting order's release finds its reservation and gives its cup back.
    assert_eq!(app.post(&format!("/orders/{waiting}/cancel"), json!({})).await.status(), StatusCode::OK);
    app.wait_for_status(&waiting, Canceled).await;
    app.wait_for_stock(&product, 9).await;
}
