//! The order saga (docs/spec.md, "An order's life"; docs/architecture.md) end to end: real Temporal, real PostgreSQL, the real worker processes.

use domain::OrderId;
use domain::OrderStatus::*;
use e2e::{OrderView, TestApp, eventually, order_id};
use order_commands::{BaristaStep, CommandError, OrderCommands};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn an_order_goes_through_every_status_as_the_barista_works_it() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(10).await;

    let id = app.queued_order(&product, 3, "c-1").await;
    assert_eq!(
        app.warehouse_stock(&product).await,
        Some(7),
        "the stock is deducted once reserved"
    );
    eventually("the ticket is on the kitchen board (the view catches up)", || async {
        let board: Vec<Value> = app.get("/kitchen/tickets?status=Queued").await.json().await.ok()?;
        board.iter().any(|t| t["orderId"] == id.as_str()).then_some(())
    })
    .await;

    let started = app.post(&format!("/kitchen/tickets/{id}/start"), json!({})).await;
    assert_eq!(started.status(), StatusCode::OK);
    assert_eq!(started.json::<Value>().await.unwrap()["status"], "Brewing");
    let brewing = eventually("the board shows it brewing", || async {
        let board: Vec<Value> = app.get("/kitchen/tickets?status=Brewing").await.json().await.ok()?;
        board.iter().any(|t| t["orderId"] == id.as_str()).then_some(())
    });
    brewing.await;
    let completed = app.post(&format!("/kitchen/tickets/{id}/complete"), json!({})).await;
    assert_eq!(completed.status(), StatusCode::OK);

    let order = app.wait_for_status(&id, Completed).await;
    assert_eq!(order.statuses(), [Ordered, StockReserved, Queued, Brewing, Completed]);
    let times: Vec<&str> = order.history.iter().map(|h| h.at.as_str()).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "history times never go back: {times:?}"
    );
    assert_eq!(order.product_name, product);
    assert_eq!(order.qty, 3);
    app.wait_for_ticket(&id, Completed).await;
    assert_eq!(app.warehouse_stock(&product).await, Some(7));
}

#[tokio::test]
async fn an_order_for_more_than_is_in_stock_is_rejected_and_takes_nothing() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(2).await;

    let id = app.place_order(&product, 3, "c-1").await;
    let order = app.wait_for_status(&id, Rejected).await;

    assert_eq!(order.reason.as_deref(), Some("OutOfStock"));
    assert_eq!(order.statuses(), [Ordered, Rejected]);
    assert_eq!(app.warehouse_stock(&product).await, Some(2));
    assert_eq!(app.kitchen_db().await.status(&id).await.unwrap(), None, "no ticket");
}

#[tokio::test]
async fn an_order_for_a_product_the_warehouse_does_not_know_is_rejected() {
    let app = TestApp::spawn().await;
    let id = app.place_order("Unicorn Frappe", 1, "c-1").await;
    let order = app.wait_for_status(&id, Rejected).await;
    assert_eq!(order.reason.as_deref(), Some("UnknownProduct"));
}

async fn cancel(app: &TestApp, id: &OrderId) -> reqwest::Response {
    app.post(&format!("/orders/{id}/cancel"), json!({"reason": "changed my mind"}))
        .await
}

#[tokio::test]
async fn a_queued_order_can_be_canceled_and_its_ticket_and_stock_are_given_back() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(5).await;
    let id = app.queued_order(&product, 2, "c-1").await;

    let r = cancel(&app, &id).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "Canceled");
    assert_eq!(body["reason"], "changed my mind");

    app.wait_for_ticket(&id, Canceled).await;
    app.wait_for_stock(&product, 5).await;
    let order = app.wait_for_status(&id, Canceled).await;
    assert_eq!(order.statuses(), [Ordered, StockReserved, Queued, Canceled]);
}

