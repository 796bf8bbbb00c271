//! One trace per order: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, the API, the four workers and
//! the Temporal SDK's plugin export spans that join into one trace, from the REST request through
//! the workflow and each activity to the database work, continuing the caller's `traceparent`;
//! a worker that replays the order's history exports none of its spans again.

use std::collections::HashSet;

use domain::{OrderStatus, order_workflow_id};
use e2e::collector::{Collector, ExportedSpan};
use e2e::{TestApp, eventually, order_id_of};
use reqwest::StatusCode;
use serde_json::json;

/// The one span of `trace` named `name` exported by `service`.
fn one<'a>(trace: &'a [ExportedSpan], service: &str, name: &str) -> &'a ExportedSpan {
    let found: Vec<_> = trace.iter().filter(|s| s.service == service && s.name == name).collect();
    assert_eq!(found.len(), 1, "one {name} span from {service} in:\n{}", listing(trace));
    found[0]
}

/// The span `child`'s parent, which must be in the trace.
fn parent<'a>(trace: &'a [ExportedSpan], child: &ExportedSpan) -> &'a ExportedSpan {
    trace
        .iter()
        .find(|s| s.span_id == child.parent_span_id)
        .unwrap_or_else(|| panic!("the parent of {} ({}) is in the trace:\n{}", child.name, child.service, listing(trace)))
}

fn listing(trace: &[ExportedSpan]) -> String {
    trace
        .iter()
        .map(|s| format!("  {} {} {} <- {}\n", s.service, s.name, s.span_id, s.parent_span_id))
        .collect()
}

