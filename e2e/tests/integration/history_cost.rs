//! What one order costs Temporal (its history), the figure that decides orders/s on one server:
//! the reservation, the ticket, its moves and the projections are handed to their owners by local
//! activities (a marker each), and only when an owner cannot take them do they become durable
//! activities (`reserveStock`, `startProduction`, `moveTicket`, `projectOrder`).

use domain::{OrderId, OrderStatus};
use e2e::TestApp;
use serde_json::Value;

/// A closed order's history, as the CLI shows it.
async fn history(app: &TestApp, id: &OrderId) -> Vec<Value> {
    app.wait_closed(id).await;
    app.history_events(id).await
}

fn count(events: &[Value], needle: &str) -> usize {
    events.iter().filter(|e| e.to_string().contains(needle)).count()
}

/// Drives one order through the kitchen: Queued → Brewing → Completed, as a barista.
async fn complete(app: &TestApp, id: &OrderId) {
    for step in ["start", "complete"] {
        let r = app
            .post(&format!("/kitchen/tickets/{id}/{step}"), serde_json::json!({}))
            .await;
        assert!(r.status().is_success(), "{step}: {}", r.status());
    }
}

#[tokio::test]
async fn a_completed_order_hands_its_projections_over_locally_and_stays_small() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(10).await;
    let id = app.queued_order(&product, 1, "c-cost").await;
    complete(&app, &id).await;
    app.wait_for_status(&id, OrderStatus::Completed).await;
    let events = history(&app, &id).await;
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["eventType"].as_str()).collect();
    println!("a completed order: {} events: {kinds:?}", events.len());
    assert_eq!(
        count(&events, "\"projectOrder\""),
        0,
        "no durable projection was needed"
    );
    for durable in ["reserveStock", "startProduction", "moveTicket"] {
        assert_eq!(
            count(&events, &format!("\"{durable}\"")),
            0,
            "{durable} was handed over, not needed as a durable activity"
        );
    }
    assert!(
        count(&events, "core_local_activity") >= 7,
        "the reservation, the ticket, both moves and the projections are local-activity markers"
    );
    assert!(
        count(&events, "WORKFLOW_TASK_COMPLETED") <= 3,
        "one workflow task for the order's arrival and one for each barista command, the last of \
         which completes the workflow"
    );
    assert!(
        events.len() <= MAX_EVENTS,
        "a completed order took {} events (limit {MAX_EVENTS})",
        events.len()
    );
}

/// The history of a completed order with its steps and every projection handed over (74 with none
/// handed over, 51–57 with the projections only, 39–42 with the move to Brewing still durable,
/// 33 with the move to Completed durable).
const MAX_EVENTS: usize = 31;

#[tokio::test]
async fn with_the_customercenter_stopped_projections_fall_back_to_durable_activities_and_the_view_catches_up() {
    let app = &mut TestApp::spawn().await;
    let product = app.stocked_product(10).await;
    app.stack.kill("customercenter");
    let id = app.place_order(&product, 1, "c-fallback").await;
    app.wait_for_workflow_status(&id, OrderStatus::Queued).await;
    complete(app, &id).await;
    app.wait_for_workflow_status(&id, OrderStatus::Completed).await;
    app.stack.restart("customercenter").await.unwrap();
    app.wait_for_status(&id, OrderStatus::Completed).await;
    let events = history(app, &id).await;
    assert!(count(&events, "\"projectOrder\"") >= 1, "the durable fallback ran");
}
