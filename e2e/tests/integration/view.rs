//! The customercenter view (CQRS): idempotent, order-safe, and it catches up by itself.

use domain::OrderStatus;
use domain::{CustomerId, Order, OrderEvent, OrderId, OrderProjection, ProductName, Quantity, StockLevel};
use e2e::TestApp;
use serde_json::Value;
use view::{View, ViewDb};

#[tokio::test]
async fn orders_complete_while_the_view_is_down_and_the_view_then_converges_to_the_workflows() {
    let app = &mut TestApp::spawn_with(|c| {
        c.baristas = 2;
        c.brew_ms = 20;
    })
    .await;
    let product = app.stocked_product(50).await;
    app.stack.kill("customercenter");

    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(app.place_order(&product, 1, &format!("c-view-{i}")).await);
    }
    for id in &ids {
        app.wait_for_workflow_status(id, OrderStatus::Completed).await;
    }
    app.stack.restart("customercenter").await.unwrap();
    for id in &ids {
        let view = app.wait_for_status(id, OrderStatus::Completed).await;
        let truth = app.query(id).await.unwrap();
        let steps: Vec<_> = view.history.iter().map(|h| (h.status, h.at.as_str())).collect();
        let expected: Vec<_> = truth.history.iter().map(|h| (h.status, h.at.as_str())).collect();
        assert_eq!(steps, expected, "the view holds exactly the workflow's history");
    }
    let levels: Vec<Value> = app.get("/stocks").await.json().await.unwrap();
    let level = levels.iter().find(|l| l["productName"] == product.as_str()).unwrap();
    assert_eq!(level["qty"], 45, "the view's stock caught up too");
}

fn order_at(step: usize) -> Order {
    let mut o = Order::place(
        OrderId::parse("view-1").unwrap(),
        ProductName::parse("Latte").unwrap(),
        Quantity::parse(1).unwrap(),
        CustomerId::parse("c-1").unwrap(),
        domain::ShopId::main(),
        "2026-01-01T00:00:00.000Z".into(),
    );
    let events = [
        OrderEvent::StockReserved,
        OrderEvent::Queued,
        OrderEvent::BrewingStarted,
        OrderEvent::Completed,
    ];
    for (i, e) in events.into_iter().take(step).enumerate() {
        o.apply(e, format!("2026-01-01T00:00:0{}.000Z", i + 1)).unwrap();
    }
    o
}

/// The view's own store, writer and reader, on a fresh database: no stack needed.
async fn fresh_view() -> (ViewDb, View) {
    let url = e2e::fresh_database().await;
    let writer = ViewDb::connect(&url, 2).await.unwrap();
    (writer, View::connect_lazy(&url, 2).unwrap())
}

fn statuses(order: &view::OrderRow) -> Vec<&str> {
    order
        .history
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|h| h.status.as_str())
        .collect()
}

#[tokio::test]
async fn a_stale_projection_never_overwrites_a_newer_one_and_replays_change_nothing() {
    let (db, view) = fresh_view().await;
    let stock = |qty, version| {
        Some(StockLevel {
            shop_id: Default::default(),
            product_name: ProductName::parse("Latte").unwrap(),
            qty,
            version,
            price: None,
            restocked: None,
        })
    };

    db.project_order(&OrderProjection {
        order: order_at(4),
        stock: stock(7, 9),
        at_event: 40,
    })
    .await
    .unwrap();
    db.project_order(&OrderProjection {
        order: order_at(2),
        stock: stock(9, 5),
        at_event: 20,
    })
    .await
    .unwrap();
    db.project_order(&OrderProjection {
        order: order_at(4),
        stock: stock(7, 9),
        at_event: 40,
    })
    .await
    .unwrap();

    let order = view.order(&OrderId::parse("view-1").unwrap()).await.unwrap().unwrap();
    assert_eq!(
        order.status, "Completed",
        "the older Queued projection arrived last and lost"
    );
    assert_eq!(
        statuses(&order),
        ["Ordered", "StockReserved", "Queued", "Brewing", "Completed"],
        "each step once, in order"
    );
    let levels = view.stocks(domain::ShopId::MAIN).await.unwrap();
    assert!(
        levels.iter().any(|l| l.product_name == "Latte" && l.qty == 7),
        "the newer stock level stays: {levels:?}"
    );
}

