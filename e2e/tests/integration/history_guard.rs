//! The history-size guard: however many signals a client sends to one order, its history stays far
//! below Temporal's limit (51,200 events), the order keeps working, and what it keeps is bounded.

use domain::{MAX_IGNORED, order_workflow_id};
use e2e::TestApp;
use serde_json::json;
use stack::temporal::MAX_SIGNALS_PER_ORDER;
use temporalio_client::{WorkflowDescribeOptions, WorkflowSignalOptions};
use workflows::OrderWorkflow;

#[tokio::test]
async fn a_flood_of_signals_is_cut_off_and_the_order_still_completes_with_a_small_history() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(10).await;
    let id = app.queued_order(&product, 1, "c-flood").await;
    let handle = app
        .temporal
        .get_workflow_handle::<OrderWorkflow>(order_workflow_id(&id));

    // Signals that are all invalid now (an order that is not brewing cannot be completed).
    let mut accepted = 0;
    for _ in 0..MAX_SIGNALS_PER_ORDER + 50 {
        let sent = handle
            .signal(
                OrderWorkflow::complete_production_signal,
                (),
                WorkflowSignalOptions::default(),
            )
            .await;
        match sent {
            Ok(()) => accepted += 1,
            Err(e) => {
                assert!(e.to_string().contains("limit"), "refused for the limit: {e}");
                break;
            }
        }
    }
    assert_eq!(
        accepted, MAX_SIGNALS_PER_ORDER,
        "Temporal refuses signals beyond the cap"
    );

    // The order still works, keeps only the latest ignored commands, and its history is small.
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
    app.wait_closed(&id).await;
    let order = app.query(&id).await.unwrap();
    assert_eq!(order.status.as_str(), "Completed");
    assert_eq!(order.ignored.len(), MAX_IGNORED);
    let events = handle
        .describe(WorkflowDescribeOptions::default())
        .await
        .unwrap()
        .history_length();
    println!("history after {accepted} signals: {events} events");
    assert!(events < 51_200 / 4, "far below Temporal's limit: {events} events");

    let guard = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/temporal/dynamicconfig.yaml"
    ))
    .unwrap();
    assert!(
        guard.contains(&format!("value: {MAX_SIGNALS_PER_ORDER}")),
        "the deployment's Temporal gets the same cap"
    );
}
