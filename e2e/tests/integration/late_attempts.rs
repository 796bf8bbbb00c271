//! Late or duplicated activity attempts never contradict a newer decision, and workflows started
//! by hand are held to the API's rules. The stores are driven directly (as a late attempt would
//! reach them), on the stack's real PostgreSQL; the workflows through the real `temporal` CLI.

use domain::{OrderId, OrderStatus, ProductName, Quantity, Reservation, Ticket};
use e2e::{TestApp, order_id};

fn reservation(id: &str, product: &str, qty: i64, run: Option<&str>) -> Reservation {
    Reservation {
        order_id: OrderId::parse(id).unwrap(),
        shop_id: Default::default(),
        product_name: ProductName::parse(product).unwrap(),
        qty: Quantity::parse(qty).unwrap(),
        order_run: run.map(str::to_owned),
    }
}

#[tokio::test]
async fn a_late_reservation_never_takes_stock_for_an_order_already_refused_or_released() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(3).await;
    let db = app.warehouse_db().await;

    // Refused for want of stock; stock arrives; the earlier attempt wakes up late.
    let refused = reservation("late-1", &product, 5, Some("run-a"));
    assert!(matches!(
        db.reserve(&refused).await.unwrap(),
        activities::warehouse::Reserved::OutOfStock { .. }
    ));
    app.restock(&product, 10).await;
    assert!(
        matches!(
            db.reserve(&refused).await.unwrap(),
            activities::warehouse::Reserved::OutOfStock { .. }
        ),
        "the late attempt repeats the refusal"
    );
    assert_eq!(app.warehouse_stock(&product).await, Some(13));

    // Compensated before its reservation ever landed; then the reservation lands.
    let order = OrderId::parse("late-2").unwrap();
    assert_eq!(db.release(&order).await.unwrap(), None);
    db.reserve(&reservation("late-2", &product, 4, Some("run-b")))
        .await
        .unwrap();
    assert_eq!(
        app.warehouse_stock(&product).await,
        Some(13),
        "nothing taken after the release"
    );
    assert_eq!(db.held_by(&order).await.unwrap(), 0);
}

#[tokio::test]
async fn a_reservation_is_never_reused_by_another_order_with_the_same_id() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(10).await;
    let db = app.warehouse_db().await;

    let first = db
        .reserve(&reservation("reused-1", &product, 2, Some("run-1")))
        .await
        .unwrap();
    assert!(matches!(first, activities::warehouse::Reserved::Taken(_)));
    let retry = db
        .reserve(&reservation("reused-1", &product, 2, Some("run-1")))
        .await
        .unwrap();
    assert_eq!(first, retry, "the same order's retry is answered the same");
    let other = db
        .reserve(&reservation("reused-1", &product, 2, Some("run-2")))
        .await
        .unwrap();
    assert_eq!(other, activities::warehouse::Reserved::DuplicateOrderId);
    assert_eq!(app.warehouse_stock(&product).await, Some(8));
}

#[tokio::test]
async fn kitchen_moves_only_go_forward_and_a_withdrawn_ticket_never_reaches_the_board() {
    let app = TestApp::spawn().await;
    let kitchen = app.kitchen_db().await;
    let ticket = |id: &str| Ticket {
        order_id: OrderId::parse(id).unwrap(),
        shop_id: Default::default(),
        product_name: ProductName::parse("Latte").unwrap(),
        qty: Quantity::parse(1).unwrap(),
    };

    let done = ticket("fwd-1");
    kitchen.open(&done).await.unwrap();
    kitchen
        .set_status(&done.order_id, OrderStatus::Brewing)
        .await
        .unwrap();
    kitchen
        .set_status(&done.order_id, OrderStatus::Completed)
        .await
        .unwrap();
    kitchen
        .set_status(&done.order_id, OrderStatus::Brewing)
        .await
        .unwrap();
    kitchen.withdraw(&done.order_id).await.unwrap();
    assert_eq!(
        kitchen.status(&done.order_id).await.unwrap().as_deref(),
        Some("Completed"),
        "a late move or withdrawal does not undo a completed ticket"
    );

    let withdrawn = ticket("fwd-2");
    kitchen.withdraw(&withdrawn.order_id).await.unwrap();
    kitchen.open(&withdrawn).await.unwrap();
    assert_eq!(
        kitchen.status(&withdrawn.order_id).await.unwrap().as_deref(),
        Some("Canceled")
    );
    assert_eq!(
        kitchen
            .claim("auto-test", std::time::Duration::from_secs(5))
            .await
            .unwrap(),
        None,
        "nothing for a barista to take"
    );
}

#[tokio::test]
async fn a_workflow_started_by_hand_with_invalid_input_is_rejected_at_once_with_the_reason() {
    let app = TestApp::spawn().await;
    app.start_order_by_hand(
        "order-by-hand-1",
        r#"{"orderId":"by-hand-1","productName":"","qty":0,"customerId":"c-cli"}"#,
    )
    .await;
    let order = app.wait_for_status(&order_id("by-hand-1"), OrderStatus::Rejected).await;
    assert!(
        order
            .reason
            .as_deref()
            .unwrap_or_default()
            .starts_with("InvalidOrder: productName"),
        "{order:?}"
    );
    app.wait_closed(&order.order_id).await;

    app.start_order_by_hand("order-by-hand-2", r#""not an order""#).await;
    let order = app.wait_for_status(&order_id("by-hand-2"), OrderStatus::Rejected).await;
    assert!(
        order.reason.as_deref().unwrap_or_default().contains("InvalidOrder"),
        "{order:?}"
    );

    // And the shop goes on.
    let product = app.stocked_product(5).await;
    app.queued_order(&product, 1, "c-cli").await;
}

#[tokio::test]
async fn an_order_id_used_again_by_hand_is_rejected_and_takes_no_stock() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(10).await;
    let input = format!(r#"{{"orderId":"again-1","productName":"{product}","qty":2,"customerId":"c-cli"}}"#);
    app.start_order_by_hand("order-again-1", &input).await;
    let again = order_id("again-1");
    app.wait_for_status(&again, OrderStatus::Queued).await;
    let (ok, out) = app
        .temporal_cli(&[
            "workflow",
            "terminate",
            "--workflow-id",
            "order-again-1",
            "--reason",
            "test",
        ])
        .await;
    assert!(ok, "{out}");

    app.start_order_by_hand("order-again-1", &input).await;
    e2e::eventually("the second order with the same id is rejected", || async {
        let o = app.query(&again).await.ok()?;
        (o.status == OrderStatus::Rejected).then_some(())
    })
    .await;
    assert_eq!(
        app.query(&again).await.unwrap().reason.as_deref(),
        Some("DuplicateOrderId")
    );
    assert_eq!(
        app.warehouse_stock(&product).await,
        Some(8),
        "only the first order took stock"
    );
}
