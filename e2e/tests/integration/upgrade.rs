//! A real upgrade: a Temporal server whose database holds orders that the v6 workflow code left
//! running (`e2e/fixtures/v6-queued-and-brewing/`, recorded with `make record-upgrade-fixture`),
//! taken over by today's cafe worker, as in a rolling update. Those orders finish on the shape
//! they started with (their histories carry the `saga-as-designed` marker); new orders get the
//! lean saga, which records no marker.

use domain::{OrderId, OrderStatus};
use e2e::{TestApp, order_id};
use serde_json::{Value, json};

/// Left Queued by the v6 code (Idempotency-Keys `upgrade-1` … `upgrade-4`).
const QUEUED: [&str; 4] = [
    "c8da8df0-45ab-5640-b80b-70f782fd29d5",
    "6711a37e-774e-543f-9b0d-a3ed65e4251c",
    "9a30803f-7135-5d03-b588-8d025ee3513a",
    "5a7253d3-de3a-5862-a2cf-063bae4783fb",
];

/// Left Brewing by the v6 code (`upgrade-5`, `upgrade-6`).
const BREWING: [&str; 2] = [
    "ebe875ca-df20-5ced-962e-93746c5a226d",
    "25496a4e-9464-5253-9e06-a7c02b708d3a",
];

/// Whether the order's history carries a version marker (v6: `saga-as-designed`; the lean saga
/// records none).
async fn carries_a_version_marker(app: &TestApp, id: &OrderId) -> bool {
    app.history_events(id)
        .await
        .iter()
        .any(|e: &Value| e["markerRecordedEventAttributes"]["markerName"] == "core_patch")
}

/// Whether the history sets `OrderStatus` to `StockReserved` (v6 does; the lean saga does not).
async fn publishes_stock_reserved(app: &TestApp, id: &OrderId) -> bool {
    app.history_events(id).await.iter().any(|e: &Value| {
        let fields = &e["upsertWorkflowSearchAttributesEventAttributes"]["searchAttributes"]["indexedFields"];
        // "StockReserved", as the JSON payload's base64.
        fields["OrderStatus"]["data"] == "IlN0b2NrUmVzZXJ2ZWQi"
    })
}

async fn barista(app: &TestApp, id: &OrderId, step: &str) {
    let r = app.post(&format!("/kitchen/tickets/{id}/{step}"), json!({})).await;
    assert_eq!(r.status(), 200, "{step} {id}");
}

#[tokio::test]
async fn orders_left_queued_and_brewing_by_the_v6_code_finish_after_the_change() {
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/v6-queued-and-brewing/temporal.db");
    let app = TestApp::spawn_with(|c| {
        c.temporal_on_disk();
        std::fs::copy(&fixture, c.dir.join("temporal.db")).expect("the fixture is there");
    })
    .await;
    let queued: Vec<OrderId> = QUEUED.into_iter().map(order_id).collect();
    let brewing: Vec<OrderId> = BREWING.into_iter().map(order_id).collect();
    for id in &queued {
        app.wait_for_workflow_status(id, OrderStatus::Queued).await;
    }
    for id in &brewing {
        app.wait_for_workflow_status(id, OrderStatus::Brewing).await;
    }

    // A new order runs the lean saga; the old ones keep the shape they started with.
    let product = app.stocked_product(10).await;
    let fresh = app.queued_order(&product, 1, "c-new").await;
    assert!(!carries_a_version_marker(&app, &fresh).await);
    assert!(!publishes_stock_reserved(&app, &fresh).await);
    for id in queued.iter().chain(&brewing) {
        assert!(carries_a_version_marker(&app, id).await, "order {id} kept its v6 history");
        assert!(publishes_stock_reserved(&app, id).await, "order {id} kept its v6 history");
    }

    // And the old ones finish: two Queued are brewed and handed over, two are canceled, the two
    // Brewing are handed over.
    for id in &queued[..2] {
        barista(&app, id, "start").await;
    }
    for id in queued[..2].iter().chain(&brewing) {
        barista(&app, id, "complete").await;
    }
    for id in &queued[2..] {
        assert_eq!(app.post(&format!("/orders/{id}/cancel"), json!({})).await.status(), 200);
    }
    for id in queued[..2].iter().chain(&brewing) {
        app.wait_for_status(id, OrderStatus::Completed).await;
        app.wait_closed(id).await;
    }
    for id in &queued[2..] {
        app.wait_for_status(id, OrderStatus::Canceled).await;
        app.wait_closed(id).await;
    }
}
