//! Every worker serves the Temporal SDK's metrics on its health port, `GET /metrics`, in
//! Prometheus text: after a few orders each shows the work it did (workflow tasks on the cafe,
//! activities on the others) and its task slots.

use domain::OrderStatus;
use e2e::{TestApp, eventually};
use stack::WORKERS;

/// The sum of every sample of `metric` (any labels) in a Prometheus text page.
fn total(page: &str, metric: &str) -> f64 {
    page.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.strip_prefix(metric).is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' ')))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn each_worker_serves_the_sdks_metrics_and_they_count_the_orders_work() {
    let app = TestApp::spawn_with(|c| c.baristas = 2).await;
    let product = app.stocked_product(10).await;
    for _ in 0..3 {
        let id = app.place_order(&product, 1, "measured").await;
        app.wait_for_status(&id, OrderStatus::Completed).await;
    }
    for (i, worker) in WORKERS.iter().enumerate() {
        let url = format!("http://127.0.0.1:{}/metrics", app.stack.config.health_ports[i]);
        // What each worker did for the orders (and the restock): the cafe ran their workflow tasks,
        // the others their activities.
        let did = if *worker == "cafe" {
            "temporal_workflow_task_execution_latency_count"
        } else {
            "temporal_activity_execution_latency_count"
        };
        let page = eventually(&format!("{worker}'s /metrics counts its work"), || async {
            let r = reqwest::get(&url).await.ok()?;
            let page = r.text().await.ok()?;
            (total(&page, did) > 0.0).then_some(page)
        })
        .await;
        assert!(page.contains(&format!("service=\"{worker}\"")), "{worker}'s series carry its name");
        assert!(
            page.contains("temporal_worker_task_slots_available"),
            "{worker} shows its task slots:\n{page}"
        );
        assert!(total(&page, "temporal_num_pollers") > 0.0, "{worker} shows its pollers");
    }
}
