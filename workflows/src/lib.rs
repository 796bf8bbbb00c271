//! The workflows: where every order's status changes. Deterministic by construction: this crate
//! depends on the domain and the Temporal SDK only (no database, no HTTP, no tokio), takes time
//! from the workflow clock and runs concurrent steps with the SDK's `join!`.

mod options;
mod order;
mod restock;

pub use order::OrderWorkflow;
pub use restock::RestockWorkflow;