#[tokio::test]
async fn one_orders_spans_from_every_process_share_one_trace_with_the_right_parents() {
    let collector = Collector::start().await;
    let endpoint = collector.endpoint.clone();
    let mut app = TestApp::spawn_with(|c| {
        c.baristas = 1;
        // The log level decides the log lines, not which spans a trace has.
        c.rust_log = "warn".to_owned();
        c.extra_env.push(("OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(), endpoint));
        c.extra_env.push(("OTEL_BSP_SCHEDULE_DELAY".to_owned(), "100".to_owned()));
    })
    .await;
    let product = app.stocked_product(5).await;

    // The caller's own trace, in `traceparent`: the API continues it.
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let callers_span = "00f067aa0ba902b7";
    let customer = app.customer("traced").await;
    let r = customer
        .post(format!("{}/orders", app.api))
        .header("traceparent", format!("00-{trace_id}-{callers_span}-01"))
        .json(&json!({"productName": product, "qty": 1, "customerId": "traced"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let id = order_id_of(&r.json().await.unwrap());
    app.wait_for_status(&id, OrderStatus::Completed).await;

    let trace = eventually("the order's spans arrive from every process, its workflow's last", || async {
        let trace = collector.trace(&trace_id);
        let services: HashSet<_> = trace.iter().map(|s| s.service.as_str()).collect();
        let every_process = ["api", "cafe", "warehouse", "kitchen", "customercenter"].iter().all(|s| services.contains(s));
        let workflow_ended = trace.iter().any(|s| s.name == "RunWorkflow:OrderWorkflow");
        let barista_done = trace.iter().any(|s| s.name == "barista");
        let completion_projected = trace.iter().any(|s| s.name == "db.project_order" && s.attributes["status"] == "Completed");
        (every_process && workflow_ended && barista_done && completion_projected).then_some(trace)
    })
    .await;

    // REST request -> client call -> workflow.
    let request = one(&trace, "api", "request");
    assert_eq!(request.parent_span_id, callers_span, "the API continues the caller's trace");
    let start = one(&trace, "api", "StartWorkflow:OrderWorkflow");
    assert_eq!(parent(&trace, start).span_id, request.span_id);
    let workflow = one(&trace, "cafe", "RunWorkflow:OrderWorkflow");
    assert_eq!(parent(&trace, workflow).span_id, start.span_id);

    // Each step: scheduled by the workflow (cafe), run on its worker, its database work under it.
    for (worker, activity, db) in [("warehouse", "reserveStock", "db.reserve"), ("kitchen", "startProduction", "db.open_ticket")] {
        let run = one(&trace, worker, &format!("RunActivity:{activity}"));
        let scheduled = parent(&trace, run);
        assert_eq!((scheduled.service.as_str(), scheduled.name.clone()), ("cafe", format!("StartActivity:{activity}")));
        assert_eq!(parent(&trace, scheduled).span_id, workflow.span_id, "{activity} is scheduled by the order's run");
        assert_eq!(parent(&trace, one(&trace, worker, db)).span_id, run.span_id, "{db} is {activity}'s work");
    }

    // Every projection (quick changes collapse into one, so the first and the last are sure): the
    // cafe's projectOrder, the customercenter's ingest under it, the write.
    let written: Vec<_> = trace.iter().filter(|s| s.name == "db.project_order").collect();
    let statuses: HashSet<_> = written.iter().map(|s| s.attributes["status"].as_str()).collect();
    for status in ["Ordered", "Completed"] {
        assert!(statuses.contains(status), "the {status} projection is in the order's trace:\n{}", listing(&trace));
    }
    for write in written {
        let ingest = parent(&trace, write);
        assert_eq!((ingest.service.as_str(), ingest.name.as_str()), ("customercenter", "ingest projection"));
        let project = parent(&trace, ingest);
        assert_eq!((project.service.as_str(), project.name.as_str()), ("cafe", "RunActivity:projectOrder"));
    }

    // The barista's start and completion (updates from the kitchen worker) continue the trace the
    // ticket kept.
    let baristas: HashSet<_> =
        trace.iter().filter(|s| s.service == "kitchen" && s.name == "barista").map(|s| &s.span_id).collect();
    for update in ["startBrewing", "completeProduction"] {
        let sent: Vec<_> = trace.iter().filter(|s| s.name == format!("StartWorkflowUpdate:{update}")).collect();
        assert!(!sent.is_empty(), "the barista's {update} is in the trace:\n{}", listing(&trace));
        for s in sent {
            assert!(baristas.contains(&s.parent_span_id), "{update} is sent by a barista");
        }
        let handled = one(&trace, "cafe", &format!("HandleUpdate:{update}"));
        assert_eq!(parent(&trace, handled).name, format!("StartWorkflowUpdate:{update}"));
    }

    // Every span is about this order: it names it, or (the SDK's spans for an update's handlers,
    // which name only the update) its parent does.
    let workflow_id = order_workflow_id(&id);
    let names_the_order = |span: &ExportedSpan| {
        span.attributes.get("order_id") == Some(&id.to_string())
            || span.attributes.get("temporalWorkflowID") == Some(&workflow_id)
    };
    for span in &trace {
        assert!(
            names_the_order(span) || names_the_order(parent(&trace, span)),
            "{} ({}) carries the order's id: {:?}",
            span.name,
            span.service,
            span.attributes
        );
    }

    // A fresh cafe worker answers a query by replaying the whole history: it exports the query's
    // span, and none of the workflow's spans a second time. (The run's span ends last: every span
    // the cafe made for the order is in by now.)
    let cafe = |trace: &[ExportedSpan]| -> HashSet<String> {
        trace
            .iter()
            .filter(|s| s.service == "cafe" && !s.name.starts_with("HandleQuery:"))
            .map(|s| s.span_id.clone())
            .collect()
    };
    let before = cafe(&trace);
    app.stack.restart_gracefully("cafe").await.expect("the cafe worker restarts");
    app.query(&id).await.expect("the order answers a query");
    eventually("the query's span arrives", || async {
        collector.trace(&trace_id).iter().any(|s| s.name.starts_with("HandleQuery:")).then_some(())
    })
    .await;
    let after = collector.trace(&trace_id);
    assert_eq!(cafe(&after), before, "the replay exported none of the workflow's spans again:\n{}", listing(&after));
    let ids: HashSet<_> = after.iter().map(|s| &s.span_id).collect();
    assert_eq!(ids.len(), after.len(), "no span is exported twice");
}
