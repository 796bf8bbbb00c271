//! Bad input gets a 4xx problem document that says what to fix, and creates nothing.

use domain::OrderStatus;
use e2e::{TestApp, eventually};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn assert_problem(r: reqwest::Response, status: StatusCode, mentions: &str) {
    assert_eq!(r.status(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.unwrap();
    assert!(p["type"].as_str().unwrap().starts_with("https://"), "{p}");
    assert!(p["title"].is_string(), "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains(mentions),
        "detail should mention {mentions:?}: {p}"
    );
}

#[tokio::test]
async fn bad_orders_are_refused_with_a_problem_that_says_what_to_fix_and_nothing_is_created() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(10).await;
    let customer = "c-bad";
    let http = app.customer(customer).await;
    let post = |body: String, content_type: &'static str| {
        http.post(format!("{}/orders", app.api))
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"productName": product, "qty": 0, "customerId": customer}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "qty",
        ),
        (
            json!({"productName": product, "qty": 101, "customerId": customer}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "qty",
        ),
        (
            json!({"productName": product, "qty": 1.5, "customerId": customer}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "qty",
        ),
        (
            json!({"productName": product, "qty": "2", "customerId": customer}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "qty",
        ),
        (
            json!({"productName": product, "customerId": customer}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "qty",
        ),
        (
            json!({"productName": "", "qty": 1, "customerId": customer}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "productName",
        ),
        (
            json!({"productName": "x".repeat(65), "qty": 1, "customerId": customer}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "64",
        ),
        (
            json!({"productName": "Lat\u{7}te", "qty": 1, "customerId": customer}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "control",
        ),
        (
            json!({"productName": product, "qty": 1, "customerId": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "customerId",
        ),
    ];
    for (body, status, mentions) in cases {
        assert_problem(
            post(body.to_string(), "application/json").await.unwrap(),
            status,
            mentions,
        )
        .await;
    }
    assert_problem(
        post("{\"productName\":".into(), "application/json").await.unwrap(),
        StatusCode::BAD_REQUEST,
        "",
    )
    .await;
    assert_problem(
        post(
            json!({"productName": product, "qty": 1, "customerId": customer}).to_string(),
            "text/plain",
        )
        .await
        .unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Content-Type",
    )
    .await;
    let huge = json!({"productName": product, "qty": 1, "customerId": customer, "pad": "x".repeat(70_000)}).to_string();
    assert_problem(
        post(huge, "application/json").await.unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "bytes",
    )
    .await;

    assert_problem(
        app.get("/orders/does-not-exist").await,
        StatusCode::NOT_FOUND,
        "does-not-exist",
    )
    .await;
    assert_problem(app.get("/no/such/route").await, StatusCode::NOT_FOUND, "route").await;
    assert_problem(app.get("/orders").await, StatusCode::BAD_REQUEST, "customerId").await;

    let mine: Value = app
        .get(&format!("/orders?customerId={customer}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"], json!([]), "no order was created");
    let (_, listed) = app
        .temporal_cli(&["workflow", "count", "--query", "WorkflowType='OrderWorkflow'"])
        .await;
    assert!(listed.contains("Total: 0"), "no workflow was started: {listed}");
    assert_eq!(app.warehouse_stock(&product).await, Some(10));
}

#[tokio::test]
async fn a_customer_sees_their_own_orders_newest_first_page_by_page() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(20).await;
    let mut placed = Vec::new();
    for _ in 0..5 {
        let id = app.queued_order(&product, 1, "c pages+&1").await;
        placed.push(id);
    }
    // Ids that a badly encoded link would confuse with this customer's.
    app.place_order(&product, 1, "c pages").await;
    app.place_order(&product, 1, "c pages 1").await;

    let mut seen = Vec::new();
    let mut path = "/orders?customerId=c%20pages%2B%261&limit=2".to_owned();
    loop {
        let page: Value = app.get(&path).await.json().await.unwrap();
        // New orders arriving mid-way land before the cursor: no duplicates, no gaps.
        app.queued_order(&product, 1, "c pages+&1").await;
        seen.extend(page["items"].as_array().unwrap().iter().map(e2e::order_id_of));
        match page["next"].as_str() {
            Some(next) => path = next.to_owned(),
            None => break,
        }
    }
    placed.reverse();
    assert_eq!(seen, placed, "newest first, each once, only this customer's");
}

#[tokio::test]
async fn an_idempotency_key_makes_a_retried_order_one_order() {
    let mut app = TestApp::spawn().await;
    let product = app.stocked_product(10).await;
    let body = json!({"productName": product, "qty": 2, "customerId": "c-idem"});
    let (http, orders) = (app.customer("c-idem").await, format!("{}/orders", app.api));
    let send = |body: Value| {
        http.post(&orders)
            .header("Idempotency-Key", "key-123")
            .json(&body)
            .send()
    };

    let (a, b) = tokio::join!(send(body.clone()), send(body.clone()));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.status(), b.status()), (StatusCode::ACCEPTED, StatusCode::ACCEPTED));
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_eq!(a["orderId"], b["orderId"], "one key, one order");
    app.wait_for_status(&e2e::order_id_of(&a), OrderStatus::Queued).await;
    assert_eq!(app.warehouse_stock(&product).await, Some(8), "one stock deduction");

    // The key decides the workflow id, so a retry after an API restart still finds the order.
    app.stack.respawn_api().await.unwrap();
    eventually("the restarted API is ready", || async {
        let r = app.http.get(format!("{}/readyz", app.api)).send().await.ok()?;
        r.status().is_success().then_some(())
    })
    .await;
    let again = send(body.clone()).await.unwrap();
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["orderId"], a["orderId"], "the same order after the restart");
    assert_eq!(again["status"], "Queued", "a retry reports the order as it is now");
    let different = send(json!({"productName": product, "qty": 3, "customerId": "c-idem"}))
        .await
        .unwrap();
    assert_problem(different, StatusCode::UNPROCESSABLE_ENTITY, "Idempotency-Key").await;
}