#[tokio::test]
async fn an_order_still_waiting_for_the_warehouse_can_be_canceled_and_ends_with_nothing_held() {
    let app = &mut TestApp::spawn().await;
    let product = app.stocked_product(5).await;
    app.stack.kill("warehouse");

    let id = app.place_order(&product, 2, "c-1").await;
    let r = cancel(app, &id).await;
    assert_eq!(r.status(), StatusCode::OK, "cancel in Ordered");
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "Canceled");

    // The reservation still runs when the warehouse returns, and is then released.
    app.stack.restart("warehouse").await.unwrap();
    let order = app.wait_for_status(&id, Canceled).await;
    assert_eq!(order.statuses(), [Ordered, Canceled]);
    // The view shows Canceled as soon as the cancel is decided; the reservation may land (and be
    // released) after that: wait for the workflow to finish its compensations.
    app.wait_closed(&id).await;
    let o = app.query(&id).await.unwrap();
    assert!(!o.stock_reserved, "the workflow finishes with nothing held");
    assert_eq!(app.warehouse_stock(&product).await, Some(5));
    assert_eq!(app.warehouse_db().await.held_by(&id).await.unwrap(), 0);
}

#[tokio::test]
async fn an_order_with_stock_reserved_can_be_canceled_before_the_kitchen_queues_it() {
    let app = &mut TestApp::spawn().await;
    let product = app.stocked_product(5).await;
    app.stack.kill("kitchen");

    let id = app.place_order(&product, 1, "c-1").await;
    app.wait_for_workflow_status(&id, StockReserved).await;
    // The seed's form of cancel this time.
    let r = app
        .owner_of(&id)
        .await
        .patch(format!("{}/orders/{id}", app.api))
        .json(&json!({"status": "Canceled"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "cancel in StockReserved");
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "Canceled");

    app.stack.restart("kitchen").await.unwrap();
    app.wait_for_ticket(&id, Canceled).await;
    app.wait_for_stock(&product, 5).await;
    let order = app.wait_for_status(&id, Canceled).await;
    assert_eq!(order.statuses(), [Ordered, StockReserved, Canceled]);
}

/// A barista's start sent while the order still reads StockReserved (the ticket reaches the board
/// a moment before the workflow hears that `startProduction` put it there; here the kitchen is
/// down, so the moment lasts): accepted, and waiting in the workflow until the order is Queued.
async fn a_start_waiting_for_the_ticket(app: &mut TestApp, product: &str) -> (OrderId, tokio::task::JoinHandle<Result<domain::Order, CommandError>>) {
    app.stack.kill("kitchen");
    let id = app.place_order(product, 1, "c-eager").await;
    app.wait_for_workflow_status(&id, StockReserved).await;
    let orders = OrderCommands::new(app.temporal.clone());
    let start = tokio::spawn({
        let id = id.clone();
        async move { orders.barista(&id, BaristaStep::Start).await }
    });
    eventually("the workflow has taken the start", || async {
        let events = app.history_events(&id).await;
        events
            .iter()
            .any(|e| e["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED")
            .then_some(())
    })
    .await;
    assert!(!start.is_finished(), "the start waits for the ticket, it is not answered yet");
    (id, start)
}

#[tokio::test]
async fn a_start_sent_before_the_workflow_hears_of_the_ticket_is_answered_brewing_once_it_does() {
    let app = &mut TestApp::spawn().await;
    let product = app.stocked_product(5).await;
    let (id, start) = a_start_waiting_for_the_ticket(app, &product).await;

    app.stack.restart("kitchen").await.unwrap();

    let answer = start.await.unwrap().expect("the start is taken, not refused");
    assert_eq!(answer.status, Brewing);
    app.wait_for_ticket(&id, Brewing).await;
    let order = app.wait_for_status(&id, Brewing).await;
    assert_eq!(order.statuses(), [Ordered, StockReserved, Queued, Brewing]);
}

#[tokio::test]
async fn a_cancel_that_comes_while_a_start_waits_wins_and_the_start_is_refused() {
    let app = &mut TestApp::spawn().await;
    let product = app.stocked_product(5).await;
    let (id, start) = a_start_waiting_for_the_ticket(app, &product).await;

    let r = app.post(&format!("/orders/{id}/cancel"), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK, "the start has not happened: the order can still be canceled");
    app.stack.restart("kitchen").await.unwrap();

    match start.await.unwrap() {
        Err(CommandError::Refused(why)) => assert!(why.contains("Canceled"), "{why}"),
        other => panic!("the start must be refused once the cancel won: {other:?}"),
    }
    app.wait_for_ticket(&id, Canceled).await;
    app.wait_for_stock(&product, 5).await;
    let order = app.wait_for_status(&id, Canceled).await;
    assert_eq!(order.statuses(), [Ordered, StockReserved, Canceled]);
}

#[tokio::test]
async fn cancel_is_refused_once_brewing_has_begun_and_after_the_order_is_finished() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(5).await;
    let id = app.queued_order(&product, 1, "c-1").await;
    assert_eq!(
        app.post(&format!("/kitchen/tickets/{id}/start"), json!({}))
            .await
            .status(),
        StatusCode::OK
    );

    let r = cancel(&app, &id).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("can no longer be canceled"),
        "{problem}"
    );
    let patched = app
        .owner_of(&id)
        .await
        .patch(format!("{}/orders/{id}", app.api))
        .json(&json!({"status": "Canceled"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        patched.status(),
        StatusCode::CONFLICT,
        "the seed's PATCH form says the same"
    );

    app.post(&format!("/kitchen/tickets/{id}/complete"), json!({})).await;
    app.wait_for_status(&id, Completed).await;
    app.wait_closed(&id).await;
    let late = cancel(&app, &id).await;
    assert_eq!(
        late.status(),
        StatusCode::CONFLICT,
        "a completed order cannot be canceled"
    );
    assert_eq!(app.warehouse_stock(&product).await, Some(4), "nothing was released");

    let rejected = app.place_order("Nope", 1, "c-1").await;
    app.wait_for_status(&rejected, Rejected).await;
    assert_eq!(
        cancel(&app, &rejected).await.status(),
        StatusCode::CONFLICT,
        "a rejected order cannot be canceled"
    );
    assert_eq!(
        cancel(&app, &order_id("no-such-order")).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn barista_actions_out_of_turn_are_refused_with_a_clear_message() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(5).await;
    let id = app.queued_order(&product, 1, "c-1").await;

    let early = app.post(&format!("/kitchen/tickets/{id}/complete"), json!({})).await;
    assert_eq!(early.status(), StatusCode::CONFLICT);
    assert!(
        early.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .contains("only a Brewing order")
    );
    assert_eq!(
        app.post("/kitchen/tickets/nobody/start", json!({})).await.status(),
        StatusCode::NOT_FOUND
    );
    let order = app.query(&id).await.unwrap();
    assert_eq!(order.status, Queued, "a refused update changes nothing");
}

#[tokio::test]
async fn a_cancel_racing_the_barista_has_exactly_one_winner() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(20).await;
    for _ in 0..5 {
        let id = app.queued_order(&product, 1, "c-1").await;

        let start_path = format!("/kitchen/tickets/{id}/start");
        let (c, s) = tokio::join!(cancel(&app, &id), app.post(&start_path, json!({})));
        let (c, s) = (c.status(), s.status());
        assert!(
            (c == StatusCode::OK && s == StatusCode::CONFLICT) || (c == StatusCode::CONFLICT && s == StatusCode::OK),
            "exactly one wins: cancel {c}, start {s}"
        );
        let order = app
            .wait_for_workflow_status(&id, if c == StatusCode::OK { Canceled } else { Brewing })
            .await;
        if c == StatusCode::OK {
            eventually("the canceled order holds nothing", || async {
                let o = app.query(&id).await.ok()?;
                (!o.stock_reserved && !o.ticket_open).then_some(())
            })
            .await;
        } else {
            assert!(order.stock_reserved, "a brewing order keeps its stock");
            app.post(&format!("/kitchen/tickets/{id}/complete"), json!({})).await;
        }
    }
}

#[tokio::test]
async fn forty_orders_on_ten_in_stock_never_oversell() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(10).await;

    let orders = futures::future::join_all((0..40).map(|i| {
        let app = &app;
        let product = product.clone();
        async move { app.place_order(&product, 1, &format!("c-{i}")).await }
    }))
    .await;
    let mut queued = 0;
    let mut rejected = 0;
    for id in &orders {
        let order = eventually("each order settles", || async {
            let o = app.get(&format!("/orders/{id}")).await.json::<OrderView>().await.ok()?;
            matches!(o.status, Queued | Rejected).then_some(o)
        })
        .await;
        match order.status {
            Queued => queued += 1,
            _ => {
                assert_eq!(order.reason.as_deref(), Some("OutOfStock"));
                rejected += 1;
            }
        }
    }
    assert_eq!((queued, rejected), (10, 30));
    assert_eq!(app.warehouse_stock(&product).await, Some(0));
}

#[tokio::test]
async fn the_whole_saga_runs_with_the_warehouse_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("coffeeshop-sqlite-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("warehouse.db").display());
    let app = TestApp::spawn_with(|c| c.warehouse_url = Some(url.clone())).await;

    let product = app.stocked_product(3).await;
    // One after the other: placed together, either could be the one that finds too little.
    let ok = app.queued_order(&product, 2, "c-1").await;
    let too_many = app.place_order(&product, 2, "c-1").await;
    let rejected = app.wait_for_status(&too_many, Rejected).await;
    assert_eq!(rejected.reason.as_deref(), Some("OutOfStock"));
    assert_eq!(cancel(&app, &ok).await.status(), StatusCode::OK);
    app.wait_for_stock(&product, 3).await;
    // Retention speaks SQLite too: once a second has passed, the rows are older than "0 s ago".
    // (Rows made in different seconds pass "0 s ago" one second after another.)
    let db = app.warehouse_db().await;
    let pruned = std::cell::Cell::new(0);
    e2e::eventually("the SQLite warehouse deletes rows past retention", || async {
        // Both orders are over: their reservations may go.
        let old = db.reservations_older_than(std::time::Duration::ZERO, 1000).await.ok()?;
        let gone = db.forget_reservations(&old).await.ok()? + db.prune_restocks(std::time::Duration::ZERO, 1000).await.ok()?;
        pruned.set(pruned.get() + gone);
        (pruned.get() >= 3).then_some(())
    })
    .await;
    assert_eq!(pruned.get(), 3, "two reservations and the restock record, once each");
    assert!(
        dir.join("warehouse.db").exists(),
        "the warehouse really wrote to SQLite"
    );
    drop(app);
    let _ = std::fs::remove_dir_all(dir);
}

/// Kills `worker` with SIGKILL while orders are in flight, starts it again, and checks that every
/// order still settles and the stock was deducted exactly once per order.
async fn orders_survive_a_killed(worker: &str) {
    let app = &mut TestApp::spawn_with(|c| {
        c.baristas = 2;
        c.brew_ms = 50;
    })
    .await;
    let product = app.stocked_product(100).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(app.place_order(&product, 1, &format!("c-{i}")).await);
    }
    app.stack.kill(worker);
    for i in 6..12 {
        ids.push(app.place_order(&product, 1, &format!("c-{i}")).await);
    }
    app.stack.restart(worker).await.unwrap();
    for id in &ids {
        app.wait_for_status(id, Completed).await;
    }
    assert_eq!(
        app.warehouse_stock(&product).await,
        Some(100 - ids.len() as i64),
        "each order took its cup once"
    );
}

