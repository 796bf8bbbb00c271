//! The embedded stack, in one place for `make run` and the tests: the Temporal dev server, a real
//! PostgreSQL with one database per service, the four workers and the API, each started only once
//! the previous one is ready (with a deadline), and stopped in reverse order, children first.
//! Nothing here is a mock: tests drive the very processes `make run` starts.

pub mod postgres;
pub mod process;
pub mod supervise;
pub mod temporal;
pub mod tools;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nix::sys::signal::Signal;

pub use platform::config::Secret;
pub use postgres::Postgres;
pub use process::{Managed, free_port, wait_until};
pub use temporal::{ScratchTemporal, TemporalDev};
pub use tools::Tools;

/// The worker services, in start order.
pub const WORKERS: [&str; 4] = ["warehouse", "kitchen", "customercenter", "cafe"];

/// What `make run` stocks a fresh shop with (100 each), and at what price.
pub const MENU: [(&str, &str); 5] = [
    ("Americano", "3.00"),
    ("Latte", "3.50"),
    ("Cappuccino", "3.50"),
    ("Espresso", "2.50"),
    ("Mocha", "4.00"),
];

/// The second shop `make run` opens, so that a newcomer sees the chain: its id and name.
pub const DEMO_SHOP: (&str, &str) = ("gangnam", "Gangnam");

/// The second shop's own menu and prices (100 each).
pub const DEMO_MENU: [(&str, &str); 3] = [("Americano", "3.20"), ("Latte", "3.80"), ("Matcha Latte", "4.50")];

/// The services that own a database.
pub const DATABASES: [&str; 4] = ["cafe", "warehouse", "kitchen", "customercenter"];

/// Where Temporal comes from.
#[derive(Debug, Clone)]
pub enum TemporalChoice {
    /// Start a dev server on `port` (UI on `ui_port` unless `None`), persisting to `db_file` if set.
    Start {
        port: u16,
        ui_port: Option<u16>,
        db_file: Option<PathBuf>,
    },
    /// Use the server already answering at this host:port.
    Existing(String),
}

#[derive(Debug, Clone)]
pub struct StackConfig {
    /// Logs (and, for `make run`, the data) go here.
    pub dir: PathBuf,
    pub tools: Tools,
    pub temporal: TemporalChoice,
    pub pg_data: PathBuf,
    pub pg_port: u16,
    pub api_port: u16,
    /// Health ports of the workers, in [`WORKERS`] order.
    pub health_ports: [u16; 4],
    /// Replaces the warehouse's PostgreSQL database (e.g. `sqlite://…`).
    pub warehouse_url: Option<String>,
    pub baristas: usize,
    pub brew_ms: u64,
    pub rust_log: String,
    /// More environment for every service process (e.g. API tuning in a test).
    pub extra_env: Vec<(String, String)>,
    /// The API's secrets: the owner's password and the session signing key (given to
    /// the API alone, never to the workers).
    pub admin_password: Secret,
    pub session_key: Secret,
    /// The key of the services' internal routes (`COFFEESHOP_INTERNAL_KEY`), given to the cafe
    /// worker, which calls the customercenter's ingest route, and to the customercenter.
    pub internal_key: Secret,
}

