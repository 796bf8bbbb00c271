//! A workflow task whose local activities handed the reservation and the ticket over, and which
//! was then lost (its cafe worker killed before the task completed): the services did the steps,
//! the order's history does not know. When a cancel arrives before the task is run again, the
//! order must still give back what the lost task took.

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
    app.stack.kill("cafe");
    signal(app, "customercenter", Signal::SIGCONT);
    assert_eq!(app.warehouse_stock(&product).await, Some(7), "the lost task took the stock");
    let history = app.history_events(&id).await;
    assert!(
        !history.iter().any(|e| e.to_string().contains("MARKER_RECORDED")),
        "the task that handed the steps over was lost (nothing of it is in the history)"
    );

    // The customer cancels while no worker runs the order; the task runs again after that.
    let wf = order_workflow_id(&id);
    let (ok, out) = app
        .temporal_cli(&["workflow", "signal", "--workflow-id", &wf, "--name", "cancel", "--input", "{}"])
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
