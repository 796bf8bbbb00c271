//! The optional memory ceiling (`COFFEESHOP_MAX_RSS_MIB`): a guard for the operator, not a cure.
//! The worker's memory no longer grows with the orders it serves (the SDK's leaks are fixed where
//! they were, vendor/PATCHES.md); a ceiling catches what nobody has found yet. Past it the worker
//! stops as on SIGTERM and exits with [`OUTGREW_MEMORY`], so that its supervisor (`make run`,
//! Docker, Kubernetes) starts it again and counts the restart where an operator looks.

use platform::config::MemoryCeilingConfig;
use platform::memory;
pub use platform::memory::OUTGREW_MEMORY;

/// Resolves with this process's resident memory (MiB) once it is above the ceiling, read every
/// `COFFEESHOP_MEMORY_CHECK` from one interval after the start; never when no ceiling is set or
/// the system does not tell a process's memory.
pub async fn outgrown(config: &MemoryCeilingConfig) -> f64 {
    let Some(ceiling) = config.max_rss_mib else {
        return std::future::pending().await;
    };
    let mut every = tokio::time::interval(config.memory_check);
    every.tick().await; // the first tick is immediate
    loop {
        every.tick().await;
        match memory::resident_mib() {
            Some(now) if now > ceiling => return now,
            Some(_) => {}
            None => return std::future::pending().await,
        }
    }
}
