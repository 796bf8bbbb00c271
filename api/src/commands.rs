//! Sending commands to Temporal, bounded in time: when Temporal is unreachable or too slow the
//! caller gets a 503 with `Retry-After` instead of hanging.

use std::future::Future;

use temporalio_client::errors::WorkflowUpdateError;

use crate::{ApiError, AppState};

/// Runs a Temporal call within the command timeout; transport failures become 503.
pub(crate) async fn bounded<T, E: std::fmt::Display>(
    state: &AppState,
    call: impl Future<Output = Result<T, E>>,
) -> Result<Result<T, E>, ApiError> {
    tokio::time::timeout(state.command_timeout, call)
        .await
        .map_err(|_| ApiError::unavailable("Temporal did not answer in time"))
}

/// How a refused update maps to HTTP: the validator's message is a 409, a closed or missing
/// workflow is for the caller to look up, anything else is Temporal being unavailable.
pub(crate) enum UpdateOutcome<T> {
    Done(T),
    Refused(String),
    NoWorkflow,
}

pub(crate) fn classify<T>(result: Result<T, WorkflowUpdateError>) -> Result<UpdateOutcome<T>, ApiError> {
    match result {
        Ok(v) => Ok(UpdateOutcome::Done(v)),
        Err(WorkflowUpdateError::Failed(failure)) => Ok(UpdateOutcome::Refused(failure.message.clone())),
        Err(WorkflowUpdateError::NotFound(_)) => Ok(UpdateOutcome::NoWorkflow),
        Err(e) => Err(ApiError::unavailable(e)),
    }
}
