//! One telemetry setup for every process.
//!
//! **Logs:** `RUST_LOG` filter (default `info`); lines as text (in colour only on a terminal, so
//! log files stay plain) or, with `COFFEESHOP_LOG_FORMAT=json`, one JSON object a line for log
//! shippers. Spans and events carry `order_id`, so one order can be followed across the API and
//! every worker.
//!
//! **Traces:** with `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set,
//! the same spans become OpenTelemetry spans exported over OTLP/gRPC, and the Temporal SDK's
//! plugin ([`temporal_plugin`]) carries the trace in Temporal's headers from the API's client
//! calls to the workflow and on to each activity: one order, one trace. `OTEL_SERVICE_NAME`
//! names the process (default: the service's own name) and `OTEL_TRACES_SAMPLER` /
//! `OTEL_TRACES_SAMPLER_ARG` choose what is kept, as the OpenTelemetry SDK reads them. Unset,
//! nothing is set up: no layer, no plugin, no exporter.

use std::io::IsTerminal;
use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use temporalio_sdk::SimplePlugin;
use temporalio_sdk::opentelemetry::{OpenTelemetryPlugin, WorkflowIdGenerator, WorkflowSpanProcessor};
use tracing::Level;
use tracing_subscriber::{EnvFilter, Registry};
use tracing_subscriber::filter::{FilterExt as _, Targets, filter_fn};
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The variable that picks the log format: `text` (the default) or `json`.
pub const LOG_FORMAT_VAR: &str = "COFFEESHOP_LOG_FORMAT";

/// The variables that turn traces on: where the OTLP collector listens.
const ENDPOINT_VARS: [&str; 2] = ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"];

/// The tracer provider, once traces are on: the Temporal plugin's tracer comes from it, and it is
/// flushed before the process ends.
static TRACES: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Flushes the spans still buffered when dropped: keep it for the life of the process.
#[must_use = "spans still buffered are flushed when this is dropped"]
pub struct Telemetry(());

impl Drop for Telemetry {
    fn drop(&mut self) {
        flush();
    }
}

/// Sets up the process's logs and, when an OTLP endpoint is configured, its traces; `service` is
/// the name its lines and spans carry.
pub fn init(service: &'static str) -> Telemetry {
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let format = std::env::var(LOG_FORMAT_VAR).unwrap_or_default();
    let lines = tracing_subscriber::fmt::layer().with_target(false);
    let lines = match format.as_str() {
        "json" => lines.json().with_current_span(true).with_span_list(false).boxed(),
        _ => lines.with_ansi(std::io::stdout().is_terminal()).boxed(),
    };
    let traces = if traces_wanted() {
        tracer_provider(service)
            .inspect_err(|e| eprintln!("traces are off: the OTLP exporter could not be set up: {e}"))
            .ok()
    } else {
        None
    };
    // Each layer has its own filter: RUST_LOG decides the lines, not which spans a trace has.
    let mut layers: Vec<Box<dyn tracing_subscriber::Layer<Registry> + Send + Sync>> = vec![lines.with_filter(filter).boxed()];
    if let Some(provider) = &traces {
        layers.push(tracing_opentelemetry::layer().with_tracer(provider.tracer(service)).with_filter(our_spans()).boxed());
    }
    let _ = tracing_subscriber::registry().with(layers).try_init();
    if let Some(provider) = traces {
        let _ = TRACES.set(provider);
        tracing::info!(service, "exporting traces over OTLP");
    }
    if !matches!(format.as_str(), "" | "text" | "json") {
        tracing::warn!("{LOG_FORMAT_VAR}={format:?} is not text or json; writing text");
    }
    tracing::info!(service, version = env!("CARGO_PKG_VERSION"), "starting");
    Telemetry(())
}