#[tokio::test]
async fn orders_in_flight_survive_the_kitchen_worker_being_killed() {
    orders_survive_a_killed("kitchen").await;
}

#[tokio::test]
async fn orders_in_flight_survive_the_warehouse_worker_being_killed() {
    orders_survive_a_killed("warehouse").await;
}

#[tokio::test]
async fn the_same_warehouse_activity_twice_changes_nothing_the_second_time() {
    // The stores alone, each on a fresh database of the shared test PostgreSQL.
    let db = activities::warehouse::WarehouseDb::connect(&e2e::fresh_database().await, 2)
        .await
        .unwrap();
    let level = |db: &activities::warehouse::WarehouseDb, product: &domain::ProductName| {
        let (db, product) = (db.clone(), product.clone());
        async move { db.level(&domain::ShopId::main(), &product).await.unwrap().map(|l| l.qty) }
    };
    let product = domain::ProductName::parse("Twice Blend").unwrap();
    db.restock(&domain::Restock {
        restock_id: "r-first".into(),
        shop_id: Default::default(),
        product_name: product.clone(),
        qty: domain::RestockQuantity::parse(10).unwrap(),
        price: Some(domain::Price::parse("3.50").unwrap()),
    })
    .await
    .unwrap();
    let reservation = domain::Reservation {
        order_id: domain::OrderId::parse("twice-1").unwrap(),
        shop_id: Default::default(),
        product_name: product.clone(),
        qty: domain::Quantity::parse(4).unwrap(),
        order_run: None,
    };

    let first = db.reserve(&reservation).await.unwrap();
    // The price changes between two attempts of the same reservation: both answer the price the
    // stock was taken at.
    db.restock(&domain::Restock {
        restock_id: "r-dearer".into(),
        shop_id: Default::default(),
        product_name: product.clone(),
        qty: domain::RestockQuantity::parse(1).unwrap(),
        price: Some(domain::Price::parse("4.00").unwrap()),
    })
    .await
    .unwrap();
    let second = db.reserve(&reservation).await.unwrap();
    let taken_at = |r: &activities::warehouse::Reserved| match r {
        activities::warehouse::Reserved::Taken(level) => level.price.map(|p| p.to_string()),
        other => panic!("not taken: {other:?}"),
    };
    assert_eq!(taken_at(&first).as_deref(), Some("3.50"));
    assert_eq!(taken_at(&second), taken_at(&first), "a repeated reservation answers the same price");
    assert_eq!(level(&db, &product).await, Some(7));

    let released = db.release(&reservation.order_id).await.unwrap();
    assert_eq!(released.map(|l| l.qty), Some(11));
    assert_eq!(
        db.release(&reservation.order_id).await.unwrap(),
        None,
        "a repeated release gives nothing back"
    );
    assert_eq!(level(&db, &product).await, Some(11));

    let restock = domain::Restock {
        restock_id: "r-twice".into(),
        shop_id: Default::default(),
        product_name: product.clone(),
        qty: domain::RestockQuantity::parse(5).unwrap(),
        price: None,
    };
    db.restock(&restock).await.unwrap();
    db.restock(&restock).await.unwrap();
    assert_eq!(level(&db, &product).await, Some(16), "a repeated restock counts once");

    let kitchen = activities::kitchen::KitchenDb::connect(&e2e::fresh_database().await, 2)
        .await
        .unwrap();
    let ticket = domain::Ticket {
        order_id: domain::OrderId::parse("twice-1").unwrap(),
        shop_id: Default::default(),
        product_name: product,
        qty: domain::Quantity::parse(1).unwrap(),
    };
    kitchen.open(&ticket).await.unwrap();
    kitchen
        .set_status(&ticket.order_id, Canceled)
        .await
        .unwrap();
    kitchen.open(&ticket).await.unwrap();
    assert_eq!(
        kitchen.status(&ticket.order_id).await.unwrap().as_deref(),
        Some("Canceled"),
        "reopening changes nothing"
    );
}

