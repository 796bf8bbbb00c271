//! The web page in real headless Chromium: a customer orders and watches the order move without
//! reloading while a barista works it in another browser; cancels, refused cancels, a manager's
//! restocks reaching a customer's menu live, the views a role may not see, a busy shop (orders
//! and commands sent again until taken), and a restarted API. Each view is saved as a screenshot
//! in `target/screenshots/`.

use domain::OrderStatus;
use e2e::browser::{Browser, Page};
use e2e::{TestApp, order_id};
use reqwest::StatusCode;
use serde_json::json;

/// Creates a staff account (as the manager, over the API); returns its password.
async fn staff(app: &TestApp, name: &str, role: &str) -> String {
    let password = format!("{name}-password");
    let r = app
        .post("/staff", json!({"name": name, "password": password, "role": role}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    password
}

/// Places an order from the menu; returns its id, read from the order's card in My orders (once
/// it has replaced the card that was on top before).
async fn order_from_the_menu(page: &Page, product: &str, qty: u32) -> domain::OrderId {
    let before = page
        .run("const top = document.querySelector('#my-orders .order'); return top ? top.dataset.order : null")
        .await;
    page.click("#nav a[data-view=menu]").await;
    let item = format!("#menu [data-product='{product}']");
    page.fill(&format!("{item} input[name=qty]"), &qty.to_string()).await;
    page.click(&format!("{item} button")).await;
    // Thanks, or (for an order rejected at once) the news that replaced them.
    let confirmation = page.wait_text(&format!("{item} .result"), "Order ").await;
    assert!(
        confirmation.contains("is placed") && confirmation.contains("Follow it in My orders")
            || confirmation.contains("Nothing is charged"),
        "{confirmation}"
    );
    page.click("#nav a[data-view=orders]").await;
    e2e::eventually("the new order tops My orders", || async {
        let newest = newest_order(page).await;
        (before.as_str() != Some(newest.as_str())).then_some(newest)
    })
    .await
}

/// The order on top of My orders.
async fn newest_order(page: &Page) -> domain::OrderId {
    page.find("#my-orders .order").await;
    let id = page
        .run("return document.querySelector('#my-orders .order').dataset.order")
        .await;
    order_id(id.as_str().expect("the newest order's card"))
}

/// A customer who signed up on the page and sees `product` on the menu with `qty` in stock.
async fn customer_at_the_menu(app: &TestApp, browser: &Browser, name: &str, product: &str, qty: i64) -> Page {
    let page = browser.open(&app.api, 1200).await;
    page.sign_up(name, &format!("{name}-password")).await;
    page.wait_text(
        &format!("#menu [data-product='{product}'] .stock"),
        &format!("{qty} in stock"),
    )
    .await;
    page
}

fn card(id: &domain::OrderId) -> String {
    format!("#my-orders [data-order='{id}']")
}

/// Marks the page; [`still_not_reloaded`] checks the mark is still there (a reload clears it).
async fn mark_no_reload(page: &Page) {
    page.run("window.notReloaded = true; return null").await;
}

async fn still_not_reloaded(page: &Page) {
    assert_eq!(
        page.run("return window.notReloaded === true").await,
        json!(true),
        "the page updated itself without a reload"
    );
}

#[tokio::test]
async fn a_customer_orders_and_watches_it_move_live_while_a_barista_works_it() {
    let app = TestApp::spawn().await;
    let product = format!("Priced-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let priced = app.post("/stocks", json!({"productName": product, "qty": 5, "price": "2.25"})).await;
    assert!(priced.status().is_success(), "{}", priced.status());
    let password = staff(&app, "bea", "barista").await;
    let browser = Browser::start().await;

    let customer = browser.open(&app.api, 1200).await;
    customer.find("#signin-form").await;
    // Signed out, there is nothing to sign out of.
    assert_eq!(
        customer.run("return document.querySelector('#sign-out').offsetParent === null").await,
        json!(true),
        "no Sign out button while signed out"
    );
    customer.screenshot("sign-in").await;
    // The page's own checks and the shop's refusals are said next to the form, in words.
    customer.fill("#signup-form [name=name]", "ada").await;
    customer.fill("#signup-form [name=password]", "short").await;
    customer.click("#signup-form button").await;
    customer
        .wait_text("#signup-form .refusal", "Choose a password of at least 8 characters.")
        .await;
    customer.fill("#signin-form [name=name]", "nobody").await;
    customer.fill("#signin-form [name=password]", "not-the-password").await;
    customer.click("#signin-form button").await;
    customer
        .wait_text("#signin-form .refusal", "That name and password do not match.")
        .await;
    customer.sign_up("ada", "ada-password").await;
    // A quantity out of range is caught on the page.
    let item = format!("#menu [data-product='{product}']");
    customer.fill(&format!("{item} input[name=qty]"), "0").await;
    customer.click(&format!("{item} button")).await;
    customer
        .wait_text(&format!("{item} .result"), "Choose a quantity from 1 to 100.")
        .await;
    customer
        .wait_text(&format!("#menu [data-product='{product}'] .stock"), "5 in stock")
        .await;
    mark_no_reload(&customer).await;
    customer.screenshot("menu").await;

    let id = order_from_the_menu(&customer, &product, 2).await;
    customer.wait_text(&format!("{} .status", card(&id)), "Waiting for a barista").await;
    // The reservation reaches the menu too.
    customer.click("#nav a[data-view=menu]").await;
    customer
        .wait_text(&format!("#menu [data-product='{product}'] .stock"), "3 in stock")
        .await;
    customer.click("#nav a[data-view=orders]").await;

    let barista = browser.open(&app.api, 1200).await;
    barista.sign_in("bea", &password).await;
    let ticket = |column: &str| format!("#col-{column} [data-order='{id}']");
    barista.find(&ticket("Queued")).await;
    // The ticket names the order by the number its customer was given, and how long they wait.
    let number = id.to_string().replace('-', "")[..8].to_uppercase();
    let queued = barista.text(&ticket("Queued")).await;
    assert!(queued.contains(&format!("order {number}")), "the order's number on its ticket: {queued}");
    assert!(queued.contains("waiting"), "how long the customer has waited: {queued}");
    barista.screenshot("kitchen").await;
    barista.click(&format!("{} button", ticket("Queued"))).await;
    barista.find(&ticket("Brewing")).await;
    barista.wait_gone(&ticket("Queued")).await;

    customer.wait_text(&format!("{} .status", card(&id)), "Being made").await;
    barista.click(&format!("{} button", ticket("Brewing"))).await;
    barista.find(&ticket("Completed")).await;

    let timeline = customer
        .wait_text(&format!("{} .timeline", card(&id)), "Ready")
        .await;
    for status in ["Ordered", "Stock reserved", "Waiting for a barista", "Being made", "Ready"] {
        assert!(timeline.contains(status), "the timeline shows {status} in words: {timeline}");
    }
    // The card names the order by the number the confirmation gave, with the day it was placed.
    assert!(customer.text(&card(&id)).await.contains(&number), "the order's number on its card");
    // ... and what it cost: 2 × 2.25.
    customer.wait_text(&format!("{} .meta", card(&id)), "4.50").await;
    customer.wait_gone(&format!("{} button.cancel", card(&id))).await;
    customer.screenshot("my-orders").await;
    still_not_reloaded(&customer).await;
    app.wait_for_status(&id, OrderStatus::Completed).await;
    barista.close().await;
    customer.close().await;
}

#[tokio::test]
async fn a_cancel_shows_canceled_and_a_cancel_too_late_shows_the_refusal_in_words() {
    let app = &mut TestApp::spawn().await;
    let product = format!("Priced-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let priced = app.post("/stocks", json!({"productName": product, "qty": 10, "price": "1.50"})).await;
    assert!(priced.status().is_success(), "{}", priced.status());
    let browser = Browser::start().await;
    let customer = customer_at_the_menu(app, &browser, "cy", &product, 10).await;

    let first = order_from_the_menu(&customer, &product, 1).await;
    customer.wait_text(&format!("{} .status", card(&first)), "Waiting for a barista").await;
    customer.click(&format!("{} button.cancel", card(&first))).await;
    customer
        .wait_text(&format!("{} .status", card(&first)), "Canceled: canceled on the web page")
        .await;
    customer.wait_gone(&format!("{} button.cancel", card(&first))).await;
    // Its total stays readable, with the word that it is not charged.
    customer.wait_text(&format!("{} .meta", card(&first)), "Total 1.50, nothing charged").await;
    app.wait_for_stock(&product, 10).await;

    // More than the shop has: rejected, and the card says why in words; the menu's "Thank you"
    // for it gives way to the same news.
    let too_many = order_from_the_menu(&customer, &product, 11).await;
    customer
        .wait_text(&format!("{} .status", card(&too_many)), "Rejected: out of stock")
        .await;
    customer.click("#nav a[data-view=menu]").await;
    let said = customer
        .wait_text(&format!("#menu [data-product='{product}'] .result"), "Nothing is charged")
        .await;
    assert!(!said.contains("is placed"), "no thanks for a rejected order: {said}");
    customer.click("#nav a[data-view=orders]").await;

    // The view falls behind (its worker is down) while a barista starts the next order: the page
    // still offers Cancel, and the workflow's refusal is what the customer reads.
    let second = order_from_the_menu(&customer, &product, 1).await;
    customer
        .wait_text(&format!("{} .status", card(&second)), "Waiting for a barista")
        .await;
    mark_no_reload(&customer).await;
    app.stack.kill("customercenter");
    let started = app.post(&format!("/kitchen/tickets/{second}/start"), json!({})).await;
    assert_eq!(started.status(), StatusCode::OK);
    customer.click(&format!("{} button.cancel", card(&second))).await;
    let refusal = customer
        .wait_text(&format!("{} .refusal", card(&second)), "can no longer be canceled")
        .await;
    assert!(!refusal.is_empty());
    customer.screenshot("cancel-refused").await;

    // When the view catches up, so does the page.
    app.stack.restart("customercenter").await.unwrap();
    customer
        .wait_text(&format!("{} .status", card(&second)), "Being made")
        .await;
    still_not_reloaded(&customer).await;
    customer.close().await;
}

#[tokio::test]
async fn a_manager_restocks_and_hires_and_a_customer_sees_the_stock_live_but_not_the_staff_views() {
    let app = TestApp::spawn().await;
    let browser = Browser::start().await;
    let suffix = &uuid::Uuid::now_v7().simple().to_string()[24..];
    let product = format!("Page Roast {suffix}");

    let manager = browser.open(&app.api, 1280).await;
    manager.sign_in("admin", app.stack.config.admin_password.expose()).await;
    manager.click("#nav a[data-view=stock]").await;
    manager.fill("#restock-form [name=productName]", &product).await;
    manager.fill("#restock-form [name=qty]", "7").await;
    manager.fill("#restock-form [name=price]", "3.5").await;
    manager.click("#restock-form button").await;
    let row = manager
        .wait_text(&format!("#stock-table [data-product='{product}']"), "7")
        .await;
    assert!(row.contains("3.50"), "the price is kept and shown: {row}");
    manager.wait_text("#restocks", &product).await;

    manager.fill("#staff-form [name=name]", "barney").await;
    manager.fill("#staff-form [name=password]", "barney-password").await;
    manager.click("#staff-form button").await;
    manager.wait_text("#staff", "barney (barista at Main)").await;
    manager.screenshot("stock").await;

    // A customer on a phone-width screen, with a product whose name is very long.
    let long = format!("Extraordinarily-Long-Single-Origin-Name-{suffix}");
    app.restock(&long, 3).await;
    let customer = browser.open(&app.api, 390).await;
    customer.sign_up("dee", "dee-password").await;
    let item = format!("#menu [data-product='{product}'] .stock");
    customer.wait_text(&item, "7 in stock").await;
    // The menu shows the price, and the order form what the quantity typed costs.
    let card = format!("#menu [data-product='{product}']");
    customer.wait_text(&format!("{card} .price"), "3.50").await;
    customer.fill(&format!("{card} input[name=qty]"), "2").await;
    customer.wait_text(&format!("{card} .total"), "Total 7.00").await;
    customer
        .wait_text(&format!("#menu [data-product='{long}'] .stock"), "3 in stock")
        .await;
    mark_no_reload(&customer).await;
    assert_eq!(
        customer
            .run("return document.documentElement.scrollWidth <= window.innerWidth")
            .await,
        json!(true),
        "nothing sticks out sideways on a phone"
    );
    customer.screenshot("menu-phone").await;

    manager.fill("#restock-form [name=productName]", &product).await;
    manager.fill("#restock-form [name=qty]", "5").await;
    manager.click("#restock-form button").await;
    customer.wait_text(&item, "12 in stock").await;
    still_not_reloaded(&customer).await;

    // The staff views are not the customer's: not in the menu bar, and refused in words.
    let links = customer
        .run("return [...document.querySelectorAll('#nav a')].map(a => a.dataset.view)")
        .await;
    assert_eq!(links, json!(["menu", "orders"]));
    customer.run("location.hash = 'kitchen'; return null").await;
    customer
        .wait_text("#forbidden-text", "needs a barista or manager account")
        .await;
    customer.run("location.hash = 'stock'; return null").await;
    customer.wait_text("#forbidden-text", "needs a manager account").await;
    let status = customer
        .run("return fetch('/kitchen/tickets').then(r => r.status)")
        .await;
    assert_eq!(
        status,
        json!(403),
        "and the API refuses the page's cookie for the kitchen"
    );
    customer.close().await;
    manager.close().await;
}

#[tokio::test]
async fn the_page_says_the_shop_is_busy_retries_and_follows_a_restarted_api() {
    let app = &mut TestApp::spawn().await;
    let product = app.stocked_product(10).await;
    let browser = Browser::start().await;
    let customer = customer_at_the_menu(app, &browser, "eve", &product, 10).await;
    let item = format!("#menu [data-product='{product}']");
    mark_no_reload(&customer).await;

    // Temporal is away: placing an order answers 503; the page says so and keeps trying.
    app.stack.stop_temporal();
    customer.click(&format!("{item} button")).await;
    customer.wait_text("#notice", "busy").await;
    customer.screenshot("busy").await;
    app.stack.start_temporal().await.unwrap();
    customer.wait_text(&format!("{item} .result"), "is placed").await;
    customer.click("#nav a[data-view=orders]").await;
    let id = newest_order(&customer).await;
    customer.wait_text(&format!("{} .status", card(&id)), "Waiting for a barista").await;

    // The API restarts: the live stream reconnects by itself and the page follows again.
    app.stack.respawn_api().await.unwrap();
    e2e::eventually("the restarted API is ready", || async {
        let r = app.http.get(format!("{}/readyz", app.api)).send().await.ok()?;
        r.status().is_success().then_some(())
    })
    .await;
    let started = app.post(&format!("/kitchen/tickets/{id}/start"), json!({})).await;
    assert_eq!(started.status(), StatusCode::OK);
    customer.wait_text(&format!("{} .status", card(&id)), "Being made").await;
    still_not_reloaded(&customer).await;
    customer.close().await;
}

#[tokio::test]
async fn a_shop_past_its_share_of_new_orders_is_said_so_and_the_order_still_goes_through() {
    // A share of one new order a second per shop (the harness lifts the API's own share).
    let app = TestApp::spawn_with(|c| c.extra_env.push((stack::ORDERS_PER_SHOP_PER_SECOND.into(), "1".into()))).await;
    let product = app.stocked_product(10).await;
    let browser = Browser::start().await;
    let customer = customer_at_the_menu(&app, &browser, "fay", &product, 10).await;
    let item = format!("#menu [data-product='{product}']");

    // Another customer takes this second's share at the shop just before fay orders: the API
    // answers her 429 with `Retry-After`; the page says why and sends the order again.
    let other = app.order(&product, 1, "gus").await;
    assert_eq!(other.status(), StatusCode::ACCEPTED);
    customer.click(&format!("{item} button")).await;
    customer.wait_text("#notice", "taking as many orders as it can").await;
    customer.wait_text(&format!("{item} .result"), "is placed").await;
    customer.wait_gone("#notice").await;
    customer.close().await;
}

#[tokio::test]
async fn a_barista_and_a_customer_whose_commands_meet_temporal_away_see_them_sent_again_until_taken() {
    let app = &mut TestApp::spawn_with(|c| c.temporal_on_disk()).await;
    let product = app.stocked_product(10).await;
    let password = staff(app, "ben", "barista").await;
    let browser = Browser::start().await;
    let customer = customer_at_the_menu(app, &browser, "dee", &product, 10).await;
    let to_complete = order_from_the_menu(&customer, &product, 1).await;
    let to_cancel = order_from_the_menu(&customer, &product, 1).await;
    customer
        .wait_text(&format!("{} .status", card(&to_cancel)), "Waiting for a barista")
        .await;
    app.wait_for_status(&to_complete, OrderStatus::Queued).await;
    let started = app
        .post(&format!("/kitchen/tickets/{to_complete}/start"), json!({}))
        .await;
    assert_eq!(started.status(), StatusCode::OK);
    let barista = browser.open(&app.api, 1200).await;
    barista.sign_in("ben", &password).await;
    let ticket = format!("#col-Brewing [data-order='{to_complete}']");
    barista.find(&ticket).await;

    // Temporal is away: the barista's Complete and the customer's Cancel are answered 503. A
    // command whose answer is lost may or may not have been taken, and nothing else would send
    // it again (the view may already show its outcome): each page says so and keeps trying.
    app.stack.stop_temporal();
    barista.click(&format!("{ticket} button")).await;
    customer.click(&format!("{} button.cancel", card(&to_cancel))).await;
    barista.wait_text("#notice", "busy").await;
    customer.wait_text("#notice", "busy").await;
    app.stack.start_temporal().await.unwrap();

    barista
        .find(&format!("#col-Completed [data-order='{to_complete}']"))
        .await;
    customer
        .wait_text(&format!("{} .status", card(&to_cancel)), "Canceled")
        .await;
    app.wait_closed(&to_complete).await;
    app.wait_closed(&to_cancel).await;
    assert_eq!(app.query(&to_complete).await.unwrap().status, OrderStatus::Completed);
    assert_eq!(app.query(&to_cancel).await.unwrap().status, OrderStatus::Canceled);
    barista.close().await;
    customer.close().await;
}

#[tokio::test]
async fn a_customer_picks_a_shop_a_barista_sees_their_own_board_and_the_owner_the_whole_chain() {
    let app = TestApp::spawn().await;
    let browser = Browser::start().await;
    let suffix = &uuid::Uuid::now_v7().simple().to_string()[24..];
    let (product, only_at_main) = (format!("Hongdae Blend {suffix}"), format!("Main Roast {suffix}"));
    assert_eq!(app.post("/shops", json!({"shopId": "hongdae", "name": "Hongdae"})).await.status(), StatusCode::CREATED);
    let r = app.post("/stocks", json!({"shopId": "hongdae", "productName": product, "qty": 6, "price": "4.00"})).await;
    assert!(r.status().is_success());
    app.restock(&only_at_main, 4).await;
    let r = app
        .post("/staff", json!({"name": "hana", "password": "hana-password", "role": "barista", "shopId": "hongdae"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // A customer picks Hongdae: its menu, its prices; the pick is remembered.
    let customer = browser.open(&app.api, 1200).await;
    customer.sign_up("hyun", "hyun-password").await;
    customer.wait_text(&format!("#menu [data-product='{only_at_main}'] .stock"), "4 in stock").await;
    customer
        .run("const s = document.querySelector('#shop-select'); s.value = 'hongdae'; s.dispatchEvent(new Event('change')); return null")
        .await;
    customer.wait_text("#menu-title", "Menu at Hongdae").await;
    customer.wait_text(&format!("#menu [data-product='{product}'] .price"), "4.00").await;
    customer.wait_gone(&format!("#menu [data-product='{only_at_main}']")).await;
    customer.screenshot("menu-shop").await;
    let id = order_from_the_menu(&customer, &product, 1).await;
    customer.wait_text(&format!("{} .meta", card(&id)), "Placed at Hongdae").await;
    customer.run("location.reload(); return null").await;
    customer.click("#nav a[data-view=menu]").await;
    customer.wait_text("#menu-title", "Menu at Hongdae").await;

    // Hongdae's barista sees Hongdae's board, and no shop to pick.
    let barista = browser.open(&app.api, 1200).await;
    barista.sign_in("hana", "hana-password").await;
    barista.wait_text("#kitchen-title", "Kitchen at Hongdae").await;
    barista.find(&format!("#col-Queued [data-order='{id}']")).await;
    assert_eq!(barista.run("return document.querySelector('#shop-pick').hidden").await, json!(true));

    // The owner sees every shop side by side, live, and opens one.
    let owner = browser.open(&app.api, 1400).await;
    owner.sign_in("admin", app.stack.config.admin_password.expose()).await;
    owner.wait_text("#chain-table [data-shop='hongdae'] .waiting", "1 queued").await;
    owner.wait_text("#chain-table [data-shop='main']", "Main").await;
    mark_no_reload(&owner).await;
    let r = e2e::signed_in_client(&app.api, "hyun", "hyun-password")
        .await
        .post(format!("{}/orders", app.api))
        .json(&json!({"productName": product, "qty": 1, "shopId": "hongdae"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    owner.wait_text("#chain-table [data-shop='hongdae'] .waiting", "2 queued").await;
    still_not_reloaded(&owner).await;
    // Hongdae's barista hands the first one over: the chain counts it and draws its minute.
    for step in ["start", "complete"] {
        barista.click(&format!("[data-order='{id}'] button")).await;
        if step == "start" {
            barista.find(&format!("#col-Brewing [data-order='{id}']")).await;
        }
    }
    owner.wait_text("#chain-table [data-shop='hongdae'] td.completed", "1").await;
    owner.find("#chain-table [data-shop='hongdae'] .sparkline rect.completed").await;
    owner.screenshot("chain").await;
    owner.click("#chain-table [data-shop='hongdae'] button").await;
    owner.wait_text("#shop-title", "Hongdae, last hour").await;
    owner.wait_text("#shop-waiting", "1 queued").await;

    // Hongdae's manager sees Hongdae's stock, staff and dashboard, and no other shop.
    let r = app
        .post("/staff", json!({"name": "hoon", "password": "hoon-password", "role": "manager", "shopId": "hongdae"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let manager = browser.open(&app.api, 1280).await;
    manager.sign_in("hoon", "hoon-password").await;
    manager.click("#nav a[data-view=stock]").await;
    manager.wait_text("#stock-title", "Stock at Hongdae").await;
    manager.wait_text(&format!("#stock-table [data-product='{product}']"), "4.00").await;
    assert!(!manager.text("#stock-table").await.contains(&only_at_main), "not main's stock");
    manager.wait_text("#staff", "hana (barista at Hongdae)").await;
    manager.click("#nav a[data-view=shop]").await;
    manager.wait_text("#shop-title", "Hongdae, last hour").await;
    manager.wait_text("#shop-finished", "1 completed").await;
    assert_eq!(manager.run("return document.querySelector('#shop-pick').hidden").await, json!(true));
    customer.close().await;
    barista.close().await;
    owner.close().await;
    manager.close().await;
}
