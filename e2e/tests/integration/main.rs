//! Every integration test, in one test binary: each links the Temporal SDK, so one binary links
//! it once, and the test threads (`make test`: 2) stay busy across all the files instead of
//! waiting for the slowest test of each. Each module is one subject; most tests start a whole
//! stack of their own (`e2e::TestApp`).

mod accounts;
mod api_fuzz;
mod api_input;
mod barista_crash;
mod chain;
mod chaos;
mod deploy;
mod edges;
mod fairness;
mod gateway;
mod history_cost;
mod history_guard;
mod kitchen_wait;
mod late_attempts;
mod lost_task;
mod make_run;
mod memory_ceiling;
mod metrics;
mod operations;
mod operator_cancel;
mod page;
mod record_histories;
mod restock_retries;
mod retention;
mod saga;
mod shop;
mod shop_migrations;
mod signin_storm;
mod temporal_surface;
mod traces;
mod upgrade;
mod view;
mod walkthrough;
mod worker_down;
