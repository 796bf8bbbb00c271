//! A prototype of the shape decision 0008 proposes and does not adopt: the kitchen owns the
//! barista's steps. The workflow reserves stock, then schedules `startProduction`, which the
//! kitchen completes asynchronously (its task token kept on the ticket) once the coffee is handed
//! over; the barista's start and completion never reach Temporal. Statuses a person filters on
//! (Queued, Completed) are upserted and projected; the kitchen wait limit is a timer beside the
//! open activity. No-ops stand in for the services' work, so the figures are Temporal's alone,
//! comparable with [`crate::ceiling`]'s bare workflow in the same run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::FutureExt;
use temporalio_client::{ActivityIdentifier, Client, RpcOptions, WorkflowGetResultOptions, WorkflowStartOptions};
use temporalio_common::protos::TaskToken;
use temporalio_common::search_attributes::SearchAttributes;
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::{
    ActivityOptions, LocalActivityOptions, Runtime, TimerOptions, Worker, WorkerOptions, WorkflowContext,
    WorkflowResult, workflows::select,
};

use crate::ceiling::Noop;
use domain::search_attributes::ORDER_STATUS;

pub const QUEUE: &str = "bench-kitchen-owned";

/// The kitchen's side: each ticket's task token, handed to whoever waits for that order's ticket
/// (the bench's barista).
#[derive(Default, Clone)]
pub struct Kitchen {
    waiting: Arc<Mutex<HashMap<String, tokio::sync::oneshot::Sender<TaskToken>>>>,
}

#[activities]
impl Kitchen {
    /// Puts the ticket on the board and leaves the activity open: the kitchen completes it (with
    /// `true`, handed over) when the coffee is made.
    #[activity(name = "startProduction")]
    pub async fn start_production(self: Arc<Self>, ctx: ActivityContext) -> Result<bool, ActivityError> {
        let workflow_id = ctx.info().workflow_id.clone().unwrap_or_default();
        if let Some(barista) = self.waiting.lock().expect("not poisoned").remove(&workflow_id) {
            let _ = barista.send(TaskToken::from(ctx.info().task_token.clone()));
        }
        Err(ActivityError::WillCompleteAsync)
    }
}

#[workflow]
#[derive(Default)]
pub struct KitchenOwnedWorkflow;

#[workflow_methods]
impl KitchenOwnedWorkflow {
    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<()> {
        let step = || ActivityOptions::with_start_to_close_timeout(Duration::from_secs(60)).build();
        let project = || {
            LocalActivityOptions::builder()
                .start_to_close_timeout(Duration::from_secs(10))
                .build()
        };
        // reserveStock
        ctx.execute_activity(Noop::noop, (), step()).await?;
        ctx.upsert_search_attributes([ORDER_STATUS.value_set("Queued".to_owned())]);
        ctx.execute_local_activity(Noop::noop, (), project()).await?;
        // startProduction, open until the coffee is handed over, beside the kitchen wait limit.
        let mut limit = ctx.timer(TimerOptions::builder(Duration::from_secs(600)).build());
        select! {
            made = ctx.execute_activity(Kitchen::start_production, (), step()).fuse() => { made?; }
            _ = limit => {}
        };
        ctx.upsert_search_attributes([ORDER_STATUS.value_set("Completed".to_owned())]);
        ctx.execute_local_activity(Noop::noop, (), project()).await?;
        Ok(())
    }
}

/// Runs `count` orders of this shape at `concurrency` with a worker in this process, a barista
/// completing each ticket as soon as it is on the board; returns workflows per second and the id
/// of the last one (for its history).
pub async fn measure(client: Client, count: usize, concurrency: usize) -> anyhow::Result<(f64, String)> {
    let runtime = Runtime::from_current_tokio(Default::default())?;
    let kitchen = Kitchen::default();
    let options = WorkerOptions::new(QUEUE)
        .register_workflow::<KitchenOwnedWorkflow>()?
        .register_activities(Noop)
        .register_activities(kitchen.clone())
        .build();
    let mut worker = Worker::new(&runtime, client.clone(), options)?;
    let stop = worker.shutdown_handle();
    let load = async move {
        let result = start_all(client, kitchen, count, concurrency).await;
        stop();
        result
    };
    let (worker_result, measured) = tokio::join!(worker.run(), load);
    worker_result?;
    measured
}

async fn start_all(
    client: Client,
    kitchen: Kitchen,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<(f64, String)> {
    let run_id = uuid::Uuid::now_v7().simple().to_string();
    let started = Instant::now();
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut runs = tokio::task::JoinSet::new();
    let id = |i: usize| format!("kitchen-owned-{run_id}-{i}");
    for i in 0..count {
        let permit = permits.clone().acquire_owned().await?;
        let (client, id) = (client.clone(), id(i));
        let (barista, ticket) = tokio::sync::oneshot::channel();
        kitchen
            .waiting
            .lock()
            .expect("not poisoned")
            .insert(id.clone(), barista);
        runs.spawn(async move {
            let options = WorkflowStartOptions::new(QUEUE, id.clone())
                .search_attributes(SearchAttributes::new([ORDER_STATUS.value_set("Ordered".to_owned())]))
                .build();
            client.start_workflow(KitchenOwnedWorkflow::run, (), options).await?;
            let token = ticket.await?;
            client
                .get_async_activity_handle(ActivityIdentifier::from_task_token(token))
                .complete(Some(true), RpcOptions::default())
                .await?;
            let handle = client.get_workflow_handle::<KitchenOwnedWorkflow>(id);
            handle.get_result(WorkflowGetResultOptions::default()).await?;
            drop(permit);
            anyhow::Ok(())
        });
    }
    while let Some(done) = runs.join_next().await {
        done??;
    }
    Ok((count as f64 / started.elapsed().as_secs_f64(), id(count - 1)))
}
