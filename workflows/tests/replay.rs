//! Replays every recorded history in `workflows/histories/` (`make record-histories` records fresh
//! ones, in the JSON form of the SDK's `WorkflowHistory`) against today's workflow code with the
//! SDK's replayer. Any change to a workflow's sequence of commands that is not behind `patched()`
//! fails here with a non-determinism error, before it can strand an order that is still running.

use std::path::{Path, PathBuf};

use temporalio_client::WorkflowHistory;
use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};
use workflows::{OrderWorkflow, RestockWorkflow};

fn recorded_histories() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("histories");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn every_recorded_history_replays_against_todays_workflow_code() {
    let files = recorded_histories();
    assert!(files.len() >= 10, "the recorded histories are there: {files:?}");
    let options = WorkflowReplayerOptions::new()
        .register_workflow::<OrderWorkflow>()
        .unwrap()
        .register_workflow::<RestockWorkflow>()
        .unwrap()
        .build();
    let replayer = WorkflowReplayer::new(options).unwrap();

    let mut failures = Vec::new();
    for file in &files {
        let json = std::fs::read(file).unwrap();
        let history = WorkflowHistory::from_json(&json).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        match replayer.replay_workflow(history).await {
            Ok(()) => println!("replayed {}", file.display()),
            Err(e) => failures.push(format!("{}: {e}", file.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "histories that no longer replay:\n{}",
        failures.join("\n")
    );
}
