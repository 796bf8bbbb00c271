//! The Temporal surface (docs/spec.md, "The Temporal surface") as a CLI user types it: query, update, signal, search attributes.

use domain::OrderStatus;
use e2e::{TestApp, eventually};

#[tokio::test]
async fn the_cli_queries_updates_signals_and_filters_orders_as_typed() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(10).await;
    let id = app.queued_order(&product, 1, "c-cli").await;
    let wf = format!("order-{id}");

    let (ok, out) = app
        .temporal_cli(&[
            "workflow",
            "query",
            "--workflow-id",
            &wf,
            "--name",
            "status",
            "-o",
            "json",
        ])
        .await;
    assert!(ok, "{out}");
    assert!(
        out.contains("\"status\": \"Queued\"") || out.contains("\"status\":\"Queued\""),
        "{out}"
    );
    assert!(out.contains("productName"), "camelCase fields: {out}");

    eventually("the search attribute follows the status", || async {
        let (_, listed) = app
            .temporal_cli(&[
                "workflow",
                "list",
                "--query",
                "OrderStatus=\"Queued\" AND CustomerId=\"c-cli\"",
            ])
            .await;
        listed.contains(&wf).then_some(())
    })
    .await;

    // An invalid signal is ignored and noted; a valid one moves the order.
    let (ok, out) = app
        .temporal_cli(&[
            "workflow",
            "signal",
            "--workflow-id",
            &wf,
            "--name",
            "completeProduction",
        ])
        .await;
    assert!(ok, "{out}");
    let order = eventually("the ignored signal is noted", || async {
        let o = app.query(&id).await.ok()?;
        (!o.ignored.is_empty()).then_some(o)
    })
    .await;
    assert_eq!(order.status, OrderStatus::Queued);
    assert_eq!(order.ignored[0].command, "completeProduction");

    let (ok, out) = app
        .temporal_cli(&["workflow", "signal", "--workflow-id", &wf, "--name", "startBrewing"])
        .await;
    assert!(ok, "{out}");
    app.wait_for_workflow_status(&id, OrderStatus::Brewing).await;

    let (ok, out) = cancel_from_cli(&app, &wf).await;
    assert!(!ok, "cancel while brewing is refused");
    assert!(out.contains("can no longer be canceled"), "{out}");

    let (ok, out) = app
        .temporal_cli(&[
            "workflow",
            "update",
            "execute",
            "--workflow-id",
            &wf,
            "--name",
            "completeProduction",
        ])
        .await;
    assert!(ok, "{out}");
    // The CLI prints the answer as a Go map.
    assert!(out.contains("status:Completed") && out.contains("ticketOpen:false"), "{out}");
    let done = app.wait_for_status(&id, OrderStatus::Completed).await;
    assert_eq!(done.history.len(), 5);
}

/// `temporal workflow update execute --name cancel`, exactly as the README types it.
async fn cancel_from_cli(app: &TestApp, workflow_id: &str) -> (bool, String) {
    app.temporal_cli(&[
        "workflow",
        "update",
        "execute",
        "--workflow-id",
        workflow_id,
        "--name",
        "cancel",
        "--input",
        r#"{"reason":"changed my mind"}"#,
    ])
    .await
}

#[tokio::test]
async fn a_cancel_update_from_the_cli_cancels_with_the_reason_given() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(10).await;
    let id = app.queued_order(&product, 2, "c-cli").await;

    let (ok, out) = cancel_from_cli(&app, &format!("order-{id}")).await;
    assert!(ok, "{out}");
    // The answer is the order as it will be kept: nothing held once the compensations are done.
    for field in ["status:Canceled", "stockReserved:false", "ticketOpen:false"] {
        assert!(out.contains(field), "{field} in {out}");
    }
    let order = app.wait_for_status(&id, OrderStatus::Canceled).await;
    assert_eq!(order.reason.as_deref(), Some("changed my mind"));
    app.wait_for_stock(&product, 10).await;
}
