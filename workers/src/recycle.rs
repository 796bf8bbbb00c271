//! A worker that starts afresh once its memory has grown: it finishes its in-flight tasks as on
//! SIGTERM, then replaces itself with a fresh copy of its own program (same process id,
//! arguments and environment), which connects and polls again.
//!
//! Why: the Temporal Rust SDK (`temporalio-sdk` 1.1.1, `temporalio-sdk-core` 0.10.1) keeps a
//! little of every task it has served and never gives it back. A heap profile of the cafe worker
//! over 5,000 orders (`docs/benchmarks.md`, "Worker memory") found two holders: the activity
//! half's map of cancellation tokens, one entry per activity task, never removed (~720 bytes an
//! order in the cafe, which runs `projectOrder` four times an order), and the state of every
//! workflow run ever started, core's and the SDK's both, long after the run left the cache
//! (~600 bytes an order). Neither is ours to free, and dropping the SDK worker in the process does
//! not free the second, so the worker starts afresh instead: its memory stays within
//! `COFFEESHOP_RECYCLE_GROWTH_MIB` of what it held when warm. Nothing is lost meanwhile: an
//! in-flight task either finishes before the restart or times out and is retried by Temporal, and
//! a cached workflow is rebuilt from its history by the next worker that gets its task.

use std::os::unix::process::CommandExt;

use platform::config::RecycleConfig;
use platform::memory;

/// Resolves once this process's resident memory exceeds its first reading (taken one check
/// interval after the call) by more than the allowed growth; never when the growth is 0 or the
/// system does not tell a process's memory. Returns (first reading, now), in MiB.
pub async fn outgrown(config: &RecycleConfig) -> (f64, f64) {
    if config.recycle_growth_mib <= 0.0 {
        return std::future::pending().await;
    }
    let mut every = tokio::time::interval(config.recycle_check);
    every.tick().await; // the first tick is immediate
    every.tick().await;
    let Some(warm) = memory::resident_mib() else {
        return std::future::pending().await;
    };
    loop {
        every.tick().await;
        if let Some(now) = memory::resident_mib()
            && now > warm + config.recycle_growth_mib
        {
            return (warm, now);
        }
    }
}

/// Replaces this process with a fresh run of its own program (the very file it was started from,
/// even if a build has replaced it since), with the same arguments and environment. Returns only
/// if that fails.
pub fn start_afresh() -> anyhow::Error {
    // `exec` drops nothing: send the spans still buffered first.
    platform::telemetry::flush();
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new("/proc/self/exe");
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    let error = command.args(args).exec();
    anyhow::anyhow!("cannot start this worker afresh: {error}")
}
