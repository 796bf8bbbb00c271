//! `coffeeshop`: what `make run` runs. Starts the whole system on the embedded default (the
//! Temporal dev server and PostgreSQL from the stack directory's venv, the four workers, the API),
//! prints where everything is, and on Ctrl-C or SIGTERM stops all of it, children first.
//!
//! Configuration: the variables of docs/configuration.md (`COFFEESHOP_STACK_DIR`, `COFFEESHOP_API_PORT`,
//! `TEMPORAL_ADDRESS`, `TEMPORAL_UI_PORT`, `COFFEESHOP_PG_PORT`, `KITCHEN_AUTO_BARISTAS`, ...).

use std::time::{Duration, Instant};

use clap::Parser;
use stack::process::{ensure_free, port_answers};
use stack::supervise::{Decision, MAX_RESTARTS, Restarts, WINDOW};
use stack::{Secret, Stack, StackConfig, TemporalChoice, Tools, WORKERS};

/// Prints a line; a closed stdout (`make run | head`, a finished reader) is not a reason to panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}


/// `make run`'s configuration, from the environment (or the matching flags; `--help`).
#[derive(Debug, Parser)]
#[command(about = "Runs the whole CoffeeShop system on this machine (make run)")]
struct Config {
    #[arg(
        long,
        env = "COFFEESHOP_API_PORT",
        value_name = "COFFEESHOP_API_PORT",
        default_value_t = 8080
    )]
    api_port: u16,
    #[arg(
        long,
        env = "COFFEESHOP_PG_PORT",
        value_name = "COFFEESHOP_PG_PORT",
        default_value_t = 5433
    )]
    pg_port: u16,
    #[arg(
        long,
        env = "TEMPORAL_UI_PORT",
        value_name = "TEMPORAL_UI_PORT",
        default_value_t = 8233
    )]
    ui_port: u16,
    /// Temporal's frontend; a dev server is started there unless one answers already.
    #[arg(
        long,
        env = "TEMPORAL_ADDRESS",
        value_name = "TEMPORAL_ADDRESS",
        default_value = "127.0.0.1:7233"
    )]
    temporal_address: String,
    /// The first of the four workers' health ports (warehouse, kitchen, customercenter, cafe).
    #[arg(long, env = "COFFEESHOP_HEALTH_PORT_BASE", value_name = "COFFEESHOP_HEALTH_PORT_BASE",
        default_value_t = platform::config::HEALTH_PORT_BASE)]
    health_port_base: u16,
    /// The warehouse's database instead of the embedded PostgreSQL (`sqlite://…` works too).
    #[arg(long, env = "WAREHOUSE_DATABASE_URL", value_name = "WAREHOUSE_DATABASE_URL")]
    warehouse_database_url: Option<platform::config::DatabaseUrl>,
    #[command(flatten)]
    baristas: platform::config::BaristaConfig,
    #[arg(long, env = "RUST_LOG", value_name = "RUST_LOG", default_value = "info")]
    rust_log: String,
    /// The password of the owner account `admin` (the chain's: a manager of every shop). Unset: the one kept in the stack directory
    /// (`admin-password`), generated on the first run.
    #[arg(long, env = "COFFEESHOP_ADMIN_PASSWORD", value_name = "COFFEESHOP_ADMIN_PASSWORD")]
    admin_password: Option<Secret>,
    /// The key session tokens are signed with. Unset: the one kept in the stack directory
    /// (`session-key`), generated on the first run, so sign-ins survive a restart.
    #[arg(long, env = "COFFEESHOP_SESSION_KEY", value_name = "COFFEESHOP_SESSION_KEY")]
    session_key: Option<Secret>,
}

/// A secret kept in the stack directory (readable by its owner only), made on first use.
fn kept_secret(dir: &std::path::Path, name: &str, bytes: usize) -> anyhow::Result<Secret> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join(name);
    if let Ok(kept) = std::fs::read_to_string(&path)
        && !kept.trim().is_empty()
    {
        return Ok(kept.trim().to_owned().into());
    }
    let secret = stack::random_secret(bytes);
    std::fs::create_dir_all(dir)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)?;
    std::io::Write::write_all(&mut file, secret.as_bytes())?;
    Ok(secret.into())
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("\ncoffeeshop: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    let config = Config::parse();
    let _claim = claim(&stack::tools::stack_dir())?;
    let stack_config = stack_config(&config).await?;
    say!(
        "• starting Temporal, PostgreSQL, the workers ({}) and the API; logs in {}",
        WORKERS.join(", "),
        stack_config.logs().display()
    );
    let mut stack = Stack::start(stack_config).await?;
    seed_menu(&stack).await?;
    print_where(&stack, &config);
    let crash_loop = supervise(&mut stack).await?;
    if let Some(name) = &crash_loop {
        let line = format!(
            "{name} keeps dying ({MAX_RESTARTS} restarts within {} s): stopping everything; see the logs in {}",
            WINDOW.as_secs(),
            stack.config.logs().display()
        );
        eprintln!("\ncoffeeshop: {line}");
        log_supervision(&stack, &line);
    }
    say!("\nstopping: API, workers, PostgreSQL, Temporal ...");
    stack.stop();
    say!("stopped.");
    if crash_loop.is_some() {
        std::process::exit(1);
    }
    Ok(())
}

