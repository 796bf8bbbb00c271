//! Connecting to Temporal, patiently: a process started before the server waits for it instead of
//! crashing, which makes start-up order irrelevant and restarts self-healing.

use std::str::FromStr;
use std::time::Duration;

use temporalio_client::tonic::Request;
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions, Url};
use temporalio_common::protos::grpc::health::v1::{HealthCheckRequest, health_check_response::ServingStatus};

use crate::config::TemporalConfig;

/// Connects to `TEMPORAL_ADDRESS`, retrying with a capped backoff until it answers.
pub async fn connect(config: &TemporalConfig) -> anyhow::Result<Client> {
    let url = Url::from_str(&config.url())?;
    let mut delay = Duration::from_millis(100);
    loop {
        match try_connect(&url, &config.temporal_namespace).await {
            Ok(client) => return Ok(client),
            Err(e) => {
                tracing::warn!(address = %url, error = %e, "Temporal not reachable yet; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// One connection attempt, bounded so that a silent address fails fast.
pub async fn try_connect(url: &Url, namespace: &str) -> anyhow::Result<Client> {
    let options = ConnectionOptions::new(url.clone())
        .identity(format!("{}@{}", std::process::id(), hostname()))
        .connect_timeout(Duration::from_secs(2))
        .build();
    let connection = Connection::connect(options).await?;
    Ok(Client::new(
        connection,
        ClientOptions::new(namespace.to_owned()).build(),
    )?)
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