#[tokio::test]
async fn steps_arriving_out_of_order_all_land_in_sequence() {
    let (db, view) = fresh_view().await;
    // Only the latest projection carries the whole history, yet an early one arriving alone
    // first, then a late one, leaves every step in place.
    db.project_order(&OrderProjection {
        order: order_at(1),
        stock: None,
        at_event: 10,
    })
    .await
    .unwrap();
    db.project_order(&OrderProjection {
        order: order_at(3),
        stock: None,
        at_event: 30,
    })
    .await
    .unwrap();
    let order = view.order(&OrderId::parse("view-1").unwrap()).await.unwrap().unwrap();
    assert_eq!(order.status, "Brewing");
    assert_eq!(statuses(&order), ["Ordered", "StockReserved", "Queued", "Brewing"]);
}

#[tokio::test]
async fn a_projection_from_a_lost_workflow_task_is_replaced_by_what_the_workflow_then_decided() {
    // A projection is handed over from inside a workflow task; if that task is then lost (its
    // worker or the Temporal server died), the workflow decides again with a longer history, and
    // may decide otherwise: here the lost task had started brewing (step 4), and after it the
    // order is still Queued (step 3), then canceled (step 4 again, another status).
    let (db, view) = fresh_view().await;
    let project = |order: Order, at_event| {
        let db = db.clone();
        async move {
            db.project_order(&OrderProjection {
                order,
                stock: None,
                at_event,
            })
            .await
            .unwrap()
        }
    };
    let id = OrderId::parse("view-1").unwrap();
    project(order_at(3), 20).await;
    project(order_at(2), 27).await;
    let order = view.order(&id).await.unwrap().unwrap();
    assert_eq!(order.status, "Queued", "the later decision wins at a lower step");
    assert_eq!(
        statuses(&order),
        ["Ordered", "StockReserved", "Queued"],
        "and its history is the order's"
    );

    let mut canceled = order_at(2);
    canceled
        .apply(
            OrderEvent::Canceled {
                reason: "changed my mind".into(),
            },
            "2026-01-01T00:00:09.000Z".into(),
        )
        .unwrap();
    project(canceled, 33).await;
    // The lost task's projection arriving again, late, changes nothing.
    project(order_at(3), 20).await;
    let order = view.order(&id).await.unwrap().unwrap();
    assert_eq!(order.status, "Canceled");
    assert_eq!(statuses(&order), ["Ordered", "StockReserved", "Queued", "Canceled"]);
}

#[tokio::test]
async fn the_restock_log_is_read_from_the_view_newest_first_a_page_at_a_time_even_with_temporal_away() {
    let app = &mut e2e::TestApp::spawn_with(|c| c.temporal_on_disk()).await;
    for (product, qty) in [("Log Arabica", 1), ("Log Bourbon", 2), ("Log Caturra", 3)] {
        app.restock(product, qty).await;
    }
    let names = |page: &serde_json::Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["productName"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = e2e::eventually("the view to log all three restocks", || async {
        let page: serde_json::Value = app.get("/stocks/restocks?limit=2").await.json().await.ok()?;
        (names(&page) == ["Log Caturra", "Log Bourbon"]).then_some(page)
    })
    .await;
    assert_eq!(first["items"][0]["qty"], 3);
    assert!(first["items"][0]["workflowId"].as_str().unwrap().starts_with("restock-"));
    let next: serde_json::Value = app.get(first["next"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(names(&next), ["Log Arabica"]);
    assert!(next.get("next").is_none(), "the last page has no next");

    // The log is the shop's own record, not a list of Temporal's workflows.
    app.stack.stop_temporal();
    let r = app.get("/stocks/restocks?limit=2").await;
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let page: serde_json::Value = r.json().await.unwrap();
    assert_eq!(names(&page), ["Log Caturra", "Log Bourbon"]);
}
