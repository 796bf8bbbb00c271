//! The manager's Shop dashboard: `GET /shop` tells how the last hour went (orders finished each
//! minute by outcome, placed-to-completed times, what waits, refusals by reason, the stock of the
//! most ordered products), for managers only; the page draws it in real Chromium and follows the
//! shop live.

use domain::OrderStatus;
use e2e::TestApp;
use e2e::browser::Browser;
use reqwest::StatusCode;
use serde_json::Value;

/// A script that sums `data-orders` over the elements `css` matches.
fn sum_orders(css: &str) -> String {
    format!("return [...document.querySelectorAll(\"{css}\")].reduce((n, e) => n + Number(e.dataset.orders), 0)")
}

#[tokio::test]
async fn the_shop_dashboard_shows_the_last_hour_to_a_manager_and_follows_it_live() {
    let app = TestApp::spawn_with(|c| c.baristas = 1).await;
    let product = app.stocked_product(4).await;
    for _ in 0..3 {
        let id = app.place_order(&product, 1, "regular").await;
        app.wait_for_status(&id, OrderStatus::Completed).await;
    }
    let too_many = app.place_order(&product, 5, "regular").await;
    app.wait_for_status(&too_many, OrderStatus::Rejected).await;
    let unknown = app.place_order("Nothing-we-sell", 1, "regular").await;
    app.wait_for_status(&unknown, OrderStatus::Rejected).await;

    let shop: Value = e2e::eventually("the dashboard counts every order that ended", || async {
        let shop: Value = app.get("/shop").await.json().await.ok()?;
        (shop["finished"]["completed"] == 3 && shop["finished"]["rejected"] == 2).then_some(shop)
    })
    .await;
    assert_eq!(shop["perMinute"].as_array().unwrap().len(), 60, "a bar for every minute of the hour");
    let per_minute: i64 = shop["perMinute"].as_array().unwrap().iter().map(|m| m["completed"].as_i64().unwrap()).sum();
    assert_eq!(per_minute, 3);
    assert_eq!(shop["refusals"]["OutOfStock"], 1);
    assert_eq!(shop["refusals"]["UnknownProduct"], 1);
    assert_eq!(shop["placedToCompleted"]["orders"], 3);
    assert!(shop["placedToCompleted"]["p50Ms"].as_f64().unwrap() > 0.0);
    assert!(shop["placedToCompleted"]["p95Ms"].as_f64() >= shop["placedToCompleted"]["p50Ms"].as_f64());
    assert_eq!(shop["waiting"], serde_json::json!({"queued": 0, "brewing": 0}));
    // The most ordered product's stock over the hour: 4 when stocked, 1 after three orders.
    let series = &shop["stock"][0];
    assert_eq!(series["productName"], product.as_str());
    let levels: Vec<i64> = series["points"].as_array().unwrap().iter().map(|p| p["qty"].as_i64().unwrap()).collect();
    assert_eq!(levels.last(), Some(&1), "{series}");
    assert!(levels.contains(&4) || levels.len() == 1, "the level before the orders: {series}");

    // Only a manager.
    let customer = app.customer("regular").await;
    let r = customer.get(format!("{}/shop", app.api)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The page: tiles and charts drawn from it, then kept live.
    let browser = Browser::start().await;
    let page = browser.open(&app.api, 1400).await;
    page.sign_in("admin", app.stack.config.admin_password.expose()).await;
    page.click("#nav a[data-view=shop]").await;
    page.wait_text("#shop-finished", "3 completed · 2 rejected").await;
    page.wait_text("#shop-waiting", "0 queued · 0 brewing").await;
    assert!(page.text("#shop-times").await.contains("(3 orders)"));
    assert_eq!(page.run(&sum_orders("#chart-outcomes rect.completed")).await, 3);
    assert_eq!(page.run(&sum_orders("#chart-refusals rect.refused")).await, 2);
    let line = format!("return document.querySelectorAll(\"#chart-stock polyline[data-product='{product}']\").length");
    assert_eq!(page.run(&line).await, 1, "the product's stock is drawn");

    page.run("window.notReloaded = true; return null").await;
    app.restock(&product, 5).await;
    let id = app.place_order(&product, 1, "regular").await;
    app.wait_for_status(&id, OrderStatus::Completed).await;
    page.wait_text("#shop-finished", "4 completed").await;
    assert_eq!(page.run("return window.notReloaded === true").await, true, "updated without a reload");
    page.wait_text("#stock-legend", &format!("{product} 5")).await;
    // The legend tells the products apart: each key wears its line's colour.
    let colours = format!(
        "return [getComputedStyle(document.querySelector(\"#chart-stock polyline[data-product='{product}']\")).stroke, \
         getComputedStyle(document.querySelector('#stock-legend .key'), '::before').backgroundColor]"
    );
    let colours = page.run(&colours).await;
    assert_eq!(colours[0], colours[1], "the legend's key and its line: {colours}");
    page.screenshot("shop").await;
    page.close().await;
}
