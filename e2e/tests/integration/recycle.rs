//! A worker whose memory has grown starts afresh without losing or doubling an order: it finishes
//! its in-flight tasks, replaces itself with a fresh copy of its program (same process id), and
//! polls again. Here every worker may grow by only a tenth of a MiB, so the workers start afresh
//! again and again while orders stream through.

use std::collections::HashMap;

use domain::OrderStatus;
use e2e::{TestApp, eventually};
use stack::WORKERS;

fn times_started_afresh(app: &TestApp, worker: &str) -> usize {
    let log = std::fs::read_to_string(app.stack.config.logs().join(format!("{worker}.log"))).unwrap_or_default();
    log.matches("starting afresh").count()
}

#[tokio::test]
async fn workers_that_outgrow_their_memory_start_afresh_and_every_order_completes_once() {
    let app = TestApp::spawn_with(|c| {
        c.baristas = 4;
        c.extra_env.push(("COFFEESHOP_RECYCLE_GROWTH_MIB".into(), "0.1".into()));
        c.extra_env.push(("COFFEESHOP_RECYCLE_CHECK".into(), "1s".into()));
    })
    .await;
    let pids_before: HashMap<String, u32> = app.stack.pids().into_iter().collect();
    let product = app.stocked_product(1_000).await;

    // Orders stream in until the cafe worker (which hosts the orders' workflows) has started
    // afresh twice and the warehouse and kitchen workers (their steps) once, so that some orders
    // were in flight across each restart.
    let restarted = |app: &TestApp| {
        times_started_afresh(app, "cafe") >= 2
            && times_started_afresh(app, "warehouse") >= 1
            && times_started_afresh(app, "kitchen") >= 1
    };
    let mut orders = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !restarted(&app) {
        assert!(std::time::Instant::now() < deadline, "the workers never started afresh");
        let mut round = Vec::new();
        for _ in 0..4 {
            round.push(app.place_order(&product, 1, "recycled-customer").await);
        }
        for id in &round {
            let view = app.wait_for_status(id, OrderStatus::Completed).await;
            assert_eq!(view.status, OrderStatus::Completed);
        }
        orders.extend(round);
    }
    // Each order took its one cup, no more.
    app.wait_for_stock(&product, 1_000 - orders.len() as i64).await;

    let pids_after: HashMap<String, u32> = app.stack.pids().into_iter().collect();
    for worker in WORKERS {
        assert_eq!(pids_before[worker], pids_after[worker], "{worker} starts afresh in the same process");
        let port = app.stack.config.health_ports[WORKERS.iter().position(|w| *w == worker).unwrap()];
        eventually(&format!("{worker} ready again"), || async move {
            let r = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await.ok()?;
            r.status().is_success().then_some(())
        })
        .await;
    }
}
