//! The kitchen wait limit (`KITCHEN_MAX_WAIT`): a Queued order no barista starts in time is
//! canceled `KitchenTimeout` and compensated; a barista who starts first wins.

use domain::{OrderId, OrderStatus};
use e2e::{TestApp, eventually};
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
