//! The worker processes. Each binary in `src/bin/` is one service, built with [`Service`]:
//! connect to Temporal, register what the service hosts, name the store its readiness depends on,
//! add its routes and background tasks, run until SIGTERM (or until it passes its optional memory
//! ceiling, [`memory_ceiling`]).
//!
//! | binary | task queue | hosts |
//! |---|---|---|
//! | `cafe` | `cafe` | `OrderWorkflow` |
//! | `warehouse` | `warehouse` | `RestockWorkflow`, the warehouse activities |
//! | `kitchen` | `kitchen` | the kitchen activities, the automatic baristas |
//! | `customercenter` | `customercenter` | the view: the projections' ingest route, `projectStock` |

pub mod barista;
pub mod memory_ceiling;
pub mod metrics;
mod prune;
mod service;

pub use platform::{config, health, memory, patiently, shutdown_signal, telemetry, temporal};
pub use memory_ceiling::OUTGREW_MEMORY;
pub use prune::{PRUNE_BATCH, Retained, WarehouseRetention};
pub use service::{Service, ServiceConfig, Store, StoreConfig};

use std::time::Duration;

/// The variable that sets a worker's health port.
pub const HEALTH_PORT_VAR: &str = "COFFEESHOP_HEALTH_PORT";

/// How long a stopping worker lets in-flight activities finish.
pub const GRACEFUL_SHUTDOWN: Duration = Duration::from_secs(10);
