//! A worker's metrics: the Temporal SDK's own (task slots, schedule-to-start and execution
//! latencies, sticky cache, polls, per workflow and activity type), in Prometheus text on the
//! worker's health port, `GET /metrics`, beside its probes.
//!
//! The SDK's Prometheus exporter serves its registry on a listener of its own and offers no other
//! way to read it, so it listens on a loopback port nobody else is told about, and the health
//! port's `/metrics` relays what it answers. The service's own counters (orders finished by
//! outcome, reservations refused by reason: [`activities::Tally`]) are made with the SDK's meter,
//! so they are in the same registry and on the same page.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use temporalio_common::telemetry::metrics::{
    CoreMeter, Counter, Gauge, GaugeBase, MetricKeyValue, MetricParameters, NewAttributes,
};
use temporalio_common::telemetry::{PrometheusExporterOptions, TelemetryOptions, start_prometheus_metric_exporter};

/// The SDK's metrics of this process.
#[derive(Clone)]
pub struct SdkMetrics {
    meter: Arc<dyn CoreMeter>,
    exporter: SocketAddr,
    http: reqwest::Client,
    counters: Arc<Mutex<HashMap<&'static str, Counter>>>,
    /// `workflow_runs_live`: the workflow runs whose state this process holds (the SDK's count,
    /// vendor/PATCHES.md); at most the sticky cache's size once nothing leaks.
    runs_live: Gauge,
}

impl SdkMetrics {
    /// Starts the SDK's exporter on a free loopback port; `service` labels every series.
    pub fn start(service: &str) -> anyhow::Result<Self> {
        let options = PrometheusExporterOptions::builder()
            .socket_addr(SocketAddr::from(([127, 0, 0, 1], 0)))
            .global_tags([("service".to_owned(), service.to_owned())].into())
            .counters_total_suffix(true)
            .use_seconds_for_durations(true)
            .build();
        let started = start_prometheus_metric_exporter(options)?;
        let runs_live = started.meter.gauge(
            MetricParameters::builder()
                .name("workflow_runs_live")
                .description("Workflow runs whose state this process holds")
                .build(),
        );
        Ok(Self {
            runs_live,
            meter: started.meter,
            exporter: started.bound_addr,
            http: reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?,
            counters: Arc::default(),
        })
    }

    /// The SDK's telemetry options that record into this exporter.
    pub fn telemetry(&self) -> TelemetryOptions {
        TelemetryOptions::builder().metrics(self.meter.clone()).build()
    }

    /// `GET /metrics`: the exporter's answer, as it gave it.
    pub async fn scrape(&self) -> Response {
        self.runs_live.records(temporalio_workflow::live_workflow_contexts() as u64);
        let answer = async {
            let response = self.http.get(format!("http://{}/metrics", self.exporter)).send().await?;
            let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
            anyhow::Ok((content_type, response.error_for_status()?.bytes().await?))
        };
        match answer.await {
            Ok((content_type, body)) => {
                let content_type = content_type
                    .unwrap_or_else(|| header::HeaderValue::from_static("text/plain; version=0.0.4"));
                ([(header::CONTENT_TYPE, content_type)], body).into_response()
            }
            Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("the SDK's metrics are not readable now: {e}\n"))
                .into_response(),
        }
    }
}

impl activities::Tally for SdkMetrics {
    fn count(&self, name: &'static str, labels: &[(&'static str, &str)]) {
        let counter = {
            let mut counters = self.counters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            counters
                .entry(name)
                .or_insert_with(|| self.meter.counter(MetricParameters::builder().name(name).build()))
                .clone()
        };
        let labels: Vec<MetricKeyValue> = labels.iter().map(|(k, v)| MetricKeyValue::new(*k, v.to_string())).collect();
        counter.add(1, &self.meter.new_attributes(NewAttributes::from(labels)));
    }
}