/// Signs in through the API (`POST /auth/signin`) and returns the bearer token. The API sets up
/// the `admin` account just after it starts: a refused sign-in is tried again for a few seconds.
pub async fn sign_in(http: &reqwest::Client, api: &str, name: &str, password: &str) -> anyhow::Result<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let r = http
            .post(format!("{api}/auth/signin"))
            .json(&serde_json::json!({"name": name, "password": password}))
            .send()
            .await?;
        let status = r.status();
        if status.is_success() {
            let body: serde_json::Value = r.json().await?;
            return body["token"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow::anyhow!("the sign-in answer has no token"));
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "signing in as {name} failed: {status} {}",
            r.text().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Signs the customer `name` up with `password` (unless they exist) and in; returns the token.
/// Sign-up is retried while the API answers `503` (its password threads are busy: many
/// customers signing up at once) or `429`, after the `Retry-After` it gives, as a client should.
pub async fn customer_token(http: &reqwest::Client, api: &str, name: &str, password: &str) -> anyhow::Result<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let r = loop {
        let r = http
            .post(format!("{api}/auth/signup"))
            .json(&serde_json::json!({"name": name, "password": password}))
            .send()
            .await?;
        let busy = matches!(
            r.status(),
            reqwest::StatusCode::SERVICE_UNAVAILABLE | reqwest::StatusCode::TOO_MANY_REQUESTS
        );
        if !busy || std::time::Instant::now() >= deadline {
            break r;
        }
        let retry_after = r
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            .map_or(Duration::from_millis(200), Duration::from_secs);
        tokio::time::sleep(retry_after.min(Duration::from_secs(5))).await;
    };
    anyhow::ensure!(
        r.status().is_success() || r.status() == reqwest::StatusCode::CONFLICT,
        "signing up {name}: {}",
        r.status()
    );
    sign_in(http, api, name, password).await
}

/// A client that sends `token` as `Authorization: Bearer` with every request.
pub fn client_with(token: &str) -> anyhow::Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse()?);
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .default_headers(headers)
        .build()?)
}

