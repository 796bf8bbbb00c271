//! The ceiling: what the same Temporal server and worker settings allow for a workflow with the
//! same number of activities as an order, all no-ops. Our own code's cost is the distance to it.

use std::time::{Duration, Instant};

use temporalio_client::{Client, WorkflowGetResultOptions, WorkflowStartOptions};
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::{ActivityOptions, Runtime, Worker, WorkerOptions, WorkflowContext, WorkflowResult};

pub const QUEUE: &str = "bench-ceiling";

pub struct Noop;

#[activities]
impl Noop {
    #[activity]
    pub async fn noop(_ctx: ActivityContext) -> Result<(), ActivityError> {
        Ok(())
    }
}

#[workflow]
#[derive(Default)]
pub struct BareWorkflow;

#[workflow_methods]
impl BareWorkflow {
    /// Runs `activities` no-op activities one after another.
    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>, activities: u32) -> WorkflowResult<()> {
        for _ in 0..activities {
            let options = ActivityOptions::with_start_to_close_timeout(Duration::from_secs(10)).build();
            ctx.execute_activity(Noop::noop, (), options).await?;
        }
        Ok(())
    }
}

/// Starts a worker for the bare workflow in this process, runs `count` of them at `concurrency`,
/// and returns workflows per second.
pub async fn measure(client: Client, activities: u32, count: usize, concurrency: usize) -> anyhow::Result<f64> {
    let runtime = Runtime::from_current_tokio(Default::default())?;
    let options = WorkerOptions::new(QUEUE)
        .register_workflow::<BareWorkflow>()?
        .register_activities(Noop)
        .build();
    let mut worker = Worker::new(&runtime, client.clone(), options)?;
    let stop = worker.shutdown_handle();
    // The worker's future is not Send: it runs beside the load in this task, not spawned.
    let load = async move {
        let result = start_all(client, activities, count, concurrency).await;
        stop();
        result
    };
    let (worker_result, rate) = tokio::join!(worker.run(), load);
    worker_result?;
    rate
}

async fn start_all(client: Client, activities: u32, count: usize, concurrency: usize) -> anyhow::Result<f64> {
    let run_id = uuid::Uuid::now_v7().simple().to_string();
    let started = Instant::now();
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut runs = tokio::task::JoinSet::new();
    for i in 0..count {
        let permit = permits.clone().acquire_owned().await?;
        let client = client.clone();
        let id = format!("bare-{run_id}-{i}");
        runs.spawn(async move {
            let handle = client
                .start_workflow(
                    BareWorkflow::run,
                    activities,
                    WorkflowStartOptions::new(QUEUE, id).build(),
                )
                .await?;
            handle.get_result(WorkflowGetResultOptions::default()).await?;
            drop(permit);
            anyhow::Ok(())
        });
    }
    while let Some(done) = runs.join_next().await {
        done??;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}
