//! The ceiling: what the same Temporal server and worker settings allow for a workflow with the
//! same number of activities as an order, all no-ops. Our own code's cost is the distance to it.
//! And what each of Temporal's features costs on its own ([`Feature`]): the bare workflow with one
//! more update, signal, upsert, local activity, timer or activity, so that a change to the order's
//! shape is decided from measured figures.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use temporalio_client::{
    Client, WorkflowExecuteUpdateOptions, WorkflowGetResultOptions, WorkflowHandle, WorkflowSignalOptions,
    WorkflowStartOptions,
};
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::{
    ActivityOptions, LocalActivityOptions, Runtime, SyncWorkflowContext, Worker, WorkerOptions, WorkflowContext,
    WorkflowResult,
};

pub const QUEUE: &str = "bench-ceiling";

pub struct Noop;

#[activities]
impl Noop {
    #[activity]
    pub async fn noop(_ctx: ActivityContext) -> Result<(), ActivityError> {
        Ok(())
    }
}

/// One of Temporal's features, added to the bare workflow ([`Shape::times`] times over).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Feature {
    Nothing,
    /// The client sends an update once the workflow has started; the workflow waits for it.
    Update,
    /// The same with a signal.
    Signal,
    /// A search-attribute upsert (`OrderStatus`).
    Upsert,
    /// A no-op local activity.
    LocalActivity,
    /// A 1 ms timer.
    Timer,
    /// A no-op activity.
    Activity,
}

impl Feature {
    /// Every feature the bench prices.
    pub const PRICED: [Feature; 6] = [
        Feature::Update,
        Feature::Signal,
        Feature::Upsert,
        Feature::LocalActivity,
        Feature::Timer,
        Feature::Activity,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Feature::Nothing => "nothing",
            Feature::Update => "update",
            Feature::Signal => "signal",
            Feature::Upsert => "search-attribute upsert",
            Feature::LocalActivity => "local activity",
            Feature::Timer => "timer",
            Feature::Activity => "activity",
        }
    }
}

/// The bare workflow's activities, then one feature `times` times over (one after another), so
/// that its cost stands out of the run-to-run noise.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Shape {
    pub activities: u32,
    pub feature: Feature,
    pub times: u32,
}

#[workflow]
#[derive(Default)]
pub struct FeatureWorkflow {
    pokes: u32,
}

#[workflow_methods]
impl FeatureWorkflow {
    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>, shape: Shape) -> WorkflowResult<()> {
        let step = || ActivityOptions::with_start_to_close_timeout(Duration::from_secs(10)).build();
        for _ in 0..shape.activities {
            ctx.execute_activity(Noop::noop, (), step()).await?;
        }
        for i in 0..shape.times {
            match shape.feature {
                Feature::Nothing => {}
                Feature::Update | Feature::Signal => {
                    let _ = ctx.wait_condition(|s| s.pokes > i).await;
                }
                Feature::Upsert => {
                    let status = format!("Bench{i}");
                    ctx.upsert_search_attributes([domain::search_attributes::ORDER_STATUS.value_set(status)]);
                }
                Feature::LocalActivity => {
                    let local = LocalActivityOptions::builder()
                        .start_to_close_timeout(Duration::from_secs(10))
                        .build();
                    ctx.execute_local_activity(Noop::noop, (), local).await?;
                }
                Feature::Timer => {
                    ctx.timer(Duration::from_millis(1)).await;
                }
                Feature::Activity => {
                    ctx.execute_activity(Noop::noop, (), step()).await?;
                }
            }
        }
        Ok(())
    }

    #[update(name = "poke")]
    pub fn poke(&mut self, _ctx: &mut SyncWorkflowContext<Self>) {
        self.pokes += 1;
    }

    #[signal(name = "nudge")]
    pub fn nudge(&mut self, _ctx: &mut SyncWorkflowContext<Self>) {
        self.pokes += 1;
    }
}

/// Starts a worker for the bare workflow in this process, runs `count` of them at `concurrency`,
/// and returns workflows per second.
pub async fn measure(client: Client, activities: u32, count: usize, concurrency: usize) -> anyhow::Result<f64> {
    measure_shape(
        client,
        Shape {
            activities,
            feature: Feature::Nothing,
            times: 0,
        },
        count,
        concurrency,
    )
    .await
}

/// As [`measure`], for the bare workflow with one feature added.
pub async fn measure_shape(client: Client, shape: Shape, count: usize, concurrency: usize) -> anyhow::Result<f64> {
    let runtime = Runtime::from_current_tokio(Default::default())?;
    let options = WorkerOptions::new(QUEUE)
        .register_workflow::<FeatureWorkflow>()?
        .register_activities(Noop)
        .build();
    let mut worker = Worker::new(&runtime, client.clone(), options)?;
    let stop = worker.shutdown_handle();
    // The worker's future is not Send: it runs beside the load in this task, not spawned.
    let load = async move {
        let result = start_all(client, shape, count, concurrency).await;
        stop();
        result
    };
    let (worker_result, rate) = tokio::join!(worker.run(), load);
    worker_result?;
    rate
}

async fn start_all(client: Client, shape: Shape, count: usize, concurrency: usize) -> anyhow::Result<f64> {
    let run_id = uuid::Uuid::now_v7().simple().to_string();
    let started = Instant::now();
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut runs = tokio::task::JoinSet::new();
    for i in 0..count {
        let permit = permits.clone().acquire_owned().await?;
        let client = client.clone();
        let id = format!("bare-{run_id}-{i}");
        runs.spawn(async move {
            client
                .start_workflow(
                    FeatureWorkflow::run,
                    shape,
                    WorkflowStartOptions::new(QUEUE, id.clone()).build(),
                )
                .await?;
            let handle = client.get_workflow_handle::<FeatureWorkflow>(id);
            for _ in 0..shape.times {
                poke(&handle, shape.feature).await?;
            }
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

/// Sends the update or signal the shape waits for.
async fn poke(handle: &WorkflowHandle<Client, FeatureWorkflow>, feature: Feature) -> anyhow::Result<()> {
    match feature {
        Feature::Update => {
            handle
                .execute_update(FeatureWorkflow::poke, (), WorkflowExecuteUpdateOptions::default())
                .await?;
        }
        Feature::Signal => {
            handle
                .signal(FeatureWorkflow::nudge, (), WorkflowSignalOptions::default())
                .await?
        }
        _ => {}
    }
    Ok(())
}
