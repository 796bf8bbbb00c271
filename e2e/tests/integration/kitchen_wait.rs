//! The kitchen wait limit (`KITCHEN_MAX_WAIT`), the first change made to `OrderWorkflow` behind
//! `patched()`: a Queued order no barista starts in time is canceled `KitchenTimeout` and
//! compensated; a barista who starts first wins; and orders queued by the workflow as it was before
//! the change are taken over by today's cafe worker and finish as they would have.

use domain::{OrderId, OrderStatus};
use e2e::{TestApp, eventually, order_id};
use serde_json::json;

/// The event types of an order's history, as `temporal workflow show` lists them.
async fn event_types(app: &TestApp, id: &OrderId) -> Vec<String> {
    app.history_events(id)
        .await
        .iter()
        .map(|e| e["eventType"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn with_limit(limit: &'static str) -> impl FnOnce(&mut stack::StackConfig) {
    move |c| c.extra_env.push(("KITCHEN_MAX_WAIT".into(), limit.into()))
}

#[tokio::test]
async fn a_queued_order_no_barista_starts_in_time_is_canceled_and_compensated() {
    let app = TestApp::spawn_with(with_limit("2s")).await;
    let product = app.stocked_product(10).await;
    let id = app.queued_order(&product, 3, "c-wait").await;
    assert_eq!(app.warehouse_stock(&product).await, Some(7));

    let order = app.wait_for_status(&id, OrderStatus::Canceled).await;
    assert_eq!(order.reason.as_deref(), Some("KitchenTimeout"));
    app.wait_for_stock(&product, 10).await;
    app.wait_for_ticket(&id, OrderStatus::Canceled).await;
    app.wait_closed(&id).await;
    let events = event_types(&app, &id).await;
    assert!(
        events.iter().any(|e| e == "EVENT_TYPE_TIMER_FIRED"),
        "a durable timer: {events:?}"
    );
    assert!(
        events.iter().any(|e| e == "EVENT_TYPE_MARKER_RECORDED"),
        "behind patched(): {events:?}"
    );
}

#[tokio::test]
async fn a_barista_who_starts_before_the_limit_wins_even_when_the_timer_fires_while_brewing() {
    let app = TestApp::spawn_with(with_limit("2s")).await;
    let product = app.stocked_product(10).await;
    let id = app.queued_order(&product, 1, "c-wait").await;
    let started = app.post(&format!("/kitchen/tickets/{id}/start"), json!({})).await;
    assert_eq!(started.status(), 200);

    // The timer is not canceled (it would end with the workflow); here the brew outlasts it.
    eventually("the kitchen timer fires while the order is brewing", || async {
        event_types(&app, &id)
            .await
            .iter()
            .any(|e| e == "EVENT_TYPE_TIMER_FIRED")
            .then_some(())
    })
    .await;
    let brewing = app.query(&id).await.unwrap();
    assert_eq!(brewing.status, OrderStatus::Brewing, "the late timer changed nothing");
    assert!(brewing.ignored.is_empty(), "nor was it noted: {:?}", brewing.ignored);
    let done = app.post(&format!("/kitchen/tickets/{id}/complete"), json!({})).await;
    assert_eq!(done.status(), 200);
    let order = app.wait_for_status(&id, OrderStatus::Completed).await;
    assert_eq!(order.reason, None);
}

#[tokio::test]
async fn no_limit_means_no_timer() {
    let app = TestApp::spawn_with(with_limit("0")).await;
    let product = app.stocked_product(10).await;
    let id = app.queued_order(&product, 1, "c-wait").await;
    let events = event_types(&app, &id).await;
    assert!(!events.iter().any(|e| e == "EVENT_TYPE_TIMER_STARTED"), "{events:?}");
}

/// Orders in `e2e/fixtures/pre-kitchen-wait/temporal.db`: placed with the Idempotency-Keys
/// `upgrade-1` … `upgrade-4` and left Queued by the workflow as it was before the kitchen wait
/// limit (recorded with `make record-upgrade-fixture`).
const ORDERS_BEFORE_THE_CHANGE: [&str; 4] = [
    "261d2bc9-03be-54c8-a4bd-96e1834c0e2b",
    "8ebec31d-a9a3-5425-912a-e7cf66691c5d",
    "bf65319f-8983-542d-af8b-a1cc0110b220",
    "19fe1ee8-b6b3-5502-9847-2b3d28d47999",
];

#[tokio::test]
async fn orders_queued_before_the_change_are_taken_over_by_the_new_cafe_worker_and_finish() {
    // A Temporal server whose database holds orders that the previous cafe worker left Queued;
    // today's cafe worker takes them over, as in a rolling update.
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pre-kitchen-wait/temporal.db");
    let app = TestApp::spawn_with(|c| {
        c.temporal_on_disk();
        std::fs::copy(&fixture, c.dir.join("temporal.db")).expect("the fixture is there");
        with_limit("1s")(c);
    })
    .await;
    let before: Vec<OrderId> = ORDERS_BEFORE_THE_CHANGE.into_iter().map(order_id).collect();
    for id in &before {
        app.wait_for_workflow_status(id, OrderStatus::Queued).await;
    }

    // A new order gets the new behaviour: canceled after one second in the queue.
    let product = app.stocked_product(10).await;
    let fresh = app.queued_order(&product, 1, "c-new").await;
    let fresh = app.wait_for_status(&fresh, OrderStatus::Canceled).await;
    assert_eq!(fresh.reason.as_deref(), Some("KitchenTimeout"));

    // The old ones, queued far longer than that, keep the behaviour they started with.
    for id in &before {
        assert_eq!(app.query(id).await.unwrap().status, OrderStatus::Queued, "order {id}");
        let events = event_types(&app, id).await;
        assert!(
            !events.iter().any(|e| e == "EVENT_TYPE_TIMER_STARTED"),
            "{id}: {events:?}"
        );
    }
    // And they finish: two are brewed and handed over, two are canceled.
    for id in &before[..2] {
        assert_eq!(
            app.post(&format!("/kitchen/tickets/{id}/start"), json!({}))
                .await
                .status(),
            200
        );
        assert_eq!(
            app.post(&format!("/kitchen/tickets/{id}/complete"), json!({}))
                .await
                .status(),
            200
        );
        app.wait_for_status(id, OrderStatus::Completed).await;
    }
    for id in &before[2..] {
        assert_eq!(app.post(&format!("/orders/{id}/cancel"), json!({})).await.status(), 200);
        app.wait_for_status(id, OrderStatus::Canceled).await;
    }
    for id in &before {
        app.wait_closed(id).await;
    }
}
