//! Connecting to Temporal, patiently: a process started before the server waits for it instead of
//! crashing, which makes start-up order irrelevant and restarts self-healing.

use std::str::FromStr;
use std::time::Duration;

use temporalio_client::envconfig::LoadClientConfigProfileOptions;
use temporalio_client::tonic::Request;
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions, GrpcCompression, Url};
use temporalio_common::protos::grpc::health::v1::{HealthCheckRequest, health_check_response::ServingStatus};

use crate::config::{self, TemporalConfig};

/// Connects to `TEMPORAL_ADDRESS`, retrying with a capped backoff until it answers. TLS and API
/// keys come from the SDK's own environment configuration (`TEMPORAL_TLS*`, `TEMPORAL_API_KEY`,
/// or a `TEMPORAL_CONFIG_FILE` profile), so the services reach Temporal Cloud or a secured cluster
/// without code of ours; the address and namespace are the typed ones.
pub async fn connect(config: &TemporalConfig) -> anyhow::Result<Client> {
    let mut delay = Duration::from_millis(100);
    loop {
        match try_connect_configured(config).await {
            Ok(client) => return Ok(client),
            Err(e) => {
                tracing::warn!(address = %config.temporal_address, error = %e, "Temporal not reachable yet; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// The connection options: the SDK's environment configuration (TLS, API key, headers), with our
/// address, identity, connect timeout and compression.
pub fn connection_options(config: &TemporalConfig) -> anyhow::Result<ConnectionOptions> {
    connection_options_from(config, LoadClientConfigProfileOptions::default())
}

fn connection_options_from(
    config: &TemporalConfig,
    load: LoadClientConfigProfileOptions,
) -> anyhow::Result<ConnectionOptions> {
    let (mut options, _) = ClientOptions::load_from_config(load)
        .map_err(|e| anyhow::anyhow!("Temporal client configuration (TEMPORAL_* variables): {e}"))?;
    let secured = options.tls_options.is_some() || options.api_key.is_some();
    options.target = Url::from_str(&config.url_with_scheme(secured))?;
    options.identity = format!("{}@{}", std::process::id(), hostname());
    options.connect_timeout = Some(Duration::from_secs(2));
    options.grpc_compression = match config.temporal_grpc_compression {
        config::GrpcCompression::None => GrpcCompression::None,
        config::GrpcCompression::Gzip => GrpcCompression::Gzip,
    };
    Ok(options)
}

async fn try_connect_configured(config: &TemporalConfig) -> anyhow::Result<Client> {
    let connection = Connection::connect(connection_options(config)?).await?;
    Ok(Client::new(connection, client_options(&config.temporal_namespace))?)
}

/// One connection attempt to a local server, bounded so that a silent address fails fast, with
/// the services' default settings (no compression).
pub async fn try_connect(url: &Url, namespace: &str) -> anyhow::Result<Client> {
    let options = ConnectionOptions::new(url.clone())
        .identity(format!("{}@{}", std::process::id(), hostname()))
        .connect_timeout(Duration::from_secs(2))
        .grpc_compression(GrpcCompression::None)
        .build();
    let connection = Connection::connect(options).await?;
    Ok(Client::new(connection, client_options(namespace))?)
}

/// The client's options: its namespace, and the tracing plugin when traces are on (workers made
/// from the client inherit it).
fn client_options(namespace: &str) -> ClientOptions {
    ClientOptions::new(namespace.to_owned()).plugins(crate::telemetry::temporal_plugin()).build()
}

/// Whether Temporal's frontend answers its health check right now (bounded by `timeout`).
pub async fn is_serving(client: &Client, timeout: Duration) -> bool {
    let mut health = client.connection().health_service();
    let request = Request::new(HealthCheckRequest {
        service: "temporal.api.workflowservice.v1.WorkflowService".to_owned(),
    });
    match tokio::time::timeout(timeout, health.check(request)).await {
        Ok(Ok(response)) => response.get_ref().status == ServingStatus::Serving as i32,
        _ => false,
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use temporalio_client::envconfig::DataSource;

    fn typed(address: &str) -> TemporalConfig {
        TemporalConfig {
            temporal_address: address.to_owned(),
            temporal_namespace: "default".to_owned(),
            temporal_grpc_compression: config::GrpcCompression::None,
        }
    }

    fn profile(toml: &str) -> LoadClientConfigProfileOptions {
        LoadClientConfigProfileOptions::builder()
            .config_source(DataSource::Data(toml.as_bytes().to_vec()))
            .disable_env(true)
            .build()
    }

    #[test]
    fn an_api_key_from_the_sdk_configuration_is_used_over_tls_at_our_address() {
        let options = connection_options_from(
            &typed("my-ns.tmprl.cloud:7233"),
            profile("[profile.default]\napi_key = \"secret\"\n"),
        )
        .unwrap();
        assert_eq!(options.api_key.as_deref(), Some("secret"));
        assert_eq!(options.target.as_str(), "https://my-ns.tmprl.cloud:7233/");
    }

    #[test]
    fn without_tls_or_a_key_the_embedded_default_is_plain_http() {
        let options = connection_options_from(&typed("127.0.0.1:7233"), profile("")).unwrap();
        assert_eq!(options.api_key, None);
        assert_eq!(options.target.as_str(), "http://127.0.0.1:7233/");
    }

    #[test]
    fn the_compression_asked_for_is_the_one_used() {
        let plain = connection_options_from(&typed("127.0.0.1:7233"), profile("")).unwrap();
        assert_eq!(plain.grpc_compression, GrpcCompression::None);
        let mut config = typed("my-ns.tmprl.cloud:7233");
        config.temporal_grpc_compression = config::GrpcCompression::Gzip;
        let zipped = connection_options_from(&config, profile("")).unwrap();
        assert_eq!(zipped.grpc_compression, GrpcCompression::Gzip);
    }
}
