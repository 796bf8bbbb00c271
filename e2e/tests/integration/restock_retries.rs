//! A retried restock adds its stock once: `POST /stocks` honours `Idempotency-Key` as
//! `POST /orders` does, and a restock that is durable but not finished answers 202, never a 503
//! that would invite a retry.

use e2e::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn restock_with_key(app: &TestApp, key: &str, product: &str, qty: i64) -> reqwest::Response {
    app.http
        .post(format!("{}/stocks", app.api))
        .header("Idempotency-Key", key)
        .json(&json!({"productName": product, "qty": qty}))
        .send()
        .await
        .expect("the API answers")
}

#[tokio::test]
async fn the_same_idempotency_key_and_body_restock_once_and_another_body_is_refused() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(1).await;

    let first = restock_with_key(&app, "restock-key-1", &product, 5).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.json::<Value>().await.unwrap()["qty"], 6);
    let again = restock_with_key(&app, "restock-key-1", &product, 5).await;
    assert_eq!(again.status(), StatusCode::OK, "a retry is answered, not refused");
    assert_eq!(again.json::<Value>().await.unwrap()["qty"], 6, "and adds nothing");
    assert_eq!(app.warehouse_stock(&product).await, Some(6));

    let other = restock_with_key(&app, "restock-key-1", &product, 7).await;
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = other.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("Idempotency-Key"),
        "{problem}"
    );
    assert_eq!(app.warehouse_stock(&product).await, Some(6));
}

#[tokio::test]
async fn a_restock_that_outlives_the_command_timeout_is_accepted_and_happens_once_on_retry() {
    let mut app = TestApp::spawn_with(|c| {
        c.extra_env
            .push(("COFFEESHOP_COMMAND_TIMEOUT_MS".into(), "1500".into()));
    })
    .await;
    let product = app.stocked_product(2).await;
    app.stack.kill("warehouse");

    let accepted = restock_with_key(&app, "slow-restock", &product, 5).await;
    assert_eq!(
        accepted.status(),
        StatusCode::ACCEPTED,
        "durable but unfinished: accepted, not 503"
    );
    let body: Value = accepted.json().await.unwrap();
    assert!(body["workflowId"].as_str().unwrap().starts_with("restock-"), "{body}");
    let retried = restock_with_key(&app, "slow-restock", &product, 5).await;
    assert_eq!(
        retried.status(),
        StatusCode::ACCEPTED,
        "a retry while it waits is the same restock"
    );

    app.stack
        .restart("warehouse")
        .await
        .expect("the warehouse worker starts again");
    app.wait_for_stock(&product, 7).await;
    let done = restock_with_key(&app, "slow-restock", &product, 5).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert_eq!(done.json::<Value>().await.unwrap()["qty"], 7);
    assert_eq!(app.warehouse_stock(&product).await, Some(7), "added once");
}
