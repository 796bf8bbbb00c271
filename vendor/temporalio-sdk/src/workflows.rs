//! Workflow authoring APIs and native workflow registration helpers.

pub use temporalio_workflow::workflows::*;

pub use crate::workflow_registry::{WorkflowDefinitions, WorkflowRegistrationError};
#[doc(inline)]
pub use temporalio_macros::{workflow, workflow_methods};