/// Holds `coffeeshop.pid` in the stack directory, locked, while this launcher runs, so that a
/// second `make run` on the same directory is told which shop is running there instead of
/// joining its Temporal and tripping over its ports. The lock goes with the process, however it
/// ends.
fn claim(dir: &std::path::Path) -> anyhow::Result<nix::fcntl::Flock<std::fs::File>> {
    use nix::fcntl::{Flock, FlockArg};
    use std::io::Write as _;
    std::fs::create_dir_all(dir)?;
    let path = dir.join("coffeeshop.pid");
    let file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path)?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(claimed) => {
            claimed.set_len(0)?;
            writeln!(&*claimed, "{}", std::process::id())?;
            Ok(claimed)
        }
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
            let pid = std::fs::read_to_string(&path).unwrap_or_default();
            let pid = pid.trim();
            anyhow::bail!(
                "a shop is already running here (pid {pid}, stack directory {}): use it, or stop it with \
                 Ctrl-C in its terminal (kill -INT {pid}); to run a second one beside it, give it a \
                 COFFEESHOP_STACK_DIR and ports of its own (coffeeshop --help)",
                dir.display()
            )
        }
        Err((_, e)) => Err(anyhow::anyhow!("cannot lock {}: {e}", path.display())),
    }
}

/// What to start, from the configuration: Temporal (one that answers already, else the dev server
/// on this machine), every port checked free, the secrets (kept in the stack directory, or given).
async fn stack_config(config: &Config) -> anyhow::Result<StackConfig> {
    let dir = stack::tools::stack_dir();
    let tools = Tools::locate(&dir)?;
    let temporal_address = config.temporal_address.clone();
    let temporal_port: u16 = temporal_address
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("TEMPORAL_ADDRESS={temporal_address:?} is not host:port"))?;
    let temporal = if stack::temporal::healthy(&tools.temporal, &temporal_address).await {
        say!("• using the Temporal server already at {temporal_address}");
        TemporalChoice::Existing(temporal_address.clone())
    } else {
        anyhow::ensure!(
            temporal_address.starts_with("127.0.0.1:") || temporal_address.starts_with("localhost:"),
            "no Temporal answers at TEMPORAL_ADDRESS={temporal_address}, and a dev server can only be started on this machine"
        );
        ensure_free(temporal_port, "TEMPORAL_ADDRESS")?;
        ensure_free(config.ui_port, "TEMPORAL_UI_PORT")?;
        TemporalChoice::Start {
            port: temporal_port,
            ui_port: Some(config.ui_port),
            db_file: Some(dir.join("temporal.db")),
        }
    };
    ensure_free(config.pg_port, "COFFEESHOP_PG_PORT")?;
    ensure_free(config.api_port, "COFFEESHOP_API_PORT")?;
    let base = config.health_port_base;
    let health_ports = [base, base + 1, base + 2, base + 3];
    for (name, p) in WORKERS.iter().zip(health_ports) {
        anyhow::ensure!(
            !port_answers(p),
            "port {p} (the {name} worker's health port) is taken; set COFFEESHOP_HEALTH_PORT_BASE to the first of four free ports"
        );
    }
    Ok(StackConfig {
        tools,
        temporal,
        pg_data: stack::postgres::data_dir(&dir),
        pg_port: config.pg_port,
        api_port: config.api_port,
        health_ports,
        warehouse_url: config.warehouse_database_url.as_ref().map(|u| u.expose().to_owned()),
        baristas: config.baristas.auto_baristas,
        brew_ms: config.baristas.brew_ms,
        rust_log: config.rust_log.clone(),
        extra_env: Vec::new(),
        admin_password: match &config.admin_password {
            Some(p) => p.clone(),
            None => kept_secret(&dir, "admin-password", 9)?,
        },
        session_key: match &config.session_key {
            Some(k) => k.clone(),
            None => kept_secret(&dir, "session-key", 32)?,
        },
        // Every process that uses it starts with this run: a new one each time.
        internal_key: stack::random_secret(32).into(),
        dir,
    })
}

