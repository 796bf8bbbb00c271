//! Configuration from environment variables (docs/configuration.md), with defaults that work for the embedded
//! stack `make run` starts. Each process has one typed configuration (a `clap` parser with `env`,
//! defined beside its `main`); the pieces they share are here. A bad value is refused at start with
//! the variable's name; secrets (database passwords) never reach `Debug` or the logs.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use std::str::FromStr;

/// Where Temporal is: `TEMPORAL_ADDRESS` (host:port, as the CLI takes it) and `TEMPORAL_NAMESPACE`.
#[derive(Debug, Clone, clap::Args)]
pub struct TemporalConfig {
    /// The Temporal frontend, host:port.
    #[arg(
        long,
        env = "TEMPORAL_ADDRESS",
        value_name = "TEMPORAL_ADDRESS",
        default_value = "127.0.0.1:7233"
    )]
    pub temporal_address: String,
    /// The Temporal namespace the orders live in.
    #[arg(
        long,
        env = "TEMPORAL_NAMESPACE",
        value_name = "TEMPORAL_NAMESPACE",
        default_value = "default"
    )]
    pub temporal_namespace: String,
    /// Whether the gRPC calls to Temporal are gzip-compressed (the SDK's default) or not. Off
    /// here: on a loopback or in-cluster link compressing every poll, completion and answer costs
    /// CPU at both ends and saves nothing that matters; `gzip` is for a slow link (e.g. to
    /// Temporal Cloud over the internet).
    #[arg(
        long,
        env = "TEMPORAL_GRPC_COMPRESSION",
        value_name = "TEMPORAL_GRPC_COMPRESSION",
        value_enum,
        default_value_t = GrpcCompression::None
    )]
    pub temporal_grpc_compression: GrpcCompression,
}

/// `TEMPORAL_GRPC_COMPRESSION`: `none` or `gzip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GrpcCompression {
    None,
    Gzip,
}

impl TemporalConfig {
    /// The frontend as a URL; `https` when no scheme is given and TLS is on.
    pub fn url_with_scheme(&self, tls: bool) -> String {
        if self.temporal_address.contains("://") {
            self.temporal_address.clone()
        } else {
            format!("{}://{}", if tls { "https" } else { "http" }, self.temporal_address)
        }
    }
}

/// A database URL; its password is hidden from `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let raw = raw.trim();
        if ["postgres://", "postgresql://", "sqlite:"]
            .iter()
            .any(|s| raw.starts_with(s))
        {
            Ok(Self(raw.to_owned()))
        } else {
            Err("expected postgres://… (or sqlite:… for the warehouse)".to_owned())
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", redact(&self.0))
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

/// A secret from the environment (a password, a signing key): never shown by `Debug` or
/// `Display`, so it cannot reach a log line by accident.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl FromStr for Secret {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        if raw.is_empty() {
            return Err("must not be empty".to_owned());
        }
        Ok(Self(raw.to_owned()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Hides the password of a database URL.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme + 3], &creds[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The embedded PostgreSQL's port (`COFFEESHOP_PG_PORT`), which the default database URLs use.
#[derive(Debug, Clone, clap::Args)]
pub struct PostgresConfig {
    /// The embedded PostgreSQL's port, used by the default database URLs.
    #[arg(
        long,
        env = "COFFEESHOP_PG_PORT",
        value_name = "COFFEESHOP_PG_PORT",
        default_value_t = 5433
    )]
    pub pg_port: u16,
}

impl PostgresConfig {
    /// `given`, or the service's own database on the embedded PostgreSQL.
    pub fn url(&self, service: &str, given: Option<&DatabaseUrl>) -> DatabaseUrl {
        given
            .cloned()
            .unwrap_or_else(|| DatabaseUrl(format!("postgres://postgres@127.0.0.1:{}/{service}", self.pg_port)))
    }
}

/// The worker services, in the order `make run` starts them; their default health ports follow
/// this order from [`HEALTH_PORT_BASE`] (warehouse 8091, kitchen 8092, customercenter 8093, cafe
/// 8094), for the binaries and the launcher alike.
pub const WORKERS: [&str; 4] = ["warehouse", "kitchen", "customercenter", "cafe"];
pub const HEALTH_PORT_BASE: u16 = 8091;

/// A worker's default health port.
pub fn default_health_port(service: &str) -> u16 {
    let i = WORKERS.iter().position(|w| *w == service).expect("a known worker");
    HEALTH_PORT_BASE + i as u16
}

