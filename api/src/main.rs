//! The API gateway binary.
//!
//! Run: `cargo run --bin api` (listens on `COFFEESHOP_API_PORT`, default 8080); `--help` lists
//! every variable it reads.

use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use api::admission::ShopAdmission;
use api::identity::{Accounts, Limits, SessionKey};
use api::identity::Passwords;
use api::{AppState, Metrics, TemporalGuard, View, app};
use clap::Parser;
use platform::config::{DatabaseUrl, PostgresConfig, Secret, ServeConfig, TemporalConfig};
use platform::{shutdown_signal, telemetry, temporal};

/// The API's configuration, from the environment (or the matching flags).
#[derive(Debug, Parser)]
#[command(about = "The CoffeeShop REST gateway")]
struct Config {
    #[command(flatten)]
    temporal: TemporalConfig,
    #[command(flatten)]
    postgres: PostgresConfig,
    /// The port the API and its web page listen on.
    #[arg(
        long,
        env = "COFFEESHOP_API_PORT",
        value_name = "COFFEESHOP_API_PORT",
        default_value_t = 8080
    )]
    port: u16,
    #[command(flatten)]
    serve: ServeConfig,
    /// The customercenter's view, which the API reads; default: the `customercenter` database
    /// on the embedded PostgreSQL (`postgres://postgres@127.0.0.1:<COFFEESHOP_PG_PORT>/customercenter`).
    #[arg(
        long,
        env = "CUSTOMERCENTER_DATABASE_URL",
        value_name = "CUSTOMERCENTER_DATABASE_URL"
    )]
    customercenter_database_url: Option<DatabaseUrl>,
    /// The cafe's database: accounts and sessions; default: the `cafe` database on the embedded
    /// PostgreSQL (`postgres://postgres@127.0.0.1:<COFFEESHOP_PG_PORT>/cafe`).
    #[arg(long, env = "CAFE_DATABASE_URL", value_name = "CAFE_DATABASE_URL")]
    cafe_database_url: Option<DatabaseUrl>,
    /// The password of the first manager account, `admin` (created, or updated, at start). Unset:
    /// no `admin` is set up (`make run` generates one and prints it).
    #[arg(long, env = "COFFEESHOP_ADMIN_PASSWORD", value_name = "COFFEESHOP_ADMIN_PASSWORD")]
    admin_password: Option<Secret>,
    /// The key session tokens are signed with (at least 32 characters; the same on every API
    /// replica). Unset: a random key, so sessions end when this process does.
    #[arg(long, env = "COFFEESHOP_SESSION_KEY", value_name = "COFFEESHOP_SESSION_KEY",
        value_parser = |raw: &str| if raw.len() >= 32 { Ok(Secret::from_str(raw)?) } else { Err("must be at least 32 characters".to_owned()) })]
    session_key: Option<Secret>,
    /// How long a sign-in lasts (`12h`, `30m`).
    #[arg(long, env = "COFFEESHOP_SESSION_TTL", value_name = "COFFEESHOP_SESSION_TTL", default_value = "12h",
        value_parser = |raw: &str| humantime::parse_duration(raw).map_err(|e| e.to_string()).and_then(|d| if d.as_secs() >= 60 { Ok(d) } else { Err("must be at least 1m".to_owned()) }))]
    session_ttl: Duration,
    /// How long a command may wait on Temporal before a 503.
    #[arg(
        long,
        env = "COFFEESHOP_COMMAND_TIMEOUT_MS",
        value_name = "COFFEESHOP_COMMAND_TIMEOUT_MS",
        default_value_t = 5_000
    )]
    command_timeout_ms: u64,
    /// Commands allowed to wait on Temporal at once; more are shed with 503.
    #[arg(
        long,
        env = "COFFEESHOP_MAX_INFLIGHT_COMMANDS",
        value_name = "COFFEESHOP_MAX_INFLIGHT_COMMANDS",
        default_value_t = 512
    )]
    max_inflight_commands: usize,
    /// Live-update streams (`GET /events`, the web page's) open at once; more are refused with 503.
    #[arg(
        long,
        env = "COFFEESHOP_MAX_EVENT_STREAMS",
        value_name = "COFFEESHOP_MAX_EVENT_STREAMS",
        default_value_t = 1_000
    )]
    max_event_streams: usize,
    /// Threads that hash and check passwords (argon2id, 19 MiB each); default: one for every two
    /// cores.
    #[arg(long, env = "COFFEESHOP_PASSWORD_THREADS", value_name = "COFFEESHOP_PASSWORD_THREADS",
        default_value_t = api::identity::Passwords::default_threads())]
    password_threads: usize,
    /// Sign-ins and sign-ups that may wait for a password thread; more are answered 503 at once.
    #[arg(long, env = "COFFEESHOP_PASSWORD_QUEUE", value_name = "COFFEESHOP_PASSWORD_QUEUE",
        default_value_t = api::identity::PASSWORD_QUEUE)]
    password_queue: usize,
    /// Sign-in and sign-up attempts allowed per client address a minute (429 beyond).
    #[arg(long, env = "COFFEESHOP_ANONYMOUS_PER_MINUTE", value_name = "COFFEESHOP_ANONYMOUS_PER_MINUTE",
        default_value_t = api::identity::ANONYMOUS_PER_MINUTE)]
    anonymous_per_minute: u32,
    /// The header a trusted proxy puts the client's address in (e.g. `X-Forwarded-For`); unset:
    /// the connection's peer address. Set it only behind a proxy that overwrites it.
    #[arg(long, env = "COFFEESHOP_CLIENT_ADDRESS_HEADER", value_name = "COFFEESHOP_CLIENT_ADDRESS_HEADER")]
    client_address_header: Option<axum::http::HeaderName>,
    /// New orders each shop may place a second, in bursts of as many (429 with `Retry-After`
    /// beyond); 0: no limit. Set it to the share of the deployment's capacity one shop may take.
    #[arg(long, env = "COFFEESHOP_ORDERS_PER_SHOP_PER_SECOND", value_name = "COFFEESHOP_ORDERS_PER_SHOP_PER_SECOND",
        default_value_t = api::admission::ORDERS_PER_SHOP_PER_SECOND)]
    orders_per_shop_per_second: u32,
    /// How long a Queued order may wait for a barista (`30m`, `90s`; `0` = no limit).
    #[arg(long, env = "KITCHEN_MAX_WAIT", value_name = "KITCHEN_MAX_WAIT", default_value = "30m",
        value_parser = |raw: &str| domain::KitchenWait::parse(raw).map_err(|e| e.problem))]
    kitchen_max_wait: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let _telemetry = telemetry::init("api");
    let listener = config.serve.bind(config.port, "COFFEESHOP_API_PORT").await?;
    let view_url = config
        .postgres
        .url("customercenter", config.customercenter_database_url.as_ref());
    let view = View::connect_lazy(view_url.expose(), 20)?;
    let cafe_url = config.postgres.url("cafe", config.cafe_database_url.as_ref());
    let key = match &config.session_key {
        Some(key) => SessionKey::new(key.expose().as_bytes().to_vec()),
        None => {
            tracing::warn!("COFFEESHOP_SESSION_KEY is not set: using a random key; sessions end when the API stops");
            SessionKey::random()
        }
    };
    let accounts = Accounts::connect_lazy(cafe_url.expose(), key, config.session_ttl)?.with_limits(
        Passwords::start(config.password_threads, config.password_queue),
        Limits::new(config.anonymous_per_minute, config.client_address_header.clone()),
    );
    let admission = ShopAdmission::new(config.orders_per_shop_per_second);
    let (forgetting, forgetting_shops) = (accounts.clone(), admission.clone());
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            forgetting.limits().forget_quiet_attempts();
            forgetting_shops.forget_quiet_shops();
        }
    });
    accounts.cache_sessions();
    // The accounts database may not be there yet: migrate (and set up `admin`) once it is.
    let (prepared, admin) = (accounts.clone(), config.admin_password.clone());
    if admin.is_none() {
        tracing::warn!("COFFEESHOP_ADMIN_PASSWORD is not set: no manager account is set up");
    }
    tokio::spawn(async move {
        platform::patiently("the cafe's accounts database", || {
            prepared.prepare(admin.as_ref().map(Secret::expose))
        })
        .await;
    });
    let command_timeout = Duration::from_millis(config.command_timeout_ms);
    let max_in_flight = config.max_inflight_commands;
    let kitchen_max_wait_ms = config.kitchen_max_wait;
    let metrics = Metrics::new();
    let guard = Arc::new(TemporalGuard::new(
        command_timeout,
        Duration::from_secs(2),
        max_in_flight,
        metrics.commands_shed.clone(),
    ));
    // Serve at once (health, reads, 503 for commands) and reach Temporal in the background, so the
    // API is alive and observable even while Temporal is not there yet.
    let temporal = Arc::new(OnceLock::new());
    let (cell, probe, temporal_config) = (temporal.clone(), guard.clone(), config.temporal.clone());
    tokio::spawn(async move {
        if let Ok(client) = temporal::connect(&temporal_config).await {
            probe.spawn_probe(client.clone(), Duration::from_millis(500));
            let _ = cell.set(client);
            tracing::info!("connected to Temporal");
        }
    });
    let live = api::live::Live::new(config.max_event_streams);
    live.spawn_feed(view.clone());
    let state = AppState {
        temporal,
        live,
        view,
        accounts,
        guard,
        metrics,
        kitchen_max_wait_ms,
        just_placed: Default::default(),
        admission,
    };
    tracing::info!(addr = %listener.local_addr()?, "api listening");
    platform::http::serve(listener, app(state), config.serve.limits(), shutdown_signal()).await;
    tracing::info!("api stopped");
    Ok(())
}
