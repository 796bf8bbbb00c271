//! Records the workflow histories that the replay test (`workflows/tests/replay.rs`) replays:
//! one per path of `OrderWorkflow` and `RestockWorkflow`, in the JSON form of the SDK's
//! `WorkflowHistory`, into `workflows/histories/<name>.json`. Not part of `make test` (it writes into
//! the source tree); run it with `make record-histories` after a workflow change, and commit the
//! new files beside the old ones (old ones stay until no such order can still be running).
//!
//! Set `COFFEESHOP_HISTORY_TAG` to prefix the file names (e.g. the change they were recorded
//! before or after).

use domain::{OrderStatus, order_workflow_id as order};
use std::path::PathBuf;

use e2e::{TestApp, eventually, order_id};
use serde_json::json;
use temporalio_client::WorkflowFetchHistoryOptions;

fn histories_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../workflows/histories")
}

/// Writes the history of `workflow_id` as `<tag><name>.json`, in the JSON form the SDK's
/// replayer reads (`WorkflowHistory::to_json`; the Rust SDK cannot read the CLI's proto-JSON yet).
async fn record(app: &TestApp, workflow_id: &str, name: &str) {
    let json = app
        .temporal
        .get_workflow_handle::<workflows::OrderWorkflow>(workflow_id.to_owned())
        .fetch_history(WorkflowFetchHistoryOptions::default())
        .to_json()
        .await
        .expect("the history is fetched");
    let pretty: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let tag = std::env::var("COFFEESHOP_HISTORY_TAG").unwrap_or_default();
    let dir = histories_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{tag}{name}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(&pretty).unwrap()).unwrap();
    println!("recorded {workflow_id} as {}", path.display());
}

async fn cli(app: &TestApp, args: &[&str]) {
    let (ok, out) = app.temporal_cli(args).await;
    assert!(ok, "{args:?}: {out}");
}

#[tokio::test]
#[ignore = "writes into the source tree; run with `make record-histories`"]
async fn record_a_history_for_every_path_of_the_workflows() {
    let mut app = TestApp::spawn().await;
    let product = app.stocked_product(100).await;

    // Happy path, driven through the API as a barista would.
    let id = app.queued_order(&product, 2, "c-rec").await;
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
    record(&app, &order(&id), "order-completed").await;

    // Rejections.
    let id = app.place_order(&product, 100, "c-rec").await;
    app.wait_closed(&id).await;
    record(&app, &order(&id), "order-rejected-out-of-stock").await;
    let id = app.place_order("Nobody-Sells-This", 1, "c-rec").await;
    app.wait_closed(&id).await;
    record(&app, &order(&id), "order-rejected-unknown-product").await;
    app.start_order_by_hand(
        "order-rec-invalid",
        r#"{"orderId":"rec-invalid","productName":"","qty":0,"customerId":"c"}"#,
    )
    .await;
    app.wait_closed(&order_id("rec-invalid")).await;
    record(&app, "order-rec-invalid", "order-rejected-invalid-input").await;

    // Cancel in each cancellable state, with its compensations.
    let id = app.queued_order(&product, 1, "c-rec").await;
    assert_eq!(app.post(&format!("/orders/{id}/cancel"), json!({})).await.status(), 200);
    app.wait_closed(&id).await;
    record(&app, &order(&id), "order-canceled-queued").await;

    app.stack.kill("kitchen");
    let id = app.place_order(&product, 1, "c-rec").await;
    app.wait_for_workflow_status(&id, OrderStatus::StockReserved).await;
    assert_eq!(app.post(&format!("/orders/{id}/cancel"), json!({})).await.status(), 200);
    app.stack.restart("kitchen").await.unwrap();
    app.wait_closed(&id).await;
    record(&app, &order(&id), "order-canceled-stock-reserved").await;

    app.stack.kill("warehouse");
    let id = app.place_order(&product, 1, "c-rec").await;
    eventually("the order is readable", || async { app.query(&id).await.ok() }).await;
    assert_eq!(app.post(&format!("/orders/{id}/cancel"), json!({})).await.status(), 200);
    app.stack.restart("warehouse").await.unwrap();
    app.wait_closed(&id).await;
    record(&app, &order(&id), "order-canceled-ordered").await;

    // A refused cancel (brewing), then completion.
    let id = app.queued_order(&product, 1, "c-rec").await;
    assert_eq!(
        app.post(&format!("/kitchen/tickets/{id}/start"), json!({}))
            .await
            .status(),
        200
    );
    assert_eq!(app.post(&format!("/orders/{id}/cancel"), json!({})).await.status(), 409);
    assert_eq!(
        app.post(&format!("/kitchen/tickets/{id}/complete"), json!({}))
            .await
            .status(),
        200
    );
    app.wait_closed(&id).await;
    record(&app, &order(&id), "order-cancel-refused-while-brewing").await;

    // Signals: an invalid one is noted as ignored, valid ones move the order.
    let id = app.queued_order(&product, 1, "c-rec").await;
    let wf = order(&id);
    cli(
        &app,
        &[
            "workflow",
            "signal",
            "--workflow-id",
            &wf,
            "--name",
            "completeProduction",
        ],
    )
    .await;
    cli(
        &app,
        &["workflow", "signal", "--workflow-id", &wf, "--name", "startBrewing"],
    )
    .await;
    app.wait_for_workflow_status(&id, OrderStatus::Brewing).await;
    cli(
        &app,
        &[
            "workflow",
            "signal",
            "--workflow-id",
            &wf,
            "--name",
            "cancel",
            "--input",
            "{}",
        ],
    )
    .await;
    cli(
        &app,
        &[
            "workflow",
            "signal",
            "--workflow-id",
            &wf,
            "--name",
            "completeProduction",
        ],
    )
    .await;
    app.wait_closed(&id).await;
    record(&app, &wf, "order-signals-with-ignored").await;

    // Cancellation requested through Temporal: honoured while Queued, refused once brewing.
    let id = app.queued_order(&product, 1, "c-rec").await;
    cli(&app, &["workflow", "cancel", "--workflow-id", &order(&id)]).await;
    app.wait_closed(&id).await;
    record(&app, &order(&id), "order-temporal-cancel-queued").await;
    let id = app.queued_order(&product, 1, "c-rec").await;
    assert_eq!(
        app.post(&format!("/kitchen/tickets/{id}/start"), json!({}))
            .await
            .status(),
        200
    );
    cli(&app, &["workflow", "cancel", "--workflow-id", &order(&id)]).await;
    eventually("the refused cancellation is noted", || async {
        let o = app.query(&id).await.ok()?;
        (!o.ignored.is_empty()).then_some(())
    })
    .await;
    assert_eq!(
        app.post(&format!("/kitchen/tickets/{id}/complete"), json!({}))
            .await
            .status(),
        200
    );
    app.wait_closed(&id).await;
    record(&app, &order(&id), "order-temporal-cancel-refused-while-brewing").await;

    // An order nobody started within its kitchen wait limit (here one second, given in its input).
    let input = format!(
        r#"{{"orderId":"rec-timeout","productName":"{product}","qty":1,"customerId":"c","kitchenMaxWaitMs":1000}}"#
    );
    app.start_order_by_hand("order-rec-timeout", &input).await;
    let timeout = order_id("rec-timeout");
    app.wait_closed(&timeout).await;
    assert_eq!(
        app.query(&timeout).await.unwrap().reason.as_deref(),
        Some("KitchenTimeout")
    );
    record(&app, "order-rec-timeout", "order-canceled-kitchen-timeout").await;

    // An order still waiting in the kitchen (an open history: replay covers running orders too).
    let id = app.queued_order(&product, 1, "c-rec").await;
    record(&app, &order(&id), "order-open-queued").await;

    // A restock.
    let r = app.post("/stocks", json!({"productName": product, "qty": 3})).await;
    let restock: serde_json::Value = r.json().await.unwrap();
    let restock_id = restock["workflowId"].as_str().unwrap().to_owned();
    record(&app, &restock_id, "restock").await;
}