/// Prints where everything is: the page, the API, the owner's password, Temporal, the logs.
fn print_where(stack: &Stack, config: &Config) {
    let api = format!("http://localhost:{}", config.api_port);
    say!("");
    say!("CoffeeShop is running.");
    say!("  web page      {api}/");
    say!("  API           {api}          (try: curl {api}/stocks)");
    let password_from = if config.admin_password.is_some() {
        "from COFFEESHOP_ADMIN_PASSWORD".to_owned()
    } else {
        let file = stack.config.dir.join("admin-password");
        format!("kept in {}", std::fs::canonicalize(&file).unwrap_or(file).display())
    };
    say!(
        "  owner         admin / {}   ({password_from})",
        stack.config.admin_password.expose()
    );
    match &stack.config.temporal {
        TemporalChoice::Start { .. } => say!("  Temporal UI   http://localhost:{}", config.ui_port),
        TemporalChoice::Existing(a) => say!("  Temporal      {a} (already running; its UI is wherever it is)"),
    }
    say!(
        "  Temporal CLI  {} workflow list --address {}",
        stack.config.tools.temporal.display(),
        stack.temporal_address
    );
    say!("  logs          {}", stack.config.logs().display());
    say!(
        "  settings      {} --help   (this launcher's: ports, Temporal, baristas); {} --help   (each service's; the same for cafe, warehouse, kitchen, customercenter)",
        Stack::bin_dir().join("coffeeshop").display(),
        Stack::bin_dir().join("api").display()
    );
    let pids: Vec<String> = stack.pids().iter().map(|(name, pid)| format!("{name}={pid}")).collect();
    say!("  processes     {}", pids.join(" "));
    say!("Press Ctrl-C to stop everything.");
}

/// Runs until Ctrl-C or SIGTERM. A process that dies on its own is started again (with a growing
/// backoff), as Kubernetes restarts a pod's container; only a crash loop stops the shop: then the
/// name of the process that keeps dying.
async fn supervise(stack: &mut Stack) -> anyhow::Result<Option<String>> {
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut restarts = Restarts::default();
    let mut due: Vec<(String, Instant)> = Vec::new();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(None),
            _ = sigterm.recv() => return Ok(None),
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        for (name, status) in stack.exited() {
            if due.iter().any(|(n, _)| *n == name) {
                continue;
            }
            let now = Instant::now();
            match restarts.died(&name, now) {
                Decision::CrashLoop => return Ok(Some(name)),
                Decision::Restart { after, n } => {
                    let why = if status.code() == Some(platform::memory::OUTGREW_MEMORY) {
                        "passed its memory ceiling (COFFEESHOP_MAX_RSS_MIB) and exited".to_owned()
                    } else {
                        format!("exited ({status})")
                    };
                    let line = format!(
                        "{name} {why}; restarting it in {} s (restart {n} within a minute)",
                        after.as_secs()
                    );
                    say!("• {line}");
                    log_supervision(stack, &line);
                    due.push((name, now + after));
                }
            }
        }
        let ready: Vec<String> = due
            .iter()
            .filter(|(_, at)| *at <= Instant::now())
            .map(|(n, _)| n.clone())
            .collect();
        for name in ready {
            due.retain(|(n, _)| *n != name);
            let revived = tokio::select! {
                r = stack.revive(&name) => r,
                _ = tokio::signal::ctrl_c() => return Ok(None),
                _ = sigterm.recv() => return Ok(None),
            };
            let line = match revived {
                Ok(()) => {
                    let pid = stack.pids().into_iter().find(|(n, _)| *n == name).map(|(_, p)| p);
                    format!(
                        "{name} restarted (pid {})",
                        pid.map_or("?".to_owned(), |p| p.to_string())
                    )
                }
                // Counted as another death on the next look, so a process that cannot start at
                // all ends in a crash loop rather than being retried forever.
                Err(e) => format!("{name} could not be restarted: {e:#}"),
            };
            say!("• {line}");
            log_supervision(stack, &line);
        }
    }
}

/// Appends one line to the supervisor's log (beside every process's own log).
fn log_supervision(stack: &Stack, line: &str) {
    use std::io::Write as _;
    let path = stack.config.logs().join("supervisor.log");
    if let Ok(mut f) = std::fs::File::options().create(true).append(true).open(path) {
        let _ = writeln!(
            f,
            "{} {line}",
            humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        );
    }
}

/// A fresh chain opens with two shops, each with its menu in stock.
async fn seed_menu(stack: &Stack) -> anyhow::Result<()> {
    if stack.seed_menu().await? {
        let words = |menu: &[(&str, &str)]| -> String {
            menu.iter().map(|(product, price)| format!("{product} {price}")).collect::<Vec<_>>().join(", ")
        };
        say!("• stocked the menu at main: {} (100 each)", words(&stack::MENU));
        let (demo, name) = stack::DEMO_SHOP;
        say!("• opened a second shop, {demo} ({name}): {} (100 each)", words(&stack::DEMO_MENU));
    }
    Ok(())
}
