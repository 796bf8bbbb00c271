//! A coffee chain, its first part: the owner opens shops, a manager hires for their own shop, and
//! staff act only on their own shop (every route that names no shop acts on `main`).

use e2e::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn signed_in(app: &TestApp, name: &str) -> reqwest::Client {
    e2e::signed_in_client(&app.api, name, &format!("{name}-password")).await
}

#[tokio::test]
async fn the_owner_opens_shops_and_staff_act_only_on_their_own_shop() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(10).await;
    // The first admin is the chain's owner.
    let me: Value = app.get("/auth/me").await.json().await.unwrap();
    assert_eq!(me["role"], "owner");

    let r = app.post("/shops", json!({"shopId": "gangnam", "name": "Gangnam"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app.post("/shops", json!({"shopId": "gangnam", "name": "Again"})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["title"], "The shop exists");
    let r = app.post("/shops", json!({"shopId": "Gang Nam", "name": "Bad"})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let shops: Value = reqwest::get(format!("{}/shops", app.api)).await.unwrap().json().await.unwrap();
    assert_eq!(
        shops,
        json!([{"shopId": "gangnam", "name": "Gangnam"}, {"shopId": "main", "name": "Main"}]),
        "anyone lists the shops"
    );

    // The owner hires a manager for gangnam; that manager hires for gangnam only.
    let r = app
        .post("/staff", json!({"name": "gina", "password": "gina-password", "role": "manager", "shopId": "gangnam"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.json::<Value>().await.unwrap()["shopId"], "gangnam");
    let gina = signed_in(&app, "gina").await;
    let hire = |body: Value| gina.post(format!("{}/staff", app.api)).json(&body).send();
    let r = hire(json!({"name": "gus", "password": "gus-password", "role": "barista"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "her own shop by default");
    assert_eq!(r.json::<Value>().await.unwrap()["shopId"], "gangnam");
    let r = hire(json!({"name": "mo", "password": "mo-password", "role": "barista", "shopId": "main"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "not another shop's staff");
    let r = app
        .post("/staff", json!({"name": "nobody", "password": "nobody-password", "role": "barista", "shopId": "nowhere"}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "a shop that does not exist");
    let staff: Value = gina.get(format!("{}/staff", app.api)).send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> = staff.as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["gina", "gus"], "a manager sees her own shop's staff");
    let everyone: Value = app.get("/staff").await.json().await.unwrap();
    assert!(everyone.as_array().unwrap().len() >= 3, "the owner sees the chain's: {everyone}");

    // gangnam's staff on main's stock, restocks, board and dashboard: 403, and nothing changes.
    let gus = signed_in(&app, "gus").await;
    let r = gina
        .post(format!("{}/stocks", app.api))
        .json(&json!({"productName": product, "qty": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    app.wait_for_stock(&product, 10).await;
    for (who, path) in [(&gina, "/stocks/restocks"), (&gina, "/shop"), (&gus, "/kitchen/tickets?status=Queued")] {
        let r = who.get(format!("{}{path}", app.api)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    // ... and main's orders are not theirs to read; the owner reads them.
    let id = app.place_order(&product, 1, "regular").await;
    let r = gus.get(format!("{}/orders/{id}", app.api)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = gus.post(format!("{}/kitchen/tickets/{id}/start", app.api)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.get(&format!("/orders/{id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
}
