//! Activity options, one place for every timeout and retry policy and the reason for each.

use std::time::Duration;

use domain::{failures, queues};
use temporalio_common::RetryPolicy;
use temporalio_sdk::{ActivityOptions, LocalActivityOptions, WorkflowCancellationToken};

/// Retries never give up: an infrastructure failure (database down, worker killed) is waited out,
/// so no order is lost or stuck half-way. The backoff is capped so that recovery is noticed
/// within seconds. Business refusals are non-retryable failures and end the retries at once.
fn retry_forever() -> RetryPolicy {
    RetryPolicy::builder()
        .initial_interval(Duration::from_millis(200))
        .backoff_coefficient(2.0)
        .maximum_interval(Duration::from_secs(5))
        .non_retryable_error_types([
            failures::OUT_OF_STOCK,
            failures::UNKNOWN_PRODUCT,
            failures::DUPLICATE_ORDER_ID,
        ])
        .build()
}

/// Each activity is one short database transaction: 10 s to finish an attempt is generous, and a
/// worker killed mid-attempt is detected after that long and the attempt retried elsewhere.
/// There is no schedule-to-start timeout: while a service's workers are all down, its work waits
/// in its task queue (orders are accepted even when the kitchen or warehouse is down: docs/architecture.md).
/// Each activity has a cancellation token of its own, detached from the workflow's: a cancellation
/// requested through Temporal is handled as a `cancel` command by the workflow, and the saga's
/// steps and compensations must still run to the end after it.
fn on(queue: &str) -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(10))
        .task_queue(queue.to_owned())
        .cancellation_token(WorkflowCancellationToken::new())
        .retry_policy(retry_forever())
        .build()
}

pub(crate) fn warehouse() -> ActivityOptions {
    on(queues::WAREHOUSE)
}

pub(crate) fn kitchen() -> ActivityOptions {
    on(queues::KITCHEN)
}

/// `projectStock`, for a restock (`RestockWorkflow`).
pub(crate) fn customercenter() -> ActivityOptions {
    on(queues::CUSTOMERCENTER)
}

/// `projectOrder`, a local activity of the cafe worker (a POST to the customercenter): each
/// attempt bounded to 2 s, retried for ever. Quick blips are retried inside the workflow task;
/// once the wait between attempts reaches a second, it becomes a durable timer, so the task
/// completes (the saga's commands with it) instead of waiting on a view that is away. Attempts
/// are at most 30 s apart: the view catches up within that of coming back. Each timed retry costs
/// the order a few history events (a marker, the timer, a workflow task).
pub(crate) fn projection() -> LocalActivityOptions {
    LocalActivityOptions::builder()
        .start_to_close_timeout(Duration::from_secs(2))
        .retry_policy(
            RetryPolicy::builder()
                .initial_interval(Duration::from_millis(200))
                .backoff_coefficient(2.0)
                .maximum_interval(Duration::from_secs(30))
                .build(),
        )
        .timer_backoff_threshold(Duration::from_secs(1))
        .cancellation_token(WorkflowCancellationToken::new())
        .build()
}