/// The automatic baristas (`KITCHEN_AUTO_BARISTAS`, `KITCHEN_BREW_MS`): read by the kitchen worker,
/// and by `make run`'s launcher, which hands them on to it.
#[derive(Debug, Clone, clap::Args)]
pub struct BaristaConfig {
    /// Automatic baristas in each kitchen worker; 0 = people drive the kitchen.
    #[arg(
        long,
        env = "KITCHEN_AUTO_BARISTAS",
        value_name = "KITCHEN_AUTO_BARISTAS",
        default_value_t = 0
    )]
    pub auto_baristas: usize,
    /// How long an automatic barista brews, in milliseconds.
    #[arg(
        long,
        env = "KITCHEN_BREW_MS",
        value_name = "KITCHEN_BREW_MS",
        default_value_t = 3000
    )]
    pub brew_ms: u64,
}

/// A worker process's own settings: its health port (`COFFEESHOP_HEALTH_PORT`, defaulting per
/// service), the bounds of its probe server, and its optional memory ceiling.
#[derive(Debug, Clone, clap::Args)]
pub struct HealthConfig {
    /// The port of the worker's probes (`/healthz`, `/readyz`); default 8091 warehouse, 8092
    /// kitchen, 8093 customercenter, 8094 cafe.
    #[arg(long, env = "COFFEESHOP_HEALTH_PORT", value_name = "COFFEESHOP_HEALTH_PORT")]
    pub health_port: Option<u16>,
    #[command(flatten)]
    pub serve: ServeConfig,
    #[command(flatten)]
    pub memory: MemoryCeilingConfig,
}

/// A worker's memory ceiling, off unless set: past it the worker stops as on SIGTERM (readiness
/// 503, in-flight tasks finished) and exits with `workers::OUTGREW_MEMORY`, so that whatever
/// supervises it (`make run`, Docker, Kubernetes) starts it again and counts the restart.
#[derive(Debug, Clone, clap::Args)]
pub struct MemoryCeilingConfig {
    /// Resident memory (MiB) past which the worker drains and exits; unset, no ceiling.
    #[arg(long, env = "COFFEESHOP_MAX_RSS_MIB", value_name = "COFFEESHOP_MAX_RSS_MIB", value_parser = positive_mib)]
    pub max_rss_mib: Option<f64>,
    /// How often the worker reads its memory when a ceiling is set.
    #[arg(long, env = "COFFEESHOP_MEMORY_CHECK", value_name = "COFFEESHOP_MEMORY_CHECK", default_value = "10s",
        value_parser = positive_duration)]
    pub memory_check: Duration,
}

/// How long a service keeps what it holds per order (and the restock log) once the order is
/// over, and how often it deletes what is older (`workers::prune`).
#[derive(Debug, Clone, clap::Args)]
pub struct RetentionConfig {
    /// How long a finished order's rows (the view's order and its history, the warehouse's
    /// reservation, the kitchen's ticket) and a restock's log entries are kept (`90days`, `12h`).
    #[arg(long, env = "COFFEESHOP_RETENTION", value_name = "COFFEESHOP_RETENTION", default_value = "90days",
        value_parser = positive_duration)]
    pub retention: Duration,
    /// How often the service deletes rows past their retention.
    #[arg(long, env = "COFFEESHOP_PRUNE_EVERY", value_name = "COFFEESHOP_PRUNE_EVERY", default_value = "1h",
        value_parser = positive_duration)]
    pub prune_every: Duration,
}

fn positive_mib(raw: &str) -> Result<f64, String> {
    match raw.trim().parse::<f64>() {
        Ok(mib) if mib.is_finite() && mib > 0.0 => Ok(mib),
        _ => Err("must be a number of MiB above 0 (e.g. 512, 0.5); leave it unset for no ceiling".to_owned()),
    }
}

/// Where a process listens and how long, and how much, a client may take (the server's bounds,
/// [`crate::http`]). The API and every worker's probe port read the same variables.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeConfig {
    /// The address to listen on: `127.0.0.1` answers this machine only; a container sets
    /// `0.0.0.0`.
    #[arg(
        long,
        env = "COFFEESHOP_BIND",
        value_name = "COFFEESHOP_BIND",
        default_value = "127.0.0.1"
    )]
    pub bind: IpAddr,
    /// How long a client may take to send a request's head, or between two pieces of its body;
    /// also how long an idle keep-alive connection stays open (`5s`, `500ms`).
    #[arg(long, env = "COFFEESHOP_READ_TIMEOUT", value_name = "COFFEESHOP_READ_TIMEOUT", default_value = "5s",
        value_parser = positive_duration)]
    pub read_timeout: Duration,
    /// How long a request may take from its head to its answer (`408` beyond it).
    #[arg(long, env = "COFFEESHOP_REQUEST_TIMEOUT", value_name = "COFFEESHOP_REQUEST_TIMEOUT", default_value = "15s",
        value_parser = positive_duration)]
    pub request_timeout: Duration,
    /// The largest request head (request line and headers) in bytes (`431` beyond it).
    #[arg(
        long,
        env = "COFFEESHOP_MAX_HEADER_BYTES",
        value_name = "COFFEESHOP_MAX_HEADER_BYTES",
        default_value_t = 16 * 1024
    )]
    pub max_header_bytes: usize,
}

