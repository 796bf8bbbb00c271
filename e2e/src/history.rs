//! What one workflow's history cost Temporal, counted from the history as the `temporal` CLI
//! shows it (`temporal workflow show -o json`): its events, its workflow tasks, and its billable
//! actions by type, counted by the rules Temporal Cloud documents for its bill:
//!
//! - the workflow started (once);
//! - an activity started, once per attempt;
//! - local activities, once per workflow task that ran any;
//! - a timer started;
//! - a search-attribute upsert, except those given at the start and except the SDK's own
//!   `TemporalChangeVersion` (written with a `patched()` marker);
//! - an update received, a signal received.
//!
//! Queries are billable too but leave no trace in the history; the benchmark counts them apart.
//! The cost of an order is the same whether the history was read in a test or in the bench.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// One history's cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cost {
    pub events: usize,
    pub workflow_tasks: usize,
    /// Billable actions by type (the keys of [`ACTIONS`]).
    pub actions: BTreeMap<&'static str, usize>,
}

/// The billable action types, in the order the bench prints them.
pub const ACTIONS: [&str; 7] = ["start", "activity", "local activities", "timer", "upsert", "update", "signal"];

impl Cost {
    /// Counts `events` (the `events` array of the CLI's JSON).
    pub fn of(events: &[Value]) -> Self {
        let kind = |e: &Value| e["eventType"].as_str().unwrap_or_default().trim_start_matches("EVENT_TYPE_").to_owned();
        let mut actions: BTreeMap<&'static str, usize> = ACTIONS.iter().map(|a| (*a, 0)).collect();
        let mut tasks_with_local_activities = BTreeSet::new();
        let mut workflow_tasks = 0;
        for e in events {
            let action = match kind(e).as_str() {
                "WORKFLOW_EXECUTION_STARTED" => Some(("start", 1)),
                "WORKFLOW_TASK_COMPLETED" => {
                    workflow_tasks += 1;
                    None
                }
                "ACTIVITY_TASK_STARTED" => {
                    let attempt = &e["activityTaskStartedEventAttributes"]["attempt"];
                    Some(("activity", attempt.as_u64().unwrap_or(1) as usize))
                }
                "MARKER_RECORDED" => {
                    let marker = &e["markerRecordedEventAttributes"];
                    if marker["markerName"] == "core_local_activity" {
                        tasks_with_local_activities.insert(marker["workflowTaskCompletedEventId"].to_string());
                    }
                    None
                }
                "TIMER_STARTED" => Some(("timer", 1)),
                "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES" => {
                    let fields = &e["upsertWorkflowSearchAttributesEventAttributes"]["searchAttributes"]["indexedFields"];
                    let ours = fields
                        .as_object()
                        .is_some_and(|f| f.keys().any(|k| k != "TemporalChangeVersion"));
                    ours.then_some(("upsert", 1))
                }
                "WORKFLOW_EXECUTION_UPDATE_ACCEPTED" => Some(("update", 1)),
                "WORKFLOW_EXECUTION_SIGNALED" => Some(("signal", 1)),
                _ => None,
            };
            if let Some((name, n)) = action {
                *actions.entry(name).or_default() += n;
            }
        }
        actions.insert("local activities", tasks_with_local_activities.len());
        Self { events: events.len(), workflow_tasks, actions }
    }

    /// Every billable action, all types together.
    pub fn billable(&self) -> usize {
        self.actions.values().sum()
    }

    /// The actions by type as one line: `1 start, 4 activity, …` (types that cost nothing left out).
    pub fn by_type(&self) -> String {
        ACTIONS
            .iter()
            .filter_map(|a| self.actions.get(a).filter(|n| **n > 0).map(|n| format!("{n} {a}")))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::Cost;

    fn event(kind: &str, attributes: Value) -> Value {
        let mut e = json!({ "eventType": format!("EVENT_TYPE_{kind}") });
        if let Some((name, value)) = attributes.as_object().and_then(|a| a.iter().next()) {
            e[name] = value.clone();
        }
        e
    }

    fn task(completed_id: u64) -> Vec<Value> {
        vec![
            event("WORKFLOW_TASK_SCHEDULED", json!({})),
            event("WORKFLOW_TASK_STARTED", json!({})),
            json!({ "eventId": completed_id.to_string(), "eventType": "EVENT_TYPE_WORKFLOW_TASK_COMPLETED" }),
        ]
    }

    fn local_activity(task: u64) -> Value {
        event(
            "MARKER_RECORDED",
            json!({ "markerRecordedEventAttributes": {
                "markerName": "core_local_activity", "workflowTaskCompletedEventId": task.to_string() } }),
        )
    }

    fn upsert(name: &str) -> Value {
        event(
            "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES",
            json!({ "upsertWorkflowSearchAttributesEventAttributes": {
                "searchAttributes": { "indexedFields": { name: {} } } } }),
        )
    }

    #[test]
    fn each_action_type_is_counted_by_the_bills_rules() {
        let mut events = vec![event("WORKFLOW_EXECUTION_STARTED", json!({}))];
        events.extend(task(4));
        events.push(event("MARKER_RECORDED", json!({ "markerRecordedEventAttributes": { "markerName": "core_patch" } })));
        events.push(upsert("TemporalChangeVersion"));
        events.push(local_activity(4));
        events.push(local_activity(4));
        events.push(event("ACTIVITY_TASK_SCHEDULED", json!({})));
        events.push(event("ACTIVITY_TASK_STARTED", json!({ "activityTaskStartedEventAttributes": { "attempt": 3 } })));
        events.extend(task(12));
        events.push(upsert("OrderStatus"));
        events.push(event("TIMER_STARTED", json!({})));
        events.push(local_activity(12));
        events.push(event("WORKFLOW_EXECUTION_UPDATE_ACCEPTED", json!({})));
        events.push(event("WORKFLOW_EXECUTION_SIGNALED", json!({})));

        let cost = Cost::of(&events);

        assert_eq!(cost.events, events.len());
        assert_eq!(cost.workflow_tasks, 2);
        assert_eq!(
            cost.by_type(),
            "1 start, 3 activity, 2 local activities, 1 timer, 1 upsert, 1 update, 1 signal",
            "three attempts of one activity are three actions; two local activities in one task are one; \
             the patch's TemporalChangeVersion is free"
        );
        assert_eq!(cost.billable(), 10);
    }
}
