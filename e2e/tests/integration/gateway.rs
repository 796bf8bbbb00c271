//! The gateway's operations: the circuit breaker in front of Temporal, load shedding, the OpenAPI
//! document, metrics and request ids.

use domain::OrderStatus;
use std::time::{Duration, Instant};

use e2e::{TestApp, eventually};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn with_temporal_down_commands_fail_fast_reads_keep_working_and_it_recovers_by_itself() {
    let app = &mut TestApp::spawn_with(|c| {
        c.temporal_on_disk();
        c.baristas = 1;
        c.brew_ms = 10;
    })
    .await;
    let product = app.stocked_product(10).await;
    let before = app.place_order(&product, 1, "c-outage").await;
    app.wait_for_status(&before, OrderStatus::Completed).await;

    app.stack.stop_temporal();
    // The breaker notices within about a second, even before any command fails.
    eventually("the circuit opens", || async {
        let metrics = app.get("/metrics").await.text().await.ok()?;
        metrics.contains("coffeeshop_temporal_circuit_open 1").then_some(())
    })
    .await;

    let started = Instant::now();
    let refused = app.order(&product, 1, "c-outage").await;
    let took = started.elapsed();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"), "503 says when to retry");
    assert_eq!(refused.headers()["content-type"], "application/problem+json");
    assert!(
        took < Duration::from_secs(1),
        "fails fast, not after a timeout: took {took:?}"
    );
    println!("503 while Temporal is down answered in {took:?}");
    assert_eq!(
        app.get(&format!("/orders/{before}")).await.status(),
        StatusCode::OK,
        "reads come from the view"
    );
    assert_eq!(app.get("/stocks").await.status(), StatusCode::OK);
    assert_eq!(app.get("/orders?customerId=c-outage").await.status(), StatusCode::OK);

    app.stack.start_temporal().await.unwrap();
    let accepted = eventually("commands succeed again without restarting the API", || async {
        let r = app.order(&product, 1, "c-outage").await;
        (r.status() == StatusCode::ACCEPTED).then_some(r)
    })
    .await;
    let after: Value = accepted.json().await.unwrap();
    app.wait_for_status(&e2e::order_id_of(&after), OrderStatus::Completed)
        .await;
    assert!(
        app.get("/metrics")
            .await
            .text()
            .await
            .unwrap()
            .contains("coffeeshop_temporal_circuit_open 0")
    );
}

#[tokio::test]
async fn an_api_started_while_temporal_is_down_is_alive_refuses_commands_and_connects_later() {
    let app = &mut TestApp::spawn_with(|c| {
        c.temporal_on_disk();
    })
    .await;
    let product = app.stocked_product(5).await;
    app.stack.stop_temporal();
    app.stack.respawn_api().await.unwrap();

    eventually("the new API is alive", || async {
        let r = app.http.get(format!("{}/healthz", app.api)).send().await.ok()?;
        r.status().is_success().then_some(())
    })
    .await;
    assert_eq!(
        app.get("/readyz").await.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "not ready without Temporal"
    );
    let refused = app.order(&product, 1, "c-early").await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(
        app.get("/stocks").await.status(),
        StatusCode::OK,
        "reads work from the view"
    );

    app.stack.start_temporal().await.unwrap();
    eventually("the API connects and takes orders", || async {
        (app.order(&product, 1, "c-early").await.status() == StatusCode::ACCEPTED).then_some(())
    })
    .await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn commands_beyond_the_in_flight_limit_are_shed_at_once() {
    let app = TestApp::spawn_with(|c| {
        c.extra_env
            .push(("COFFEESHOP_MAX_INFLIGHT_COMMANDS".into(), "2".into()))
    })
    .await;
    let restocks = (0..16).map(|i| app.post("/stocks", json!({"productName": format!("Shed {i}"), "qty": 1})));
    let responses = futures::future::join_all(restocks).await;
    let shed: Vec<_> = responses
        .iter()
        .filter(|r| r.status() == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    let done = responses.iter().filter(|r| r.status().is_success()).count();
    assert!(
        !shed.is_empty(),
        "with 2 allowed in flight, some of 16 at once are shed"
    );
    assert!(shed.iter().all(|r| r.headers().contains_key("retry-after")));
    assert_eq!(
        done + shed.len(),
        16,
        "every command either ran or was shed; none failed otherwise"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(&format!("coffeeshop_commands_shed_total {}", shed.len())),
        "{metrics}"
    );
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_is_valid() {
    let app = TestApp::spawn().await;
    let r = app.get("/openapi.json").await;
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/orders", "post"),
        ("/orders", "get"),
        ("/orders/{order_id}", "get"),
        ("/orders/{order_id}", "patch"),
        ("/orders/{order_id}/cancel", "post"),
        ("/stocks", "get"),
        ("/stocks", "post"),
        ("/kitchen/tickets", "get"),
        ("/kitchen/tickets/{order_id}/start", "post"),
        ("/kitchen/tickets/{order_id}/complete", "post"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/events", "get"),
        ("/stocks/restocks", "get"),
        ("/shops", "get"),
        ("/shops", "post"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is documented"
        );
    }
    let file = app.stack.config.dir.join("openapi.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let validator = app.stack.config.tools.temporal.with_file_name("openapi-spec-validator");
    let out = std::process::Command::new(validator)
        .arg(&file)
        .output()
        .expect("the validator runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(5).await;
    let r = app.order(&product, 1, "c-metrics").await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert!(r.headers().contains_key("x-request-id"));
    let mine = app
        .http
        .get(format!("{}/healthz", app.api))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(
        mine.headers()["x-request-id"],
        "trace-me-42",
        "a caller's request id is kept"
    );

    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("coffeeshop_orders_placed_total 1"), "{metrics}");
    assert!(
        metrics.contains(r#"coffeeshop_http_requests_total{method="POST",route="/orders",status="202"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("coffeeshop_http_request_duration_seconds_bucket"),
        "{metrics}"
    );
    assert!(!metrics.contains("01a2"), "order ids never become labels");
}
