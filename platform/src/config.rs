//! Configuration from environment variables (SPEC §6), with defaults that work for the embedded
//! stack `make run` starts. Secrets (database passwords) are never printed.

use std::net::{Ipv4Addr, SocketAddr};

/// The value of `name`, or `default` when unset or blank.
pub fn var_or(name: &str, default: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().to_owned(),
        _ => default.to_owned(),
    }
}

/// A numeric variable, with an error that names the variable when it is not a number.
pub fn number_or<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("{name}={v:?} is not a valid number")),
        _ => Ok(default),
    }
}

/// Where Temporal's frontend is, as a URL (`TEMPORAL_ADDRESS`, host:port as the CLI takes it).
pub fn temporal_url() -> String {
    let address = var_or("TEMPORAL_ADDRESS", "127.0.0.1:7233");
    if address.contains("://") {
        address
    } else {
        format!("http://{address}")
    }
}

pub fn temporal_namespace() -> String {
    var_or("TEMPORAL_NAMESPACE", "default")
}

/// A service's database URL (`<SERVICE>_DATABASE_URL`); by default its own database on the
/// embedded PostgreSQL.
pub fn database_url(service: &str) -> anyhow::Result<String> {
    let var = format!("{}_DATABASE_URL", service.to_uppercase());
    let port: u16 = number_or("COFFEESHOP_PG_PORT", 5433)?;
    Ok(var_or(&var, &format!("postgres://postgres@127.0.0.1:{port}/{service}")))
}

/// The address a process listens on for `port_var`; all interfaces, as containers need.
pub fn listen_addr(port_var: &str, default_port: u16) -> anyhow::Result<SocketAddr> {
    let port: u16 = number_or(port_var, default_port)?;
    Ok(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)))
}

/// Binds a listener; a taken port gives an error that names the variable to change.
pub async fn bind(port_var: &str, default_port: u16) -> anyhow::Result<tokio::net::TcpListener> {
    let addr = listen_addr(port_var, default_port)?;
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on port {} ({e}); set {port_var} to a free port",
            addr.port()
        )
    })
}
