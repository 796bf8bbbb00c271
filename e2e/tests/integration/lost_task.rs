//! Workflow tasks whose local activities handed steps over and which were then lost (the cafe
//! worker or the Temporal server died before the task was recorded): the services did the steps,
//! the order's history does not know. The order must still end as if the steps were its own: a
//! cancel gives back what a lost first task took; a barista's start or completion lost with the
//! server leaves the ticket a step ahead of the order (Brewing for an order still Queued,
//! Completed for one still Brewing), and the kitchen sends the command again even when the
//! barista who sent it gave up, or died (an automatic barista's claim runs out).

use domain::{OrderStatus, order_workflow_id};
use e2e::{TestApp, eventually};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Stops (`SIGSTOP`) or resumes (`SIGCONT`) one of the stack's processes.
fn signal(app: &mut TestApp, name: &str, sig: Signal) {
    let pid = app.stack.process(name).pid().expect("the process runs");
    kill(Pid::from_raw(pid as i32), sig).expect("the signal is delivered");
}

#[tokio::test]
async fn a_cancel_after_a_lost_hand_over_task_gives_back_the_stock_and_the_ticket() {
    let app = &mut TestApp::spawn().await;
    let product = app.stocked_product(10).await;
    // A stopped customercenter holds the order's first task open on its last hand-over (the
    // projection) until the hand-over times out: time to kill the cafe worker after the warehouse
    // and the kitchen have done their steps and before the task is recorded.
    signal(app, "customercenter", Signal::SIGSTOP);
    let id = app.place_order(&product, 3, "c-lost").await;
    let kitchen = app.kitchen_db().await;
    eventually("the kitchen has the ticket", || async {
        kitchen.status(&id).await.unwrap().map(|_| ())
    })
    .await;
    signal(app, "cafe", Signal::SIGSTOP);
    app.stack.kill("cafe");
    signal(app, "customercenter", Signal::SIGCONT);
    assert_eq!(
        app.warehouse_stock(&product).await,
        Some(7),
        "the lost task took the stock"
    );
    let history = app.history_events(&id).await;
    assert!(
        !history.iter().any(|e| e.to_string().contains("MARKER_RECORDED")),
        "the task that handed the steps over was lost (nothing of it is in the history)"
    );

    // The customer cancels while no worker runs the order; the task runs again after that.
    let wf = order_workflow_id(&id);
    let (ok, out) = app
        .temporal_cli(&[
            "workflow",
            "signal",
            "--workflow-id",
            &wf,
            "--name",
            "cancel",
            "--input",
            "{}",
        ])
        .await;
    assert!(ok, "{out}");
    app.stack.restart("cafe").await.unwrap();

    app.wait_closed(&id).await;
    let order = app.query(&id).await.unwrap();
    assert_eq!(order.status, OrderStatus::Canceled);
    app.wait_for_stock(&product, 10).await;
    app.wait_for_ticket(&id, OrderStatus::Canceled).await;
    app.wait_for_status(&id, OrderStatus::Canceled).await;
}

#[tokio::test]
async fn a_start_lost_with_the_server_is_sent_again_by_the_kitchen() {
    let app = &mut TestApp::spawn_with(|c| c.temporal_on_disk()).await;
    let product = app.stocked_product(10).await;
    let id = app.queued_order(&product, 1, "c-lost-start").await;
    // As above, the stopped customercenter holds the task that accepts the start open on its
    // projection, after the kitchen has moved the ticket to Brewing.
    signal(app, "customercenter", Signal::SIGSTOP);
    let first_start = send_in_background(app, &id, "start");
    app.wait_for_ticket(&id, OrderStatus::Brewing).await;
    lose_the_task_with_the_server(app, first_start).await;
    let order = eventually("the order is readable", || async { app.query(&id).await.ok() }).await;
    assert_eq!(order.status, OrderStatus::Queued, "the start was lost with its task");

    // Nobody sends the start again: the kitchen, whose board says the barista started the order,
    // does. Then the barista completes it as usual.
    app.wait_for_workflow_status(&id, OrderStatus::Brewing).await;
    let answer = app
        .post(&format!("/kitchen/tickets/{id}/complete"), serde_json::json!({}))
        .await;
    assert_eq!(answer.status(), reqwest::StatusCode::OK);
    app.wait_for_status(&id, OrderStatus::Completed).await;
    app.wait_for_ticket(&id, OrderStatus::Completed).await;
    assert_eq!(app.warehouse_stock(&product).await, Some(9));
}

