//! A cancellation requested through Temporal itself (the Web UI's "Request Cancellation", or
//! `temporal workflow cancel`) means the customer's `cancel`: honoured with compensations while
//! the order can still be canceled, refused and noted once brewing. It never freezes a worker.

use domain::{OrderId, OrderStatus};
use e2e::TestApp;
use serde_json::json;

async fn request_cancellation(app: &TestApp, id: &OrderId) {
    let (ok, out) = app
        .temporal_cli(&["workflow", "cancel", "--workflow-id", &format!("order-{id}")])
        .await;
    assert!(ok, "the CLI sends the cancellation request: {out}");
}

/// What `temporal workflow describe` says of the workflow's own state (Running, Completed, ...).
async fn workflow_state(app: &TestApp, id: &OrderId) -> String {
    let (ok, out) = app
        .temporal_cli(&[
            "workflow",
            "describe",
            "--workflow-id",
            &format!("order-{id}"),
            "-o",
            "json",
        ])
        .await;
    assert!(ok, "{out}");
    let described: serde_json::Value = serde_json::from_str(&out).expect("describe prints JSON");
    described["workflowExecutionInfo"]["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_temporal_cancellation_of_a_queued_order_cancels_it_with_compensations_and_the_shop_goes_on() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(10).await;
    let id = app.queued_order(&product, 3, "c-op").await;
    assert_eq!(app.warehouse_stock(&product).await, Some(7));

    request_cancellation(&app, &id).await;

    let order = app.wait_for_status(&id, OrderStatus::Canceled).await;
    assert!(
        order
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("canceled through Temporal"),
        "the reason says where the cancellation came from: {order:?}"
    );
    app.wait_for_stock(&product, 10).await;
    app.wait_for_ticket(&id, OrderStatus::Canceled).await;
    app.wait_closed(&id).await;
    assert_eq!(
        workflow_state(&app, &id).await,
        "WORKFLOW_EXECUTION_STATUS_COMPLETED",
        "the workflow completes normally, as a canceled order"
    );

    // The cafe worker is not frozen: a new order still reaches the kitchen board.
    let next = app.queued_order(&product, 1, "c-op").await;
    assert_eq!(app.query(&next).await.unwrap().status, OrderStatus::Queued);
}

#[tokio::test]
async fn a_temporal_cancellation_of_a_brewing_order_is_refused_noted_and_the_order_completes() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(10).await;
    let id = app.queued_order(&product, 2, "c-op").await;
    let started = app.post(&format!("/kitchen/tickets/{id}/start"), json!({})).await;
    assert_eq!(started.status(), 200);

    request_cancellation(&app, &id).await;

    let noted = e2e::eventually("the refused cancellation is noted on the order", || async {
        let o = app.query(&id).await.ok()?;
        (!o.ignored.is_empty()).then_some(o)
    })
    .await;
    assert_eq!(noted.status, OrderStatus::Brewing);
    assert!(
        noted.ignored[0].reason.contains("can no longer be canceled"),
        "{:?}",
        noted.ignored
    );

    let completed = app.post(&format!("/kitchen/tickets/{id}/complete"), json!({})).await;
    assert_eq!(completed.status(), 200);
    app.wait_for_status(&id, OrderStatus::Completed).await;
    app.wait_closed(&id).await;
    assert_eq!(
        app.warehouse_stock(&product).await,
        Some(8),
        "the stock stays taken once"
    );

    let next = app.queued_order(&product, 1, "c-op").await;
    assert_eq!(app.query(&next).await.unwrap().status, OrderStatus::Queued);
}