#[tokio::test]
async fn automatic_baristas_complete_orders_with_nobody_at_the_counter() {
    let app = TestApp::spawn_with(|c| {
        c.baristas = 2;
        c.brew_ms = 100;
    })
    .await;
    let product = app.stocked_product(10).await;
    let ids = futures::future::join_all((0..4).map(|_| app.place_order(&product, 1, "c-auto"))).await;
    for id in &ids {
        let order = app.wait_for_status(id, Completed).await;
        assert_eq!(order.statuses(), [Ordered, StockReserved, Queued, Brewing, Completed]);
    }
    // The kitchen's own board follows each order once it has taken the barista's commands.
    for id in &ids {
        app.wait_for_ticket(id, Completed).await;
    }
}

#[tokio::test]
async fn a_restock_adds_stock_and_creates_new_products() {
    let app = TestApp::spawn().await;
    let product = format!("Cold Brew {}", &uuid::Uuid::now_v7().simple().to_string()[24..]);

    let created = app.post("/stocks", json!({"productName": product, "qty": 5})).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let added = app.post("/stocks", json!({"productName": product, "qty": 7})).await;
    assert_eq!(added.status(), StatusCode::OK);
    let body: Value = added.json().await.unwrap();
    assert_eq!(body["qty"], 12);
    let (ok, listed) = app
        .temporal_cli(&["workflow", "list", "--query", "WorkflowType='RestockWorkflow'"])
        .await;
    assert!(
        ok && listed.matches("RestockWorkflow").count() >= 2,
        "each restock is a workflow:\n{listed}"
    );

    let levels: Vec<Value> = app.get("/stocks").await.json().await.unwrap();
    assert!(
        levels
            .iter()
            .any(|l| l["productName"] == product.as_str() && l["qty"] == 12),
        "{levels:?}"
    );
    for bad in [
        json!({"productName": product, "qty": 0}),
        json!({"productName": product, "qty": -3}),
        json!({"productName": "", "qty": 1}),
    ] {
        assert_eq!(
            app.post("/stocks", bad.clone()).await.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn orders_in_flight_survive_the_cafe_worker_being_killed() {
    // The cafe hosts the workflows: its replacement replays each order's history and carries on.
    orders_survive_a_killed("cafe").await;
}