#[tokio::test]
async fn a_persons_completion_lost_with_the_server_is_sent_again_by_the_kitchen() {
    let app = &mut TestApp::spawn_with(|c| c.temporal_on_disk()).await;
    let product = app.stocked_product(10).await;
    let id = app.queued_order(&product, 1, "c-lost-person").await;
    let started = app
        .post(&format!("/kitchen/tickets/{id}/start"), serde_json::json!({}))
        .await;
    assert_eq!(started.status(), reqwest::StatusCode::OK);
    app.wait_for_status(&id, OrderStatus::Brewing).await;
    signal(app, "customercenter", Signal::SIGSTOP);
    let completion = send_in_background(app, &id, "complete");
    app.wait_for_ticket(&id, OrderStatus::Completed).await;
    lose_the_task_with_the_server(app, completion).await;
    let order = eventually("the order is readable", || async { app.query(&id).await.ok() }).await;
    assert_eq!(
        order.status,
        OrderStatus::Brewing,
        "the completion was lost with its task"
    );

    // The barista was told the completion failed and gives up; the board (and the view) already
    // say Completed, so nobody would send it again. The kitchen does.
    app.wait_closed(&id).await;
    assert_eq!(app.query(&id).await.unwrap().status, OrderStatus::Completed);
    app.wait_for_status(&id, OrderStatus::Completed).await;
    assert_eq!(app.warehouse_stock(&product).await, Some(9));
}

/// A barista's command (`start`, `complete`) sent through the API, left to run.
fn send_in_background(
    app: &TestApp,
    id: &domain::OrderId,
    step: &str,
) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    let (http, url) = (app.http.clone(), app.stack.api_url());
    let path = format!("{url}/kitchen/tickets/{id}/{step}");
    tokio::spawn(async move { http.post(path).json(&serde_json::json!({})).send().await })
}

/// The task held open (by the stopped customercenter) after the kitchen moved the ticket is lost:
/// the cafe worker dies with it (stopped first, so the projection's hand-over cannot time out
/// and let the task be recorded), the barista gives up on the command (so nobody sends it again),
/// and the server dies with the command it had not yet recorded. Then all is running again.
async fn lose_the_task_with_the_server(
    app: &mut TestApp,
    command: tokio::task::JoinHandle<reqwest::Result<reqwest::Response>>,
) {
    signal(app, "cafe", Signal::SIGSTOP);
    app.stack.kill("cafe");
    command.abort();
    app.stack.stop_temporal();
    app.stack.start_temporal().await.unwrap();
    signal(app, "customercenter", Signal::SIGCONT);
    app.stack.restart("cafe").await.unwrap();
}

#[tokio::test]
async fn a_completion_lost_with_the_server_and_its_automatic_barista_is_sent_again_by_the_kitchen() {
    let app = &mut TestApp::spawn_with(|c| {
        c.temporal_on_disk();
        c.baristas = 1;
        c.brew_ms = 5_000;
    })
    .await;
    let product = app.stocked_product(10).await;
    let id = app.place_order(&product, 1, "c-lost-completion").await;
    // While the automatic barista brews (the view has taken the start), the customercenter
    // stops: the task that accepts the completion is held open on its projection, after the
    // kitchen has moved the ticket to Completed.
    app.wait_for_status(&id, OrderStatus::Brewing).await;
    signal(app, "customercenter", Signal::SIGSTOP);
    app.wait_for_ticket(&id, OrderStatus::Completed).await;
    // The cafe worker dies with that task (stopped first, so the projection's hand-over cannot
    // time out and let the task be recorded), the kitchen worker with the barista waiting for its
    // answer, and the server with the completion it had not yet recorded.
    signal(app, "cafe", Signal::SIGSTOP);
    app.stack.kill("cafe");
    app.stack.kill("kitchen");
    app.stack.stop_temporal();
    app.stack.start_temporal().await.unwrap();
    signal(app, "customercenter", Signal::SIGCONT);
    app.stack.restart("cafe").await.unwrap();
    let order = eventually("the order is readable", || async { app.query(&id).await.ok() }).await;
    assert_eq!(
        order.status,
        OrderStatus::Brewing,
        "the completion was lost with its task"
    );

    // Once the dead barista's claim has run out, the kitchen's check of unheard moves sends the
    // completion again.
    app.stack.restart("kitchen").await.unwrap();
    app.wait_closed(&id).await;
    assert_eq!(app.query(&id).await.unwrap().status, OrderStatus::Completed);
    app.wait_for_status(&id, OrderStatus::Completed).await;
    app.wait_for_ticket(&id, OrderStatus::Completed).await;
    assert_eq!(app.warehouse_stock(&product).await, Some(9));
}
