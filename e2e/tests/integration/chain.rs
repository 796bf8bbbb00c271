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

/// A `RestockWorkflow` through the API at `shop`, as its manager (or the owner) sends it; the
/// level it left.
async fn restock_at(client: &reqwest::Client, api: &str, shop: &str, product: &str, qty: i64, price: &str) -> Value {
    let body = json!({"shopId": shop, "productName": product, "qty": qty, "price": price});
    let key = uuid::Uuid::now_v7().to_string();
    e2e::eventually(&format!("the restock of {product} at {shop}"), || async {
        let r = client.post(format!("{api}/stocks")).header("Idempotency-Key", &key).json(&body).send().await.unwrap();
        assert!(r.status().is_success(), "restocking at {shop}: {}", r.status());
        let level: Value = r.json().await.unwrap();
        level["qty"].is_i64().then_some(level)
    })
    .await
}

#[tokio::test]
async fn each_shop_has_its_own_menu_board_and_orders_and_clients_that_name_no_shop_order_at_main() {
    let app = TestApp::spawn().await;
    let r = app.post("/shops", json!({"shopId": "hongdae", "name": "Hongdae"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let product = format!("Brew-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let only_at_main = format!("Main-only-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);

    // One product, two menus: its stock and price at each shop are their own.
    let owner = app.http.clone();
    let level = restock_at(&owner, &app.api, "hongdae", &product, 5, "4.50").await;
    assert_eq!((level["shopId"].as_str(), level["qty"].as_i64()), (Some("hongdae"), Some(5)));
    app.restock(&product, 20).await; // an old client: no shop named, so main
    app.restock(&only_at_main, 3).await;
    let menu = |shop: &'static str| {
        let api = app.api.clone();
        async move {
            let url = match shop {
                "" => format!("{api}/stocks"),
                shop => format!("{api}/stocks?shopId={shop}"),
            };
            reqwest::get(url).await.unwrap().json::<Value>().await.unwrap()
        }
    };
    let hongdae_menu = menu("hongdae").await;
    assert_eq!(hongdae_menu, json!([{"shopId": "hongdae", "productName": product, "qty": 5, "price": "4.50"}]));
    let main_menu = menu("").await;
    assert!(main_menu.as_array().unwrap().iter().any(|s| s["productName"] == product.as_str() && s["qty"] == 20 && s["shopId"] == "main"), "{main_menu}");
    let r = reqwest::get(format!("{}/stocks?shopId=nowhere", app.api)).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "a shop the chain does not have");

    // A customer orders at both shops; each order takes its own shop's stock, at its price.
    let ada = app.customer("ada").await;
    let order_at = |shop: Option<&str>, product: &str, qty: i64| {
        let mut body = json!({"productName": product, "qty": qty});
        if let Some(shop) = shop {
            body["shopId"] = shop.into();
        }
        let (ada, api) = (ada.clone(), app.api.clone());
        async move {
            let r = ada.post(format!("{api}/orders")).json(&body).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::ACCEPTED);
            e2e::order_id_of(&r.json().await.unwrap())
        }
    };
    let at_hongdae = order_at(Some("hongdae"), &product, 2).await;
    let at_main = order_at(None, &product, 1).await;
    let hongdae_order = app.wait_for_status(&at_hongdae, domain::OrderStatus::Queued).await;
    let main_order = app.wait_for_status(&at_main, domain::OrderStatus::Queued).await;
    assert_eq!((hongdae_order.shop_id.as_str(), main_order.shop_id.as_str()), ("hongdae", "main"));
    assert_eq!(app.warehouse_stock_at("hongdae", &product).await, Some(3));
    assert_eq!(app.warehouse_stock_at("main", &product).await, Some(19));
    let shown: Value = ada.get(format!("{}/orders/{at_hongdae}", app.api)).send().await.unwrap().json().await.unwrap();
    assert_eq!((shown["shopId"].as_str(), shown["total"].as_str()), (Some("hongdae"), Some("9.00")));
    let mine: Value = ada.get(format!("{}/orders", app.api)).send().await.unwrap().json().await.unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 2, "MyPages: a customer's orders at every shop");

    // A product the shop does not stock, and a shop that does not exist: refused as an unknown
    // product is.
    for (shop, product) in [("hongdae", only_at_main.as_str()), ("nowhere", product.as_str())] {
        let id = order_at(Some(shop), product, 1).await;
        let refused = app.wait_for_status(&id, domain::OrderStatus::Rejected).await;
        assert!(refused.reason.as_deref().unwrap_or("").starts_with("UnknownProduct"), "{refused:?}");
    }
    assert_eq!(app.warehouse_stock_at("main", &only_at_main).await, Some(3));

    // Each board shows its own shop's tickets; the Temporal UI filters by ShopId.
    let board = |shop: &'static str| {
        let (owner, api) = (owner.clone(), app.api.clone());
        async move {
            let board: Value = owner.get(format!("{api}/kitchen/tickets?shopId={shop}")).send().await.unwrap().json().await.unwrap();
            board.as_array().unwrap().iter().map(|o| o["orderId"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    assert!(board("hongdae").await.contains(&at_hongdae.to_string()));
    assert!(!board("hongdae").await.contains(&at_main.to_string()));
    assert!(board("main").await.contains(&at_main.to_string()));
    assert!(!board("main").await.contains(&at_hongdae.to_string()));
    let (ok, listed) = app
        .temporal_cli(&["workflow", "list", "--query", "ShopId='hongdae' AND OrderStatus='Queued'"])
        .await;
    assert!(ok, "{listed}");
    assert!(listed.contains(&format!("order-{at_hongdae}")) && !listed.contains(&format!("order-{at_main}")), "{listed}");

    // hongdae's barista works hongdae's board, not main's; the order completes at its shop.
    app.post("/staff", json!({"name": "hana", "password": "hana-password", "role": "barista", "shopId": "hongdae"})).await;
    let hana = signed_in(&app, "hana").await;
    let act = |id: &domain::OrderId, step: &str| hana.post(format!("{}/kitchen/tickets/{id}/{step}", app.api)).send();
    assert_eq!(act(&at_main, "start").await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(app.order_view(&at_main).await.status, domain::OrderStatus::Queued, "nothing changed");
    assert_eq!(act(&at_hongdae, "start").await.unwrap().status(), StatusCode::OK);
    assert_eq!(act(&at_hongdae, "complete").await.unwrap().status(), StatusCode::OK);
    app.wait_for_status(&at_hongdae, domain::OrderStatus::Completed).await;
    let board: Value = hana.get(format!("{}/kitchen/tickets?shopId=hongdae&status=Completed", app.api)).send().await.unwrap().json().await.unwrap();
    assert_eq!(board[0]["orderId"], at_hongdae.to_string());

    // The owner sees the chain side by side; a manager does not.
    let chain: Value = app.get("/chain").await.json().await.unwrap();
    let shop = |id: &str| chain.as_array().unwrap().iter().find(|s| s["shopId"] == id).cloned().unwrap();
    assert_eq!(shop("hongdae")["finished"]["completed"], 1, "{chain}");
    assert_eq!(shop("hongdae")["refusals"]["UnknownProduct"], 1, "{chain}");
    assert_eq!(shop("main")["waiting"]["queued"], 1, "{chain}");
    assert_eq!(shop("hongdae")["name"], "Hongdae");
    app.post("/staff", json!({"name": "hugo", "password": "hugo-password", "role": "manager", "shopId": "hongdae"})).await;
    let hugo = signed_in(&app, "hugo").await;
    assert_eq!(hugo.get(format!("{}/chain", app.api)).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let dashboard: Value = hugo.get(format!("{}/shop?shopId=hongdae", app.api)).send().await.unwrap().json().await.unwrap();
    assert_eq!(dashboard["finished"]["completed"], 1, "{dashboard}");
    let log: Value = hugo.get(format!("{}/stocks/restocks?shopId=hongdae", app.api)).send().await.unwrap().json().await.unwrap();
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "hongdae's restock log: {log}");
}
