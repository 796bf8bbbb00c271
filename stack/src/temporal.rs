//! The Temporal dev server (the CLI's `server start-dev`): real Temporal, SQLite-backed, with the
//! Web UI, and the order search attributes registered.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::process::{Managed, free_port, wait_until};
use crate::tools::Tools;

/// How often the dev server's one history shard may read each of its task queues, per second
/// (the server's default is 20; see [`TemporalDev::start`]).
pub const QUEUE_READS_PER_SECOND: u32 = 1000;
/// Partitions of every task queue; the same value as deploy/temporal/dynamicconfig.yaml.
pub const TASK_QUEUE_PARTITIONS: u32 = 1;

/// The search attributes `OrderWorkflow` keeps current.
pub const SEARCH_ATTRIBUTES: [&str; 4] = ["OrderStatus", "ProductName", "CustomerId", "ShopId"];

/// How many signals one workflow may receive; the same value as deploy/temporal/dynamicconfig.yaml.
pub const MAX_SIGNALS_PER_ORDER: u32 = 1000;

#[derive(Debug, Clone)]
pub struct TemporalOptions {
    pub port: u16,
    /// `None` runs headless (tests).
    pub ui_port: Option<u16>,
    /// `None` keeps everything in memory (tests); a file keeps workflows across restarts.
    pub db_file: Option<PathBuf>,
    pub log: PathBuf,
}

pub struct TemporalDev {
    pub process: Managed,
    pub port: u16,
    pub ui_port: Option<u16>,
    cli: PathBuf,
}

impl TemporalDev {
    pub async fn start(tools: &Tools, o: TemporalOptions) -> anyhow::Result<Self> {
        let mut cmd = Command::new(&tools.temporal);
        cmd.args(["server", "start-dev", "--ip", "127.0.0.1", "--log-level", "warn"])
            .args(["--port", &o.port.to_string()])
            .args(["--http-port", &free_port()?.to_string()])
            .args(["--metrics-port", &free_port()?.to_string()]);
        match o.ui_port {
            Some(ui) => cmd.args(["--ui-port", &ui.to_string()]),
            None => cmd.arg("--headless"),
        };
        if let Some(db) = &o.db_file {
            // WAL makes the file-backed server ~2.5x faster (measured; see RECIPES).
            cmd.arg("--db-filename").arg(db).args([
                "--sqlite-pragma",
                "journal_mode=wal",
                "--sqlite-pragma",
                "synchronous=normal",
            ]);
        }
        // The history-size guard (see deploy/temporal/dynamicconfig.yaml).
        cmd.args([
            "--dynamic-config-value",
            &format!("history.maximumSignalsPerExecution={MAX_SIGNALS_PER_ORDER}"),
        ]);
        // The CLI's dev server re-reads cluster metadata from SQLite on every search-attribute
        // validation and visibility write by default; ours are registered at start (below), so
        // its cache may be trusted.
        cmd.args([
            "--dynamic-config-value",
            "system.forceSearchAttributesCacheRefreshOnRead=false",
        ]);
        // The dev server has one history shard, and each shard reads its queues of work (tasks to
        // hand to workers, visibility writes, timers) at most 20 times a second by default. Under
        // a steady stream of orders every activity and workflow task then waited for the next
        // read, ~45 ms each: placed → Queued took 240 ms at half saturation instead of 61 (see
        // docs/benchmarks.md). A real cluster spreads the same work over hundreds of shards.
        for queue in ["transfer", "visibility", "timer"] {
            cmd.args([
                "--dynamic-config-value",
                &format!("history.{queue}ProcessorMaxPollRPS={QUEUE_READS_PER_SECOND}"),
            ]);
        }
        // The shops' fairness: a task queue dispatches its backlog round-robin over the fairness
        // keys its tasks carry (each order's is its shop), so one shop's rush does not make the
        // others wait behind it (docs/decisions/0010-shops-share-the-queues-with-fairness-keys.md).
        cmd.args(["--dynamic-config-value", "matching.enableFairness=true"]);
        // One partition per task queue. With the default four, a task written to a partition no
        // poller was waiting on stayed there until that backlog was 5 s old
        // (`matching.backlogNegligibleAge`): a worker has one poller for new workflows' first
        // tasks, so under a steady 20 orders a second a third of them waited about 5 s (measured;
        // docs/decisions/0010-shops-share-the-queues-with-fairness-keys.md).
        for partitions in ["Read", "Write"] {
            cmd.args([
                "--dynamic-config-value",
                &format!("matching.numTaskqueue{partitions}Partitions={TASK_QUEUE_PARTITIONS}"),
            ]);
        }
        for attribute in SEARCH_ATTRIBUTES {
            cmd.args(["--search-attribute", &format!("{attribute}=Keyword")]);
        }
        let process = Managed::spawn("temporal", cmd, &o.log, Signal::SIGTERM)?;
        let dev = Self {
            process,
            port: o.port,
            ui_port: o.ui_port,
            cli: tools.temporal.clone(),
        };
        let address = dev.address();
        let cli = dev.cli.clone();
        wait_until("the Temporal dev server", Duration::from_secs(60), || {
            let (cli, address) = (cli.clone(), address.clone());
            async move { healthy(&cli, &address).await }
        })
        .await?;
        if o.db_file.is_some() {
            dev.register_search_attributes().await?;
        }
        Ok(dev)
    }

