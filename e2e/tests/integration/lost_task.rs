//! Commands lost with the Temporal server. A workflow task is recorded when it completes; until
//! then its decisions can be lost with its worker or the server, and the order's steps are
//! activities that such a task schedules, so nothing else moves before the decision is recorded.
//! A barista's start or a customer's cancel that the server lost (its sender was told it failed)
//! changed nothing anywhere — the order, the kitchen's board, the stock, the view — and, sent
//! again, is taken as if it were the first.

use domain::{OrderId, OrderStatus};
use e2e::TestApp;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::json;

/// Stops (`SIGSTOP`) or resumes (`SIGCONT`) one of the stack's processes.
fn signal(app: &mut TestApp, name: &str, sig: Signal) {
    let pid = app.stack.process(name).pid().expect("the process runs");
    kill(Pid::from_raw(pid as i32), sig).expect("the signal is delivered");
}

/// A command sent through the API, left to run.
fn send_in_background(app: &TestApp, path: String) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    let (http, url) = (app.http.clone(), app.stack.api_url());
    tokio::spawn(async move { http.post(format!("{url}{path}")).json(&json!({})).send().await })
}

#[tokio::test]
async fn a_start_and_a_cancel_lost_with_the_server_change_nothing_and_are_taken_when_sent_again() {
    let app = &mut TestApp::spawn_with(|c| c.temporal_on_disk()).await;
    let product = app.stocked_product(10).await;
    let started: OrderId = app.queued_order(&product, 1, "c-lost").await;
    let canceled: OrderId = app.queued_order(&product, 2, "c-lost").await;
    assert_eq!(app.warehouse_stock(&product).await, Some(7));

    // The cafe worker stops before it can answer; the server holds both commands for the order
    // tasks it has handed to that worker, then dies with them; the senders give up.
    signal(app, "cafe", Signal::SIGSTOP);
    let commands = [
        send_in_background(app, format!("/kitchen/tickets/{started}/start")),
        send_in_background(app, format!("/orders/{canceled}/cancel")),
    ];
    app.stack.kill("cafe");
    app.stack.stop_temporal();
    for command in commands {
        let answer = command.await.expect("the request ran");
        assert!(
            answer.map_or(true, |r| !r.status().is_success()),
            "the command was not taken"
        );
    }
    app.stack.start_temporal().await.unwrap();
    app.stack.restart("cafe").await.unwrap();

    // Nothing moved: the order, the kitchen's board, the stock and the view are where they were.
    for id in [&started, &canceled] {
        app.wait_for_workflow_status(id, OrderStatus::Queued).await;
        app.wait_for_ticket(id, OrderStatus::Queued).await;
        let view = app.get(&format!("/orders/{id}")).await;
        let view: serde_json::Value = view.json().await.unwrap();
        assert_eq!(view["status"], "Queued", "the view shows no lost command: {view}");
    }
    assert_eq!(app.warehouse_stock(&product).await, Some(7));

    // Sent again (while the shop answers 503 after the outage, as a client does), each is taken as
    // the first one would have been.
    taken(app, &format!("/kitchen/tickets/{started}/start")).await;
    app.wait_for_ticket(&started, OrderStatus::Brewing).await;
    taken(app, &format!("/kitchen/tickets/{started}/complete")).await;
    app.wait_for_status(&started, OrderStatus::Completed).await;

    taken(app, &format!("/orders/{canceled}/cancel")).await;
    app.wait_for_status(&canceled, OrderStatus::Canceled).await;
    app.wait_for_ticket(&canceled, OrderStatus::Canceled).await;
    app.wait_for_stock(&product, 9).await;
}

/// Sends a command until the shop takes it (`200`), as a client does after a `503`.
async fn taken(app: &TestApp, path: &str) {
    e2e::eventually(&format!("{path} is taken"), || async {
        let answer = app.post(path, json!({})).await;
        match answer.status().as_u16() {
            200 => Some(()),
            503 => None,
            other => panic!("{path}: {other}"),
        }
    })
    .await;
}
