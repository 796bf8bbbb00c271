//! `/metrics` in Prometheus' text format: requests by route, method and status with latency
//! histograms, the circuit breaker's state, commands shed, and orders placed.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pub breaker_open: IntGauge,
    pub orders_placed: IntCounter,
    pub commands_shed: IntCounter,
    pub orders_read_from_workflow: IntCounter,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("coffeeshop".into()), None).expect("a valid prefix");
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route, method and status"),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route and method",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["route", "method"],
        )
        .expect("valid metric");
        let breaker_open = IntGauge::new(
            "temporal_circuit_open",
            "1 while the circuit breaker in front of Temporal is open",
        )
        .expect("valid metric");
        let orders_placed =
            IntCounter::new("orders_placed_total", "Orders accepted (new workflows started)").expect("valid metric");
        let commands_shed = IntCounter::new(
            "commands_shed_total",
            "Commands refused because too many were in flight",
        )
        .expect("valid metric");
        let orders_read_from_workflow = IntCounter::new(
            "orders_read_from_workflow_total",
            "Order reads the view could not answer yet, answered by the workflow's status query",
        )
        .expect("valid metric");
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(breaker_open.clone()),
            Box::new(orders_placed.clone()),
            Box::new(commands_shed.clone()),
            Box::new(orders_read_from_workflow.clone()),
        ] {
            registry.register(c).expect("each metric registers once");
        }
        Self {
            registry,
            requests,
            latency,
            breaker_open,
            orders_placed,
            commands_shed,
            orders_read_from_workflow,
        }
    }

    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding cannot fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Middleware: counts and times every request under its route template (not its raw path, so
/// order ids never become label values).
pub async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let m = &metrics;
    m.latency
        .with_label_values(&[&route, &method])
        .observe(started.elapsed().as_secs_f64());
    m.requests
        .with_label_values(&[&route, &method, response.status().as_str()])
        .inc();
    response
}
