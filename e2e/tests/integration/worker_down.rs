//! Orders keep flowing with any one worker down or hung: placing an order needs only the Temporal
//! server, so a missing worker never opens the breaker for it, and a command that does need the
//! missing worker fails with a clear 503 that names it.

use domain::OrderStatus;
use std::time::{Duration, Instant};

use e2e::TestApp;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use reqwest::StatusCode;
use serde_json::{Value, json};

const TIMEOUT_MS: &str = "1500";

fn signal(app: &mut TestApp, name: &str, sig: Signal) {
    let pid = app.stack.process(name).pid().expect("the worker runs");
    kill(Pid::from_raw(pid as i32), sig).unwrap();
}

#[tokio::test]
async fn with_any_one_worker_hung_or_dead_orders_are_still_accepted_and_complete_when_it_returns() {
    let mut app = TestApp::spawn_with(|c| {
        c.extra_env
            .push(("COFFEESHOP_COMMAND_TIMEOUT_MS".into(), TIMEOUT_MS.into()));
    })
    .await;
    let product = app.stocked_product(50).await;
    let mut placed = Vec::new();

    for name in ["cafe", "warehouse", "kitchen", "customercenter"] {
        // Hung (SIGSTOP): the process is there but answers nothing.
        signal(&mut app, name, Signal::SIGSTOP);
        placed.push(app.place_order(&product, 1, "c-down").await);
        placed.push(app.place_order(&product, 1, "c-down").await);
        signal(&mut app, name, Signal::SIGCONT);
        // Dead (SIGKILL), then started again.
        app.stack.kill(name);
        placed.push(app.place_order(&product, 1, "c-down").await);
        placed.push(app.place_order(&product, 1, "c-down").await);
        app.stack.restart(name).await.expect("the worker starts again");
    }

    for id in &placed {
        app.wait_for_status(id, OrderStatus::Queued).await;
    }
    assert_eq!(app.warehouse_stock(&product).await, Some(50 - placed.len() as i64));
}

#[tokio::test]
async fn with_the_cafe_worker_dead_its_commands_fail_with_a_clear_503_and_orders_are_still_accepted() {
    let mut app = TestApp::spawn_with(|c| {
        c.extra_env
            .push(("COFFEESHOP_COMMAND_TIMEOUT_MS".into(), TIMEOUT_MS.into()));
    })
    .await;
    let product = app.stocked_product(10).await;
    let id = app.queued_order(&product, 1, "c-down").await;
    app.stack.kill("cafe");

    // Cancels need the cafe worker: each waits out the timeout and says why, more than twice in a
    // row (which used to open the breaker).
    for _ in 0..3 {
        let started = Instant::now();
        let r = app.post(&format!("/orders/{id}/cancel"), json!({})).await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(r.headers().contains_key("retry-after"));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "bounded by the command timeout"
        );
        let problem: Value = r.json().await.unwrap();
        assert!(problem["detail"].as_str().unwrap().contains("cafe worker"), "{problem}");
    }
    // Placing an order needs only the server: still accepted, the breaker did not open.
    let r = app.order(&product, 1, "c-down").await;
    assert_eq!(r.status(), StatusCode::ACCEPTED, "orders are still accepted");
    let later = e2e::order_id_of(&r.json().await.unwrap());
    // Read at once, it is there as placed: this API has just placed it, so it needs neither the
    // workflow (whose worker is dead) nor the view (which has not heard of it).
    let just_placed = app.order_view(&later).await;
    assert_eq!(just_placed.status, OrderStatus::Ordered);
    assert_eq!(just_placed.statuses(), [OrderStatus::Ordered]);

    app.stack.restart("cafe").await.expect("the cafe worker starts again");
    let queued = app.wait_for_status(&later, OrderStatus::Queued).await;
    assert_eq!(
        queued.placed_at, just_placed.placed_at,
        "the workflow placed it when the API did"
    );
    assert_eq!(queued.history[0], just_placed.history[0]);
    // Once it is back (after Temporal's sticky-queue timeout moves the order's tasks to it), the
    // retried cancel goes through: 200, or 409 if one of the timed-out ones already had.
    let answer = e2e::eventually("a retried cancel is answered once the cafe worker is back", || async {
        let r = app.post(&format!("/orders/{id}/cancel"), json!({})).await;
        (r.status() != StatusCode::SERVICE_UNAVAILABLE).then_some(r.status())
    })
    .await;
    assert!(matches!(answer, StatusCode::OK | StatusCode::CONFLICT), "{answer}");
    app.wait_for_status(&id, OrderStatus::Canceled).await;
    app.wait_for_stock(&product, 9).await;
}