    /// Registers the search attributes a server kept on disk does not have yet: `--search-attribute`
    /// registers them only in a new database, so one made by an earlier release would refuse
    /// orders that carry an attribute added since (`ShopId`).
    async fn register_search_attributes(&self) -> anyhow::Result<()> {
        let address = self.address();
        let listed = tokio::process::Command::new(&self.cli)
            .args(["operator", "search-attribute", "list", "--output", "json", "--address", &address])
            .output()
            .await?;
        anyhow::ensure!(listed.status.success(), "listing the search attributes: {}", String::from_utf8_lossy(&listed.stderr));
        let known = String::from_utf8_lossy(&listed.stdout);
        for attribute in SEARCH_ATTRIBUTES.iter().filter(|a| !known.contains(&format!("\"{a}\""))) {
            let created = tokio::process::Command::new(&self.cli)
                .args(["operator", "search-attribute", "create", "--name", attribute, "--type", "Keyword"])
                .args(["--address", &address])
                .output()
                .await?;
            anyhow::ensure!(
                created.status.success(),
                "registering the search attribute {attribute}: {}",
                String::from_utf8_lossy(&created.stderr)
            );
        }
        Ok(())
    }

    /// host:port, as `TEMPORAL_ADDRESS` and the CLI take it.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        self.process.stop(Duration::from_secs(10));
    }
}

/// A dev server for a test: in memory, headless, its log in a directory of its own; the server
/// stops and the directory goes when this is dropped.
pub struct ScratchTemporal {
    pub dev: TemporalDev,
    dir: PathBuf,
}

impl ScratchTemporal {
    /// Starts one with the tools `make setup` installed; `tag` names its directory.
    pub async fn start(tag: &str) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("coffeeshop-{tag}-{}-{}", std::process::id(), free_port()?));
        std::fs::create_dir_all(&dir)?;
        let tools = Tools::locate(&crate::tools::stack_dir())?;
        let options = TemporalOptions { port: free_port()?, ui_port: None, db_file: None, log: dir.join("temporal.log") };
        let dev = TemporalDev::start(&tools, options).await;
        match dev {
            Ok(dev) => Ok(Self { dev, dir }),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                Err(e)
            }
        }
    }

    /// The server's URL, as a Temporal client connects to it.
    pub fn url(&self) -> String {
        format!("http://{}", self.dev.address())
    }
}

impl Drop for ScratchTemporal {
    fn drop(&mut self) {
        self.dev.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether the server at `address` answers `temporal operator cluster health`.
pub async fn healthy(cli: &Path, address: &str) -> bool {
    tokio::process::Command::new(cli)
        .args(["operator", "cluster", "health", "--address", address])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .await
        .map(|s| s.success())
        .unwrap_or(false)
}
