//! Operations on processes: zero-downtime rolling restarts and self-healing readiness.

use domain::OrderStatus;
use e2e::{TestApp, eventually};
use stack::WORKERS;

#[tokio::test]
async fn a_rolling_restart_of_every_worker_under_a_stream_of_orders_loses_nothing() {
    let app = &mut TestApp::spawn_with(|c| {
        c.baristas = 1;
        c.brew_ms = 20;
    })
    .await;
    let product = app.stocked_product(100).await;
    // Two instances of each worker, as a Deployment with two replicas would run.
    let mut second = Vec::new();
    for name in WORKERS {
        second.push(app.stack.add_instance(name).await.unwrap());
    }

    let orders = 30;
    let (ids, restarted) = {
        let api = app.api.clone();
        let http = app.customer("c-roll").await;
        let product = product.clone();
        let stream = async move {
            let mut ids = Vec::new();
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
            for _ in 0..orders {
                tick.tick().await;
                let r = http
                    .post(format!("{api}/orders"))
                    .json(&serde_json::json!({"productName": product, "qty": 1, "customerId": "c-roll"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    r.status(),
                    reqwest::StatusCode::ACCEPTED,
                    "orders are accepted throughout"
                );
                ids.push(e2e::order_id_of(&r.json().await.unwrap()));
            }
            ids
        };
        let stack = &mut app.stack;
        let roll = async move {
            for name in WORKERS {
                stack.restart_gracefully(name).await.unwrap();
            }
        };
        tokio::join!(stream, roll)
    };
    let () = restarted;
    for id in &ids {
        app.wait_for_status(id, OrderStatus::Completed).await;
    }
    assert_eq!(
        app.warehouse_stock(&product).await,
        Some(100 - orders),
        "every order took its cup exactly once"
    );
    assert!(
        app.stack.crashed().is_empty(),
        "no process died: {:?}",
        app.stack.crashed()
    );
    drop(second);
}

#[tokio::test]
async fn a_worker_that_loses_temporal_reports_not_ready_and_recovers_by_itself() {
    let app = &mut TestApp::spawn_with(|c| {
        c.temporal_on_disk();
    })
    .await;
    for name in WORKERS {
        assert_eq!(app.stack.readiness(name).await, Some(200), "{name} starts ready");
    }
    app.stack.stop_temporal();
    for name in WORKERS {
        eventually(&format!("{name} reports not ready"), || async {
            (app.stack.readiness(name).await == Some(503)).then_some(())
        })
        .await;
        assert!(app.stack.crashed().is_empty(), "{name} stays up meanwhile (liveness)");
    }
    app.stack.start_temporal().await.unwrap();
    for name in WORKERS {
        eventually(&format!("{name} is ready again"), || async {
            (app.stack.readiness(name).await == Some(200)).then_some(())
        })
        .await;
    }
    let product = "Healing Tea";
    eventually("the API takes commands again once its breaker closes", || async {
        app.post("/stocks", serde_json::json!({"productName": product, "qty": 3}))
            .await
            .status()
            .is_success()
            .then_some(())
    })
    .await;
    app.queued_order(product, 1, "c-heal").await;
}