/// A random secret of `bytes` random bytes, hex-encoded.
pub fn random_secret(bytes: usize) -> String {
    let mut out = String::with_capacity(bytes * 2);
    while out.len() < bytes * 2 {
        out.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    out.truncate(bytes * 2);
    out
}

/// The API's setting for each shop's share of new orders a second (0: no limit).
pub const ORDERS_PER_SHOP_PER_SECOND: &str = "COFFEESHOP_ORDERS_PER_SHOP_PER_SECOND";

impl StackConfig {
    /// A stack on free ports under `dir`, with an in-memory Temporal: what each test gets.
    pub fn ephemeral(dir: &Path, tools: Tools) -> anyhow::Result<Self> {
        Ok(Self {
            dir: dir.to_owned(),
            tools,
            temporal: TemporalChoice::Start {
                port: free_port()?,
                ui_port: None,
                db_file: None,
            },
            pg_data: dir.join("pg"),
            pg_port: free_port()?,
            api_port: free_port()?,
            health_ports: [free_port()?, free_port()?, free_port()?, free_port()?],
            warehouse_url: None,
            baristas: 0,
            brew_ms: 0,
            rust_log: std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
            // Tests and benchmarks are many customers signing up from one address (loopback), and
            // ordering at one shop faster than a shop's share (a test of the share sets it back).
            extra_env: vec![
                ("COFFEESHOP_ANONYMOUS_PER_MINUTE".to_owned(), "100000".to_owned()),
                (ORDERS_PER_SHOP_PER_SECOND.to_owned(), "0".to_owned()),
            ],
            admin_password: random_secret(12).into(),
            session_key: random_secret(32).into(),
            internal_key: random_secret(32).into(),
        })
    }

    /// Keeps Temporal's state in a file in the stack's directory (as `make run` does), so that a
    /// restarted dev server still knows its workflows.
    pub fn temporal_on_disk(&mut self) {
        let file = self.dir.join("temporal.db");
        if let TemporalChoice::Start { db_file, .. } = &mut self.temporal {
            *db_file = Some(file);
        }
    }

    pub fn logs(&self) -> PathBuf {
        self.dir.join("logs")
    }
}

pub struct Stack {
    pub config: StackConfig,
    pub temporal_address: String,
    temporal: Option<TemporalDev>,
    pub postgres: Postgres,
    workers: Vec<Managed>,
    api: Option<Managed>,
    http: reqwest::Client,
}

impl Stack {
    /// The events of a workflow's history, as `temporal workflow show -o json` lists them.
    pub async fn history_events(&self, workflow_id: &str) -> anyhow::Result<Vec<serde_json::Value>> {
        let out = tokio::process::Command::new(&self.config.tools.temporal)
            .args(["workflow", "show", "--workflow-id", workflow_id, "-o", "json"])
            .args(["--address", &self.temporal_address])
            .output()
            .await?;
        anyhow::ensure!(
            out.status.success(),
            "the history of {workflow_id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let history: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        let events = history["events"].as_array().cloned().unwrap_or_default();
        anyhow::ensure!(!events.is_empty(), "the history of {workflow_id} has no events");
        Ok(events)
    }

    /// Starts everything, in order, each once the previous is ready.
    pub async fn start(config: StackConfig) -> anyhow::Result<Self> {
        let logs = config.logs();
        std::fs::create_dir_all(&logs)?;
        let (temporal, temporal_address) = match &config.temporal {
            TemporalChoice::Start { port, ui_port, db_file } => {
                let options = temporal::TemporalOptions {
                    port: *port,
                    ui_port: *ui_port,
                    db_file: db_file.clone(),
                    log: logs.join("temporal.log"),
                };
                let dev = TemporalDev::start(&config.tools, options).await?;
                let address = dev.address();
                (Some(dev), address)
            }
            TemporalChoice::Existing(address) => (None, address.clone()),
        };
        let postgres = Postgres::start(
            &config.tools,
            &config.pg_data,
            config.pg_port,
            &logs.join("postgres.log"),
        )
        .await?;
        for db in DATABASES {
            postgres.create_database(db).await?;
        }
        let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
        let mut stack = Self {
            config,
            temporal_address,
            temporal,
            postgres,
            workers: Vec::new(),
            api: None,
            http,
        };
        for name in WORKERS {
            let worker = stack.spawn_worker(name)?;
            stack.workers.push(worker);
        }
        for name in WORKERS {
            stack.wait_ready(name).await?;
        }
        stack.start_api().await?;
        Ok(stack)
    }

    /// The directory the binaries were built into (beside this program, or above `deps/` for a
    /// test binary); `COFFEESHOP_BIN_DIR` overrides it.
    pub fn bin_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os("COFFEESHOP_BIN_DIR") {
            return PathBuf::from(dir);
        }
        let exe = std::env::current_exe().expect("the running program has a path");
        let dir = exe.parent().expect("a program lives in a directory");
        if dir.ends_with("deps") {
            dir.parent().unwrap_or(dir).to_owned()
        } else {
            dir.to_owned()
        }
    }

    /// The environment every service process gets (the names in docs/configuration.md).
    fn env(&self) -> Vec<(String, String)> {
        let c = &self.config;
        let mut env = vec![
            ("TEMPORAL_ADDRESS".to_owned(), self.temporal_address.clone()),
            ("COFFEESHOP_PG_PORT".to_owned(), c.pg_port.to_string()),
            ("COFFEESHOP_API_PORT".to_owned(), c.api_port.to_string()),
            ("KITCHEN_AUTO_BARISTAS".to_owned(), c.baristas.to_string()),
            ("KITCHEN_BREW_MS".to_owned(), c.brew_ms.to_string()),
            ("RUST_LOG".to_owned(), c.rust_log.clone()),
        ];
        // The cafe worker's projectOrder posts projections to the customercenter's health server.
        env.push((
            "CUSTOMERCENTER_INGEST_URL".to_owned(),
            format!("http://127.0.0.1:{}", self.health_port("customercenter")),
        ));
        for db in DATABASES {
            env.push((format!("{}_DATABASE_URL", db.to_uppercase()), self.postgres.url(db)));
        }
        if let Some(url) = &c.warehouse_url {
            env.push(("WAREHOUSE_DATABASE_URL".to_owned(), url.clone()));
        }
        env.extend(c.extra_env.iter().cloned());
        env
    }

    fn spawn_service(&self, name: &str, extra: &[(&str, String)]) -> anyhow::Result<Managed> {
        let mut cmd = Command::new(Self::bin_dir().join(name));
        cmd.envs(self.env());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        Managed::spawn(
            name,
            cmd,
            &self.config.logs().join(format!("{name}.log")),
            Signal::SIGTERM,
        )
    }

    pub fn health_port(&self, name: &str) -> u16 {
        let i = WORKERS.iter().position(|w| *w == name).expect("a known worker");
        self.config.health_ports[i]
    }

    fn spawn_worker(&self, name: &str) -> anyhow::Result<Managed> {
        self.spawn_service(name, &self.worker_env(name, self.health_port(name)))
    }

    /// A worker's own environment: its health port, and the internal key for the two that use it.
    fn worker_env(&self, name: &str, health_port: u16) -> Vec<(&'static str, String)> {
        let mut env = vec![("COFFEESHOP_HEALTH_PORT", health_port.to_string())];
        if matches!(name, "cafe" | "customercenter") {
            env.push(("COFFEESHOP_INTERNAL_KEY", self.config.internal_key.expose().to_owned()));
        }
        env
    }

    /// Waits for a worker's `/readyz`.
    pub async fn wait_ready(&mut self, name: &str) -> anyhow::Result<()> {
        let url = format!("http://127.0.0.1:{}/readyz", self.health_port(name));
        self.wait_http(name, &url).await
    }

    async fn wait_http(&mut self, name: &str, url: &str) -> anyhow::Result<()> {
        let http = self.http.clone();
        let log = self.config.logs().join(format!("{name}.log"));
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = http.get(url).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if let Some(status) = self.process_mut(name).and_then(Managed::exited) {
                anyhow::bail!(
                    "{name} exited ({status}) before it was ready; see {}:\n{}",
                    log.display(),
                    tail(&log)
                );
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "{name} was not ready within 60 s; see {}",
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn process_mut(&mut self, name: &str) -> Option<&mut Managed> {
        if name == "api" {
            return self.api.as_mut();
        }
        self.workers.iter_mut().find(|w| w.name == name)
    }

    async fn start_api(&mut self) -> anyhow::Result<()> {
        self.api = Some(self.spawn_api()?);
        let url = format!("{}/readyz", self.api_url());
        self.wait_http("api", &url).await
    }

    /// Stops the API (SIGTERM: it finishes its requests) and starts a new one, waited for until
    /// ready.
    pub async fn restart_api(&mut self) -> anyhow::Result<()> {
        if let Some(api) = self.api.as_mut() {
            api.shutdown(Duration::from_secs(15)).await;
        }
        self.start_api().await
    }

    /// Stops the API and starts a new one without waiting for it to be ready (it may be unable to
    /// be, e.g. while Temporal is down).
    pub async fn respawn_api(&mut self) -> anyhow::Result<()> {
        if let Some(api) = self.api.as_mut() {
            api.shutdown(Duration::from_secs(15)).await;
        }
        self.api = Some(self.spawn_api()?);
        Ok(())
    }

    fn spawn_api(&self) -> anyhow::Result<Managed> {
        self.spawn_service(
            "api",
            &[
                (
                    "COFFEESHOP_ADMIN_PASSWORD",
                    self.config.admin_password.expose().to_owned(),
                ),
                ("COFFEESHOP_SESSION_KEY", self.config.session_key.expose().to_owned()),
            ],
        )
    }

    /// Stocks the [`MENU`] at `main` and opens [`DEMO_SHOP`] with its [`DEMO_MENU`], 100 each,
    /// through the API (so each restock is a workflow), where a shop has no products yet; returns
    /// whether it stocked anything.
    pub async fn seed_menu(&self) -> anyhow::Result<bool> {
        let http = reqwest::Client::new();
        let token = sign_in(&http, &self.api_url(), "admin", self.config.admin_password.expose()).await?;
        let (demo, demo_name) = DEMO_SHOP;
        let opened = http
            .post(format!("{}/shops", self.api_url()))
            .bearer_auth(&token)
            .json(&serde_json::json!({"shopId": demo, "name": demo_name}))
            .send()
            .await?
            .status();
        anyhow::ensure!(
            opened.is_success() || opened == reqwest::StatusCode::CONFLICT,
            "could not open the shop {demo}: {opened}"
        );
        let mut stocked = false;
        for (shop, menu) in [("main", &MENU[..]), (demo, &DEMO_MENU[..])] {
            let stocks: Vec<serde_json::Value> =
                http.get(format!("{}/stocks?shopId={shop}", self.api_url())).send().await?.json().await?;
            if !stocks.is_empty() {
                continue;
            }
            for (product, price) in menu {
                let body = serde_json::json!({"shopId": shop, "productName": product, "qty": 100, "price": price});
                let r = http
                    .post(format!("{}/stocks", self.api_url()))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await?;
                anyhow::ensure!(r.status().is_success(), "could not stock {product} at {shop}: {}", r.status());
            }
            stocked = true;
        }
        Ok(stocked)
    }

    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.config.api_port)
    }

    /// A worker or `api` process, e.g. to kill it in a fault test.
    pub fn process(&mut self, name: &str) -> &mut Managed {
        self.process_mut(name).unwrap_or_else(|| panic!("no process {name}"))
    }

    /// Kills a worker at once (SIGKILL), as a crash would.
    pub fn kill(&mut self, name: &str) {
        self.process(name).kill_now();
    }

    /// Kills any process of the stack at once (SIGKILL): a worker, `api`, `postgres` or
    /// `temporal`. [`Stack::revive`] starts it again.
    pub fn crash(&mut self, name: &str) {
        match name {
            "postgres" => self.postgres.process.kill_now(),
            "temporal" => {
                if let Some(t) = self.temporal.as_mut() {
                    t.process.kill_now();
                }
            }
            other => self.kill(other),
        }
    }

    /// Starts a worker again (after `kill`) and waits until it is ready.
    pub async fn restart(&mut self, name: &str) -> anyhow::Result<()> {
        let fresh = self.spawn_worker(name)?;
        let slot = self
            .workers
            .iter_mut()
            .find(|w| w.name == name)
            .expect("a known worker");
        *slot = fresh;
        self.wait_ready(name).await
    }

    /// Starts one more instance of a worker (on a health port of its own) and waits until it is
    /// ready; it runs beside the first until stopped or dropped.
    pub async fn add_instance(&mut self, name: &str) -> anyhow::Result<(Managed, u16)> {
        let port = free_port()?;
        let log = format!("{name}-{port}");
        let mut cmd = Command::new(Self::bin_dir().join(name));
        cmd.envs(self.env()).envs(self.worker_env(name, port));
        let process = Managed::spawn(
            &log,
            cmd,
            &self.config.logs().join(format!("{log}.log")),
            Signal::SIGTERM,
        )?;
        let url = format!("http://127.0.0.1:{port}/readyz");
        wait_until(&format!("{name} on port {port}"), Duration::from_secs(60), || {
            let (http, url) = (self.http.clone(), url.clone());
            async move {
                http.get(&url)
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false)
            }
        })
        .await?;
        Ok((process, port))
    }

    /// A rolling restart of one worker: SIGTERM (it finishes its in-flight work, then exits), then
    /// a fresh instance in its place, waited for until ready.
    pub async fn restart_gracefully(&mut self, name: &str) -> anyhow::Result<()> {
        self.process(name).shutdown(Duration::from_secs(30)).await;
        self.restart(name).await
    }

    /// A worker's `/readyz` status code right now (`None` if it does not answer).
    pub async fn readiness(&self, name: &str) -> Option<u16> {
        let url = format!("http://127.0.0.1:{}/readyz", self.health_port(name));
        self.http.get(url).send().await.ok().map(|r| r.status().as_u16())
    }

    /// Stops the Temporal dev server this stack started (as an outage would).
    pub fn stop_temporal(&mut self) {
        if let Some(t) = self.temporal.as_mut() {
            t.stop();
        }
    }

    /// Starts the Temporal dev server again, on the same port and db file.
    pub async fn start_temporal(&mut self) -> anyhow::Result<()> {
        let TemporalChoice::Start { port, ui_port, db_file } = self.config.temporal.clone() else {
            anyhow::bail!("this stack uses an existing Temporal server; it cannot restart it");
        };
        let log = self.config.logs().join("temporal.log");
        let options = temporal::TemporalOptions {
            port,
            ui_port,
            db_file,
            log,
        };
        self.temporal = Some(TemporalDev::start(&self.config.tools, options).await?);
        Ok(())
    }

    /// The processes that ended although nobody stopped them, with how they ended: every worker,
    /// the API, PostgreSQL, and the Temporal dev server if this stack started it.
    pub fn exited(&mut self) -> Vec<(String, std::process::ExitStatus)> {
        let mut dead = Vec::new();
        let processes = self
            .workers
            .iter_mut()
            .chain(self.api.iter_mut())
            .chain(std::iter::once(&mut self.postgres.process))
            .chain(self.temporal.iter_mut().map(|t| &mut t.process));
        for p in processes {
            if let Some(status) = p.exited() {
                dead.push((p.name.clone(), status));
            }
        }
        dead
    }

    /// Starts a process that died again, in its place, without waiting for it to be ready (what
    /// it needs may be down too; it retries by itself): `temporal`, `postgres`, `api` or a worker.
    pub async fn revive(&mut self, name: &str) -> anyhow::Result<()> {
        match name {
            "temporal" => self.start_temporal().await,
            "postgres" => {
                let c = &self.config;
                self.postgres =
                    Postgres::start(&c.tools, &c.pg_data, c.pg_port, &c.logs().join("postgres.log")).await?;
                Ok(())
            }
            "api" => {
                self.api = Some(self.spawn_api()?);
                Ok(())
            }
            worker => {
                let fresh = self.spawn_worker(worker)?;
                let slot = self
                    .workers
                    .iter_mut()
                    .find(|w| w.name == worker)
                    .ok_or_else(|| anyhow::anyhow!("no process {worker}"))?;
                *slot = fresh;
                Ok(())
            }
        }
    }

    /// The PIDs of the processes this stack runs, by name (for the launcher's test and for people
    /// who want to try its self-healing by hand).
    pub fn pids(&self) -> Vec<(String, u32)> {
        self.workers
            .iter()
            .chain(self.api.iter())
            .chain(std::iter::once(&self.postgres.process))
            .chain(self.temporal.iter().map(|t| &t.process))
            .filter_map(|p| p.pid().map(|pid| (p.name.clone(), pid)))
            .collect()
    }

    /// Processes that ended although nobody stopped them.
    pub fn crashed(&mut self) -> Vec<String> {
        let mut dead = Vec::new();
        for p in self.workers.iter_mut().chain(self.api.iter_mut()) {
            if let Some(status) = p.exited() {
                dead.push(format!("{} ({status})", p.name));
            }
        }
        dead
    }

    /// Stops everything, children first: the API, the workers, PostgreSQL, then Temporal.
    pub fn stop(&mut self) {
        if let Some(api) = self.api.as_mut() {
            api.stop(Duration::from_secs(15));
        }
        for w in self.workers.iter_mut().rev() {
            w.stop(Duration::from_secs(15));
        }
        self.postgres.stop();
        if let Some(t) = self.temporal.as_mut() {
            t.stop();
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The last lines of a log, for error messages.
pub fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}
