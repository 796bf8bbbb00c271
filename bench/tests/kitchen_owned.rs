//! The kitchen-owned prototype (decision 0008) runs to the end on a real dev server, and one of
//! its workflows costs what the decision says that shape would: within the targets the lean saga
//! could not meet (≤ 10 billable actions, ≤ 36 events, ≤ 5 workflow tasks).

use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions, Url};

#[tokio::test]
async fn the_kitchen_owned_shape_completes_within_the_targets() {
    let dev = stack::ScratchTemporal::start("prototype").await.expect("the dev server starts (make setup installed it)");
    let connection = Connection::connect(ConnectionOptions::new(Url::parse(&dev.url()).unwrap()).build()).await.unwrap();
    let client = Client::new(connection, ClientOptions::new("default").build()).unwrap();

    let (rate, last) = bench::kitchen_owned::measure(client, 5, 5).await.expect("every workflow completes");
    assert!(rate > 0.0);

    let tools = stack::Tools::locate(&stack::tools::stack_dir()).unwrap();
    let out = tokio::process::Command::new(&tools.temporal)
        .args(["workflow", "show", "--workflow-id", &last, "--address", &dev.dev.address(), "-o", "json"])
        .output()
        .await
        .unwrap();
    let history: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cost = e2e::history::Cost::of(history["events"].as_array().unwrap());
    let bill = format!("{} actions ({}), {} events, {} tasks", cost.billable(), cost.by_type(), cost.events, cost.workflow_tasks);
    println!("one workflow of the prototype: {bill}");
    assert!(cost.billable() <= 10 && cost.events <= 36 && cost.workflow_tasks <= 5, "{bill}");
}