/// The orders of the upgrade fixture: placed with these Idempotency-Keys, so their ids are known.
/// The first ones are left Queued, the last [`UPGRADE_BREWING`] Brewing.
const UPGRADE_KEYS: [&str; 6] = ["upgrade-1", "upgrade-2", "upgrade-3", "upgrade-4", "upgrade-5", "upgrade-6"];
const UPGRADE_BREWING: usize = 2;

/// Records `e2e/fixtures/<COFFEESHOP_UPGRADE_FIXTURE>/temporal.db`: the Temporal dev server's
/// database with orders left Queued and Brewing by today's workflow code, so that a later
/// version's test can start a server on it and take those orders over with its own cafe worker (a
/// real upgrade). The orders have no kitchen wait limit, so they wait for as long as the fixture
/// is kept.
#[tokio::test]
#[ignore = "writes into the source tree; run with `make record-upgrade-fixture`"]
async fn record_a_temporal_database_with_orders_left_running() {
    let name = std::env::var("COFFEESHOP_UPGRADE_FIXTURE").expect("name the fixture");
    let mut app = TestApp::spawn_with(|c| {
        c.temporal_on_disk();
        c.extra_env.push(("KITCHEN_MAX_WAIT".into(), "0".into()));
    })
    .await;
    app.restock("Upgrade-Blend", 100).await;
    for (i, key) in UPGRADE_KEYS.into_iter().enumerate() {
        let r = app
            .customer("c-upgrade")
            .await
            .post(format!("{}/orders", app.api))
            .header("Idempotency-Key", key)
            .json(&json!({"productName": "Upgrade-Blend", "qty": 1, "customerId": "c-upgrade"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let id = e2e::order_id_of(&r.json().await.unwrap());
        app.wait_for_workflow_status(&id, OrderStatus::Queued).await;
        if i >= UPGRADE_KEYS.len() - UPGRADE_BREWING {
            let started = app.post(&format!("/kitchen/tickets/{id}/start"), json!({})).await;
            assert_eq!(started.status(), 200);
            app.wait_for_workflow_status(&id, OrderStatus::Brewing).await;
            println!("{key}: order {id} left Brewing");
        } else {
            println!("{key}: order {id} left Queued");
        }
    }
    app.stack.stop_temporal();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["temporal.db", "temporal.db-wal"] {
        let from = app.stack.config.dir.join(file);
        if from.exists() {
            std::fs::copy(&from, dir.join(file)).unwrap();
        }
    }
    // Fold the write-ahead log into the database and compact it: one small file to commit.
    let db = dir.join("temporal.db");
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE; VACUUM;")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::Connection::close(conn).await.unwrap();
    let _ = std::fs::remove_file(dir.join("temporal.db-wal"));
    println!("recorded {}", db.display());
}