fn positive_duration(raw: &str) -> Result<Duration, String> {
    match humantime::parse_duration(raw) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err("must be more than 0".to_owned()),
        Err(e) => Err(format!("{e} (e.g. 5s, 500ms)")),
    }
}

impl ServeConfig {
    /// The server's bounds.
    pub fn limits(&self) -> crate::http::Limits {
        crate::http::Limits {
            read_timeout: self.read_timeout,
            request_timeout: self.request_timeout,
            max_header_bytes: self.max_header_bytes,
        }
    }

    /// Binds a listener on [`Self::bind`]; a taken port gives an error that names the variable to
    /// change.
    pub async fn bind(&self, port: u16, port_var: &str) -> anyhow::Result<tokio::net::TcpListener> {
        let addr = SocketAddr::from((self.bind, port));
        let listen = || {
            let socket = if addr.is_ipv4() {
                tokio::net::TcpSocket::new_v4()?
            } else {
                tokio::net::TcpSocket::new_v6()?
            };
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            // A burst of clients connecting at once waits in the kernel's queue instead of being
            // reset (the kernel caps this at `net.core.somaxconn`).
            socket.listen(LISTEN_BACKLOG)
        };
        listen().map_err(|e| anyhow::anyhow!("cannot listen on {addr} ({e}); set {port_var} to a free port"))
    }
}

/// Connections the kernel queues for a listener before the process accepts them.
pub const LISTEN_BACKLOG: u32 = 4096;

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Example {
        #[command(flatten)]
        temporal: TemporalConfig,
        #[command(flatten)]
        postgres: PostgresConfig,
        #[arg(long, env = "EXAMPLE_DATABASE_URL")]
        database_url: Option<DatabaseUrl>,
    }

    #[test]
    fn passwords_never_reach_debug_or_display() {
        let url: DatabaseUrl = "postgres://u:secret@h:5/db".parse().unwrap();
        assert_eq!(format!("{url:?}"), "\"postgres://u:***@h:5/db\"");
        assert_eq!(url.to_string(), "postgres://u:***@h:5/db");
        assert_eq!(url.expose(), "postgres://u:secret@h:5/db");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn defaults_work_for_the_embedded_stack() {
        let c = Example::try_parse_from(["x"]).unwrap();
        assert_eq!(c.temporal.url_with_scheme(false), "http://127.0.0.1:7233");
        assert_eq!(c.temporal.temporal_grpc_compression, GrpcCompression::None);
        assert_eq!(
            c.postgres.url("kitchen", None).expose(),
            "postgres://postgres@127.0.0.1:5433/kitchen"
        );
        assert_eq!(default_health_port("warehouse"), 8091);
        assert_eq!(default_health_port("cafe"), 8094);
    }

    #[test]
    fn a_bad_value_names_the_variable_to_fix() {
        let err = Example::try_parse_from(["x", "--pg-port", "not-a-port"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("COFFEESHOP_PG_PORT"), "{err}");
        let err = Example::try_parse_from(["x", "--database-url", "mysql://x"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("postgres://"), "{err}");
        let err = Example::try_parse_from(["x", "--temporal-grpc-compression", "zstd"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("TEMPORAL_GRPC_COMPRESSION") && err.contains("gzip"),
            "{err}"
        );
    }

    #[derive(Debug, Parser)]
    struct Worker {
        #[command(flatten)]
        health: HealthConfig,
    }

    #[test]
    fn a_worker_has_no_memory_ceiling_unless_one_is_set() {
        let c = Worker::try_parse_from(["x"]).unwrap();
        assert_eq!(c.health.memory.max_rss_mib, None);
        assert_eq!(c.health.memory.memory_check, Duration::from_secs(10));
        let c = Worker::try_parse_from(["x", "--max-rss-mib", "512"]).unwrap();
        assert_eq!(c.health.memory.max_rss_mib, Some(512.0));
        for bad in ["0", "-1", "lots"] {
            let err = Worker::try_parse_from(["x", &format!("--max-rss-mib={bad}")]).unwrap_err().to_string();
            assert!(err.contains("COFFEESHOP_MAX_RSS_MIB") && err.contains("above 0"), "{bad}: {err}");
        }
    }
}