/// What becomes an OpenTelemetry span: our crates' spans at `info` and above (a request, a
/// projection, a barista's work, a database call), whatever `RUST_LOG` says; not their events
/// (those are the log lines) nor the SDK's internal spans (its plugin makes the Temporal ones).
fn our_spans() -> impl tracing_subscriber::layer::Filter<Registry> {
    const OURS: [&str; 10] =
        ["api", "platform", "activities", "view", "workers", "order_commands", "cafe", "warehouse", "kitchen", "customercenter"];
    Targets::new()
        .with_targets(OURS.map(|target| (target, Level::INFO)))
        .and(filter_fn(|meta| meta.is_span()))
}

fn traces_wanted() -> bool {
    ENDPOINT_VARS.iter().any(|var| std::env::var(var).is_ok_and(|v| !v.trim().is_empty()))
}

/// Spans batched to the OTLP endpoint. Span ids come from [`WorkflowIdGenerator`] and each span
/// passes [`WorkflowSpanProcessor`], so a workflow replayed on another worker gets the same ids
/// and exports nothing twice.
fn tracer_provider(service: &'static str) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder().with_tonic().build()?;
    let resource = match std::env::var("OTEL_SERVICE_NAME") {
        Ok(name) if !name.trim().is_empty() => Resource::builder().build(),
        _ => Resource::builder().with_service_name(service).build(),
    };
    Ok(SdkTracerProvider::builder()
        .with_id_generator(WorkflowIdGenerator::default())
        .with_span_processor(WorkflowSpanProcessor::new(BatchSpanProcessor::builder(exporter).build()))
        .with_resource(resource)
        .build())
}

/// The Temporal SDK's tracing plugin for a client (and the workers made from it), when traces
/// are on: client calls, workflow runs and handlers, and activities become spans, and the trace
/// travels in Temporal's headers.
pub fn temporal_plugin() -> Option<SimplePlugin> {
    TRACES
        .get()
        .map(|provider| OpenTelemetryPlugin::builder().tracer(provider.tracer("temporalio-sdk")).build())
}

/// Sends the spans still buffered (before the process ends or replaces itself).
pub fn flush() {
    if let Some(provider) = TRACES.get() {
        let _ = provider.force_flush();
    }
}

/// The trace an incoming request belongs to, from its `traceparent` header (W3C Trace Context):
/// the parent of the span that serves it. Empty when there is none or traces are off.
fn parent_of(headers: &HeaderMap) -> opentelemetry::Context {
    if TRACES.get().is_none() {
        return opentelemetry::Context::new();
    }
    TraceContextPropagator::new().extract(&Headers(headers))
}

/// Makes the trace a request's caller sent (its `traceparent`) the parent of `span`, the span
/// that serves the request.
pub fn continue_trace(span: &tracing::Span, headers: &HeaderMap) {
    if TRACES.get().is_some() {
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        let _ = span.set_parent(parent_of(headers));
    }
}

/// Makes the trace `traceparent` names (one kept with the work, say) the parent of `span`.
pub fn continue_trace_from(span: &tracing::Span, traceparent: Option<&str>) {
    let mut headers = HeaderMap::new();
    if let Some(value) = traceparent.and_then(|v| HeaderValue::try_from(v).ok()) {
        headers.insert(TRACEPARENT, value);
    }
    continue_trace(span, &headers);
}

/// The current span's `traceparent`, to keep with work another process picks up later; `None`
/// when traces are off.
pub fn traceparent() -> Option<String> {
    outgoing_headers().get(TRACEPARENT).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

const TRACEPARENT: &str = "traceparent";

/// The headers that carry the current span's trace to another service over HTTP (`traceparent`);
/// empty when traces are off.
pub fn outgoing_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    if TRACES.get().is_some() {
        // The span being served: a tracing span entered, or the SDK's span around an activity.
        let context = opentelemetry::Context::current();
        TraceContextPropagator::new().inject_context(&context, &mut HeadersMut(&mut headers));
    }
    headers
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct HeadersMut<'a>(&'a mut HeaderMap);

impl Injector for HeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(key), HeaderValue::try_from(value)) {
            self.0.insert(name, value);
        }
    }
}
