//! The memory ceiling (`COFFEESHOP_MAX_RSS_MIB`): a worker past it stops as on SIGTERM (readiness
//! 503 while it finishes its in-flight work) and exits with its own status, for its supervisor to
//! restart and count; no order is lost or doubled meanwhile. Here a second cafe worker gets a
//! ceiling it is already past, read 3 s after it starts, while orders stream through both.

use std::time::{Duration, Instant};

use domain::OrderStatus;
use e2e::TestApp;

#[tokio::test]
async fn a_worker_past_its_memory_ceiling_drains_and_exits_with_its_own_status_losing_no_order() {
    let mut app = TestApp::spawn_with(|c| c.baristas = 4).await;
    let product = app.stocked_product(1_000).await;

    let env = &mut app.stack.config.extra_env;
    env.push(("COFFEESHOP_MAX_RSS_MIB".into(), "1".into()));
    env.push(("COFFEESHOP_MEMORY_CHECK".into(), "3s".into()));
    let (mut capped, port) = app.stack.add_instance("cafe").await.expect("a second cafe worker starts");
    app.stack.config.extra_env.truncate(app.stack.config.extra_env.len() - 2);
    let log = app.stack.config.logs().join(format!("cafe-{port}.log"));
    let readyz = format!("http://127.0.0.1:{port}/readyz");
    let http = reqwest::Client::builder().timeout(Duration::from_millis(500)).build().unwrap();

    // Orders stream in (so that the capped worker has work when it passes its ceiling) and its
    // readiness is asked between them, until it has exited.
    let mut orders = Vec::new();
    let mut answers_after_the_ceiling = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = capped.exited() {
            break status;
        }
        assert!(Instant::now() < deadline, "the capped worker did not exit within 60 s");
        orders.push(app.place_order(&product, 1, "capped-customer").await);
        let passed = std::fs::read_to_string(&log).unwrap_or_default().contains("memory passed COFFEESHOP_MAX_RSS_MIB");
        if let Ok(r) = http.get(&readyz).send().await
            && passed
        {
            answers_after_the_ceiling.push(r.status().as_u16());
        }
    };
    assert_eq!(status.code(), Some(workers::OUTGREW_MEMORY), "the capped worker exits with its own status");
    assert!(
        answers_after_the_ceiling.iter().all(|s| *s == 503),
        "readiness while draining: {answers_after_the_ceiling:?}"
    );
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("stopped: memory ceiling"), "the worker says why it stopped:\n{log}");

    // Every order completes, and takes its one cup, no more.
    for id in &orders {
        assert_eq!(app.wait_for_status(id, OrderStatus::Completed).await.status, OrderStatus::Completed);
    }
    app.wait_for_stock(&product, 1_000 - orders.len() as i64).await;
}
