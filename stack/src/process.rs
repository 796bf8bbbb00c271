//! Child processes that are always stopped: by [`Managed::stop`] (signal, then wait with a
//! deadline, then SIGKILL) or, if the owner forgets or panics, by `Drop`. Only processes this code
//! started are ever signalled, by their PID.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

pub struct Managed {
    pub name: String,
    child: Option<Child>,
    /// The signal that asks this program to shut down cleanly.
    stop_signal: Signal,
}

impl Managed {
    /// Spawns `command` with its output appended to `log`.
    pub fn spawn(name: &str, mut command: Command, log: &Path, stop_signal: Signal) -> anyhow::Result<Self> {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("cannot open {}", log.display()))?;
        let err = out.try_clone()?;
        command.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {name} ({:?})", command.get_program()))?;
        Ok(Self {
            name: name.to_owned(),
            child: Some(child),
            stop_signal,
        })
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process is still running (`Some(exit status)` once it has ended).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// Asks the process to stop, waits up to `grace` without blocking the async runtime (other
    /// tasks, e.g. a stream of orders in a test, keep running meanwhile), then kills it.
    pub async fn shutdown(&mut self, grace: Duration) {
        let Some(child) = self.child.as_mut() else { return };
        if matches!(child.try_wait(), Ok(Some(_))) {
            self.child = None;
            return;
        }
        let _ = kill(Pid::from_raw(child.id() as i32), self.stop_signal);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                self.child = None;
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.kill_now();
    }

    /// Asks the process to stop, waits up to `grace`, then kills it. Blocking: for `Drop` and
    /// synchronous callers; async code uses [`Managed::shutdown`].
    pub fn stop(&mut self, grace: Duration) {
        let Some(mut child) = self.child.take() else { return };
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = kill(Pid::from_raw(child.id() as i32), self.stop_signal);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Kills the process at once and reaps it (what a crash looks like to the rest of the system).
    pub fn kill_now(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Managed {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(5));
    }
}

/// A port that was free a moment ago. Chosen below Linux's ephemeral range (32768+), where the
/// outgoing connections of every process on the machine would otherwise take it back between the
/// moment it is picked and the moment a server binds it; spread by process id and a counter so
/// that tests running in parallel do not pick the same one.
pub fn free_port() -> anyhow::Result<u16> {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 15_000;
    const SPAN: u32 = 17_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = std::process::id().wrapping_mul(7919);
    for _ in 0..SPAN {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (LOW + base.wrapping_add(n.wrapping_mul(13)) % SPAN) as u16;
        if std::net::TcpListener::bind(("0.0.0.0", port)).is_ok() {
            return Ok(port);
        }
    }
    anyhow::bail!("no free port between {LOW} and {}", LOW + SPAN)
}

/// Whether something accepts connections on 127.0.0.1:`port`.
pub fn port_answers(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok()
}

/// Fails with a message naming `var` when `port` is taken.
pub fn ensure_free(port: u16, var: &str) -> anyhow::Result<()> {
    match std::net::TcpListener::bind(("0.0.0.0", port)) {
        Ok(_) => Ok(()),
        Err(e) => anyhow::bail!("port {port} is taken ({e}); set {var} to a free port"),
    }
}

/// Polls `check` until it holds, or fails after `timeout` with `what` in the message.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if check().await {
            return Ok(());
        }
        if Instant::now() >= deadline {
            anyhow::bail!("{what} was not ready within {} s", timeout.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
