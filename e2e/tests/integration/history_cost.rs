//! The saga as an order's history shows it in the Temporal Web UI: the design's activities by
//! name, each on the task queue of the service that owns the data, and what one order costs
//! Temporal (its events and workflow tasks, the figures that decide orders/s on one server).

use domain::{OrderId, OrderStatus};
use e2e::TestApp;
use e2e::history::Cost;
use serde_json::{Value, json};

/// A closed order's history, as the CLI shows it.
async fn history(app: &TestApp, id: &OrderId) -> Vec<Value> {
    app.wait_closed(id).await;
    app.history_events(id).await
}

fn kind(event: &Value) -> &str {
    event["eventType"].as_str().unwrap_or_default()
}

/// The activities the history schedules, as `name@queue`, in order.
fn activities(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e.get("activityTaskScheduledEventAttributes"))
        .map(|a| {
            format!(
                "{}@{}",
                a["activityType"]["name"].as_str().unwrap_or_default(),
                a["taskQueue"]["name"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// The events of each completed workflow task: the commands it recorded, up to the next task.
fn tasks(events: &[Value]) -> Vec<Vec<&Value>> {
    let mut tasks: Vec<Vec<&Value>> = Vec::new();
    for e in events {
        match kind(e) {
            "EVENT_TYPE_WORKFLOW_TASK_COMPLETED" => tasks.push(Vec::new()),
            "EVENT_TYPE_WORKFLOW_TASK_SCHEDULED" => tasks.push(Vec::new()),
            _ => {}
        }
        if let Some(task) = tasks.last_mut() {
            task.push(e);
        }
    }
    tasks
}

fn is_local_activity(event: &Value) -> bool {
    kind(event) == "EVENT_TYPE_MARKER_RECORDED" && event.to_string().contains("core_local_activity")
}

/// A projection never shows a decision before it is recorded: the task that accepts an update
/// runs no local activity.
fn assert_no_projection_in_a_task_that_accepts_an_update(events: &[Value]) {
    for task in tasks(events) {
        if task
            .iter()
            .any(|e| kind(e) == "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED")
        {
            assert!(
                !task.iter().any(|e| is_local_activity(e)),
                "a task that accepted an update ran a local activity: {task:?}"
            );
        }
    }
}

fn summary(events: &[Value]) -> String {
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| kind(e).trim_start_matches("EVENT_TYPE_"))
        .collect();
    format!("{} events: {kinds:?}; activities {:?}", events.len(), activities(events))
}

async fn barista(app: &TestApp, id: &OrderId, step: &str) {
    let r = app.post(&format!("/kitchen/tickets/{id}/{step}"), json!({})).await;
    assert_eq!(r.status(), 200, "{step}");
}

#[tokio::test]
async fn a_completed_order_runs_the_designs_steps_as_activities_of_their_owners() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(10).await;
    let id = app.queued_order(&product, 1, "c-cost").await;
    // As at the counter: the view shows the order brewing before the barista hands it over
    // (handed over at once, the view may skip Brewing: the projector sends the newest state).
    barista(&app, &id, "start").await;
    app.wait_for_status(&id, OrderStatus::Brewing).await;
    barista(&app, &id, "complete").await;
    app.wait_for_status(&id, OrderStatus::Completed).await;
    let events = history(&app, &id).await;
    println!("a completed order: {}", summary(&events));

    assert_eq!(
        activities(&events),
        [
            "reserveStock@warehouse",
            "startProduction@kitchen",
            "moveTicket@kitchen",
            "moveTicket@kitchen"
        ]
    );
    assert_no_projection_in_a_task_that_accepts_an_update(&events);
    assert_eq!(
        events.iter().filter(|e| is_local_activity(e)).count(),
        4,
        "one projection per status a person sees: Ordered, Queued, Brewing, Completed (StockReserved, \
         which lasts one step, rides in the next one)"
    );
    let cost = Cost::of(&events);
    assert_eq!(
        cost.by_type(),
        "1 start, 4 activity, 4 local activities, 1 timer, 3 upsert, 2 update",
        "the bill of a completed order: no version marker, no upsert for StockReserved"
    );
    assert!(
        events.len() <= MAX_EVENTS && cost.workflow_tasks <= 7,
        "a completed order took {} events and {} workflow tasks (limit {MAX_EVENTS} and 7)",
        events.len(),
        cost.workflow_tasks
    );
}

/// The history of a completed order (see docs/decisions/0008-a-lean-saga.md): 50 for the v6 shape,
/// 47 for the lean one.
const MAX_EVENTS: usize = 47;

#[tokio::test]
async fn a_canceled_queued_order_withdraws_its_ticket_then_releases_its_stock() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(10).await;
    let id = app.queued_order(&product, 2, "c-cost").await;
    let r = app.post(&format!("/orders/{id}/cancel"), json!({})).await;
    assert_eq!(r.status(), 200);
    app.wait_for_status(&id, OrderStatus::Canceled).await;
    let events = history(&app, &id).await;
    println!("a canceled order: {}", summary(&events));

    assert_eq!(
        activities(&events),
        [
            "reserveStock@warehouse",
            "startProduction@kitchen",
            "cancelProduction@kitchen",
            "releaseStock@warehouse"
        ]
    );
    assert_no_projection_in_a_task_that_accepts_an_update(&events);
    app.wait_for_stock(&product, 10).await;
    app.wait_for_ticket(&id, OrderStatus::Canceled).await;
}

#[tokio::test]
async fn with_the_customercenter_stopped_orders_still_complete_and_the_view_catches_up() {
    let app = &mut TestApp::spawn().await;
    let product = app.stocked_product(10).await;
    app.stack.kill("customercenter");
    let id = app.place_order(&product, 1, "c-away").await;
    app.wait_for_workflow_status(&id, OrderStatus::Queued).await;
    barista(app, &id, "start").await;
    barista(app, &id, "complete").await;
    app.wait_for_workflow_status(&id, OrderStatus::Completed).await;
    app.wait_for_ticket(&id, OrderStatus::Completed).await;

    app.stack.restart("customercenter").await.unwrap();
    let order = app.wait_for_status(&id, OrderStatus::Completed).await;
    assert_eq!(
        order.statuses(),
        [
            OrderStatus::Ordered,
            OrderStatus::StockReserved,
            OrderStatus::Queued,
            OrderStatus::Brewing,
            OrderStatus::Completed
        ]
    );
    let events = history(app, &id).await;
    assert!(
        !activities(&events).iter().any(|a| a.starts_with("projectOrder")),
        "one path: no durable twin of the projection"
    );
}
