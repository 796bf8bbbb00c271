//! Every worker serves the Temporal SDK's metrics on its health port, `GET /metrics`, in
//! Prometheus text: after a few orders each shows the work it did (workflow tasks on the cafe,
//! activities on the others) and its task slots; beside them the service's own counts (orders
//! finished by outcome on the cafe, reservations refused by reason on the warehouse).

use domain::OrderStatus;
use e2e::{TestApp, eventually};
use stack::WORKERS;

/// The sum of every sample of `metric` (any labels) in a Prometheus text page.
fn total(page: &str, metric: &str) -> f64 {
    with_labels(page, metric, &[])
}

/// The sum of the samples of `metric` that carry every one of `labels` (`key="value"`).
fn with_labels(page: &str, metric: &str, labels: &[&str]) -> f64 {
    page.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.strip_prefix(metric).is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' ')))
        .filter(|l| labels.iter().all(|label| l.contains(label)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn page(url: &str) -> Option<String> {
    reqwest::get(url).await.ok()?.text().await.ok()
}

#[tokio::test]
async fn each_worker_serves_the_sdks_metrics_and_they_count_the_orders_work() {
    let app = TestApp::spawn_with(|c| c.baristas = 2).await;
    let product = app.stocked_product(10).await;
    for _ in 0..3 {
        let id = app.place_order(&product, 1, "measured").await;
        app.wait_for_status(&id, OrderStatus::Completed).await;
    }
    let unknown = app.place_order("Nothing-we-sell", 1, "measured").await;
    app.wait_for_status(&unknown, OrderStatus::Rejected).await;
    let port = |worker: &str| app.stack.config.health_ports[WORKERS.iter().position(|w| *w == worker).unwrap()];
    let (cafe, warehouse) = (
        format!("http://127.0.0.1:{}/metrics", port("cafe")),
        format!("http://127.0.0.1:{}/metrics", port("warehouse")),
    );
    eventually("the cafe counts the orders that ended, by outcome", || async {
        let page = page(&cafe).await?;
        let completed = with_labels(&page, "coffeeshop_orders_finished_total", &["outcome=\"Completed\"", "reason=\"none\""]);
        let rejected =
            with_labels(&page, "coffeeshop_orders_finished_total", &["outcome=\"Rejected\"", "reason=\"UnknownProduct\""]);
        (completed == 3.0 && rejected == 1.0).then_some(())
    })
    .await;
    eventually("the warehouse counts the reservation it refused, by reason", || async {
        let page = page(&warehouse).await?;
        (with_labels(&page, "coffeeshop_reservations_refused_total", &["reason=\"UnknownProduct\""]) == 1.0).then_some(())
    })
    .await;
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
            let page = page(&url).await?;
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
