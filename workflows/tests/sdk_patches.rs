//! The fixes we carry in the vendored Temporal SDK (vendor/PATCHES.md), proven on a real dev
//! server: a worker forgets what it no longer needs. Each test fails on the crates as published.

mod common;

use common::{Server, server};

use std::time::Duration;

use temporalio_client::{WorkflowGetResultOptions, WorkflowStartOptions};
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::{ActivityOptions, Runtime, Worker, WorkerOptions, WorkflowContext, WorkflowResult};
use temporalio_workflow::workflows::select;

const QUEUE: &str = "sdk-patches";

/// The count of live runs is the process's: the tests here run one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Noop;

#[activities]
impl Noop {
    #[activity]
    async fn noop(_ctx: ActivityContext) -> Result<(), ActivityError> {
        Ok(())
    }
}

/// `steps` no-op activities one after another; with `race`, each against a one-hour timer that
/// loses and is dropped unresolved (as a `select!` loser is).
#[workflow]
#[derive(Default)]
struct Steps;

#[workflow_methods]
impl Steps {
    #[run]
    async fn run(ctx: &mut WorkflowContext<Self>, (steps, race): (u32, bool)) -> WorkflowResult<()> {
        let step = || ActivityOptions::with_start_to_close_timeout(Duration::from_secs(10)).build();
        for _ in 0..steps {
            if race {
                let mut late = ctx.timer(Duration::from_secs(3600));
                select! {
                    done = ctx.execute_activity(Noop::noop, (), step()) => done?,
                    _ = late => {}
                };
            } else {
                ctx.execute_activity(Noop::noop, (), step()).await?;
            }
        }
        Ok(())
    }
}

/// Runs `workflows` workflows of `steps` activities each, one after another, on a worker in this
/// process that caches at most `cache` runs; returns the worker, stopped.
async fn run_on_a_worker(server: &Server, cache: usize, workflows: usize, steps: u32, race: bool) -> Worker {
    let runtime = Runtime::from_current_tokio(Default::default()).unwrap();
    let options = WorkerOptions::new(QUEUE)
        .max_cached_workflows(cache)
        .register_workflow::<Steps>()
        .unwrap()
        .register_activities(Noop)
        .build();
    let mut worker = Worker::new(&runtime, server.client.clone(), options).unwrap();
    let stop = worker.shutdown_handle();
    let client = server.client.clone();
    let load = async move {
        for i in 0..workflows {
            let id = format!("steps-{race}-{i}");
            let options = WorkflowStartOptions::new(QUEUE, id.clone()).build();
            client.start_workflow(Steps::run, (steps, race), options).await.expect("the workflow starts");
            let handle = client.get_workflow_handle::<Steps>(id);
            tokio::time::timeout(Duration::from_secs(30), handle.get_result(WorkflowGetResultOptions::default()))
                .await
                .expect("the workflow ends in time")
                .expect("the workflow completes");
        }
        stop();
    };
    let (ran, ()) = tokio::join!(worker.run(), load);
    ran.expect("the worker runs and stops cleanly");
    worker
}

/// Leak 1: the activity half kept every activity task's cancellation token, one entry per task
/// ever run. Patched, an activity's entry goes when it ends.
#[tokio::test]
async fn a_worker_forgets_each_activity_task_once_it_has_ended() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let server = server().await;
    let worker = run_on_a_worker(&server, 10, 3, 20, false).await;
    assert_eq!(worker.activity_tasks_held(), 0, "60 activity tasks ran and ended; none may still be held");
}

/// Leak 2: a cancellable operation (timer, activity) dropped before it resolved left its callback
/// on the run's cancellation token, which the run's context owns and the callback holds: a cycle,
/// so the context of every such run outlived the cache. Patched, dropping the operation removes
/// the callback, and the runs a worker holds are at most its cache.
#[tokio::test]
async fn runs_whose_timers_lost_a_race_do_not_outlive_the_cache() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let server = server().await;
    let before = temporalio_workflow::live_workflow_contexts();
    let cache = 2;
    let _worker = run_on_a_worker(&server, cache, 12, 2, true).await;
    let held = temporalio_workflow::live_workflow_contexts().saturating_sub(before);
    assert!(held <= cache, "12 runs ended on a worker caching {cache}; {held} runs are still held");
}
