//! Accounts and roles: who may call what (every route × every role), sessions that can be
//! tampered with, expire or be signed out, passwords that never leave the API, sign-in attempts
//! that are limited, and a session cookie another web site cannot use.

use domain::OrderStatus;
use e2e::{TestApp, customer_client, order_id_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A staff account created by the owner; returns a client signed in as it.
async fn staff(app: &TestApp, name: &str, role: &str) -> reqwest::Client {
    let password = format!("{name}-password");
    let r = app
        .post("/staff", json!({"name": name, "password": password, "role": role}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "creating {name}");
    e2e::signed_in_client(&app.api, name, &password).await
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_rules_say() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(100).await;
    let alice = customer_client(&app.api, "alice").await;
    let bob = customer_client(&app.api, "bob").await;
    let barista = staff(&app, "barry", "barista").await;
    let anonymous = reqwest::Client::new();
    let r = alice
        .post(format!("{}/orders", app.api))
        .json(&json!({"productName": product, "qty": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let order: Value = r.json().await.unwrap();
    let id = order_id_of(&order);
    app.wait_for_status(&id, OrderStatus::Queued).await;

    let who = [
        ("anonymous", &anonymous),
        ("alice", &alice),
        ("bob", &bob),
        ("barista", &barista),
        ("owner", &app.http),
    ];
    use StatusCode as S;
    let (ok, acc, cre, bad, una, forb, nf) = (
        S::OK,
        S::ACCEPTED,
        S::CREATED,
        S::BAD_REQUEST,
        S::UNAUTHORIZED,
        S::FORBIDDEN,
        S::NOT_FOUND,
    );
    let order_path = format!("/orders/{id}");
    let cancel_path = format!("/orders/{id}/cancel");
    // (method, path, body, [anonymous, alice (the owner), bob, barista, manager])
    let matrix: Vec<(Method, String, Option<Value>, [StatusCode; 5])> = vec![
        (Method::GET, "/stocks".into(), None, [ok, ok, ok, ok, ok]),
        (Method::GET, "/healthz".into(), None, [ok, ok, ok, ok, ok]),
        (Method::GET, "/readyz".into(), None, [ok, ok, ok, ok, ok]),
        (Method::GET, "/openapi.json".into(), None, [ok, ok, ok, ok, ok]),
        (Method::GET, "/metrics".into(), None, [ok, ok, ok, ok, ok]),
        (
            Method::POST,
            "/stocks".into(),
            Some(json!({"productName": product, "qty": 1})),
            [una, forb, forb, forb, ok],
        ),
        (
            Method::POST,
            "/orders".into(),
            Some(json!({"productName": product, "qty": 1})),
            [una, acc, acc, forb, forb],
        ),
        (Method::GET, order_path.clone(), None, [una, ok, nf, ok, ok]),
        (Method::GET, "/orders".into(), None, [una, ok, ok, bad, bad]),
        (
            Method::GET,
            "/orders?customerId=alice".into(),
            None,
            [una, ok, forb, ok, ok],
        ),
        (Method::GET, "/kitchen/tickets".into(), None, [una, forb, forb, ok, ok]),
        (
            Method::POST,
            "/kitchen/tickets/nope-1/start".into(),
            None,
            [una, forb, forb, nf, nf],
        ),
        (
            Method::POST,
            "/kitchen/tickets/nope-1/complete".into(),
            None,
            [una, forb, forb, nf, nf],
        ),
        // Alice's own cancel is checked below, once the others have been refused.
        (
            Method::POST,
            cancel_path.clone(),
            None,
            [una, S::CONFLICT, nf, forb, forb],
        ),
        (
            Method::PATCH,
            order_path.clone(),
            Some(json!({"status": "Canceled"})),
            [una, S::CONFLICT, nf, forb, forb],
        ),
        (Method::GET, "/staff".into(), None, [una, forb, forb, forb, ok]),
        (Method::GET, "/auth/me".into(), None, [una, ok, ok, ok, ok]),
        (
            Method::GET,
            "/stocks/restocks".into(),
            None,
            [una, forb, forb, forb, ok],
        ),
        (Method::GET, "/shop".into(), None, [una, forb, forb, forb, ok]),
        (Method::GET, "/chain".into(), None, [una, forb, forb, forb, ok]),
        (Method::GET, "/shop?shopId=nowhere".into(), None, [una, forb, forb, forb, S::UNPROCESSABLE_ENTITY]),
        // The chain's shops: listed to anyone, opened by the owner (the manager column's admin).
        (Method::GET, "/shops".into(), None, [ok, ok, ok, ok, ok]),
        (
            Method::POST,
            "/shops".into(),
            Some(json!({"shopId": "matrix", "name": "Matrix"})),
            [una, forb, forb, forb, cre],
        ),
        // The live updates (each sees what it may: see the page tests); the page itself is open.
        (Method::GET, "/events".into(), None, [una, ok, ok, ok, ok]),
        (Method::GET, "/".into(), None, [ok, ok, ok, ok, ok]),
        (Method::GET, "/assets/app.js".into(), None, [ok, ok, ok, ok, ok]),
    ];
    // Alice's cancel answers 409 in the matrix only because it runs after barry starts her order.
    let r = barista
        .post(format!("{}/kitchen/tickets/{id}/start", app.api))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), ok, "the barista created by the manager works the kitchen");
    let mut wrong = Vec::new();
    for (method, path, body, expected) in &matrix {
        for ((name, client), want) in who.iter().zip(expected) {
            let mut request = client.request(method.clone(), format!("{}{path}", app.api));
            if let Some(body) = body {
                request = request.json(body);
            }
            let r = request.send().await.unwrap();
            let got = r.status();
            if got == S::UNAUTHORIZED {
                assert!(
                    r.headers().contains_key("www-authenticate"),
                    "401 comes with WWW-Authenticate: {method} {path}"
                );
            }
            if got != *want {
                wrong.push(format!("{method} {path} as {name}: {got}, expected {want}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // Staff creation, as the manager only.
    let new_staff = json!({"name": "mia", "password": "mia-password", "role": "manager"});
    for (name, client) in &who[..4] {
        let r = client
            .post(format!("{}/staff", app.api))
            .json(&new_staff)
            .send()
            .await
            .unwrap();
        assert!(
            r.status() == una || r.status() == forb,
            "POST /staff as {name}: {}",
            r.status()
        );
    }
    let r = app.post("/staff", new_staff).await;
    assert_eq!(r.status(), cre);
}

#[tokio::test]
async fn customers_see_and_cancel_only_their_own_orders_and_keys_are_theirs() {
    let app = TestApp::spawn().await;
    let product = app.stocked_product(100).await;
    let alice = customer_client(&app.api, "alice").await;
    let bob = customer_client(&app.api, "bob").await;
    let place = |client: &reqwest::Client, body: Value| {
        client
            .post(format!("{}/orders", app.api))
            .header("Idempotency-Key", "same-key")
            .json(&body)
            .send()
    };
    let a: Value = place(&alice, json!({"productName": product, "qty": 1}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b: Value = place(&bob, json!({"productName": product, "qty": 2}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(a["orderId"], b["orderId"], "one key, two customers: two orders");
    let (a, b) = (&order_id_of(&a), &order_id_of(&b));
    app.wait_for_status(a, OrderStatus::Queued).await;
    app.wait_for_status(b, OrderStatus::Queued).await;

    // The customer id comes from the session: someone else's in the body is refused.
    let r = alice
        .post(format!("{}/orders", app.api))
        .json(&json!({"productName": product, "qty": 1, "customerId": "bob"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let mine: Value = alice
        .get(format!("{}/orders", app.api))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<_> = mine["items"].as_array().unwrap().iter().map(order_id_of).collect();
    assert_eq!(ids, std::slice::from_ref(a), "MyPages lists only alice's orders");

    let r = bob.post(format!("{}/orders/{a}/cancel", app.api)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "bob cannot cancel alice's order");
    app.wait_for_status(a, OrderStatus::Queued).await;
    let r = alice
        .post(format!("{}/orders/{a}/cancel", app.api))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "alice cancels her own");
    app.wait_for_status(a, OrderStatus::Canceled).await;
    app.wait_for_status(b, OrderStatus::Queued).await;
}

#[tokio::test]
async fn tampered_expired_and_signed_out_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let anonymous = reqwest::Client::new();
    let token = stack::customer_token(&anonymous, &app.api, "carol", "carol-password")
        .await
        .unwrap();
    let me = |token: String| {
        let anonymous = anonymous.clone();
        let url = format!("{}/auth/me", app.api);
        async move { anonymous.get(url).bearer_auth(token).send().await.unwrap() }
    };
    let r = me(token.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["name"], "carol");

    let (payload, tag) = token.rsplit_once('.').unwrap();
    let (session, expiry) = payload.split_once('.').unwrap();
    let flipped = if tag.starts_with('A') { 'B' } else { 'A' };
    let tampered = [
        format!("{payload}.{flipped}{}", &tag[1..]),
        format!("{session}.{}.{tag}", expiry.parse::<i64>().unwrap() + 3600),
        format!("{session}x.{expiry}.{tag}"),
        "garbage".to_owned(),
    ];
    for bad in tampered {
        let r = me(bad.clone()).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{bad}");
        let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(challenge.contains("invalid_token"), "{challenge}");
    }

    // An expired session (its row says so) is refused even though its token still verifies.
    let cafe = sqlx::PgPool::connect(&app.stack.postgres.url("cafe")).await.unwrap();
    let other = stack::sign_in(&anonymous, &app.api, "carol", "carol-password")
        .await
        .unwrap();
    let other_session = other.split('.').next().unwrap();
    sqlx::query("UPDATE sessions SET expires_at = 0 WHERE id = $1")
        .bind(other_session)
        .execute(&cafe)
        .await
        .unwrap();
    assert_eq!(me(other).await.status(), StatusCode::UNAUTHORIZED, "expired");

    // Signing out ends the token at once, and the live-update stream open on it.
    let mut stream = anonymous
        .get(format!("{}/events", app.api))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let ready = stream.chunk().await.unwrap().expect("the ready event");
    assert!(String::from_utf8_lossy(&ready).contains("event: ready"));
    let r = anonymous
        .post(format!("{}/auth/signout", app.api))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(me(token).await.status(), StatusCode::UNAUTHORIZED, "signed out");
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while stream.chunk().await.unwrap_or(None).is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the session's live-update stream ends with it");
}

#[tokio::test]
async fn a_password_never_appears_in_a_response_or_a_log_line() {
    let app = TestApp::spawn().await;
    let password = "Sup3r-Secret-Pa55word";
    let http = reqwest::Client::new();
    let mut said = String::new();
    for (path, body) in [
        ("/auth/signup", json!({"name": "dave", "password": password})),
        ("/auth/signup", json!({"name": "dave", "password": password})),
        ("/auth/signin", json!({"name": "dave", "password": password})),
        (
            "/auth/signin",
            json!({"name": "dave", "password": format!("{password}!")}),
        ),
        ("/auth/signin", json!({"name": "nobody", "password": password})),
        ("/auth/signup", json!({"name": "", "password": password})),
    ] {
        let r = http
            .post(format!("{}{path}", app.api))
            .json(&body)
            .send()
            .await
            .unwrap();
        said.push_str(&format!("{:?}", r.headers()));
        said.push_str(&r.text().await.unwrap());
    }
    let staff = json!({"name": "erin", "password": password, "role": "barista"});
    said.push_str(&app.post("/staff", staff).await.text().await.unwrap());
    said.push_str(&app.get("/staff").await.text().await.unwrap());
    assert!(!said.contains(password) && !said.contains("argon2"), "{said}");

    let cafe = sqlx::PgPool::connect(&app.stack.postgres.url("cafe")).await.unwrap();
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM accounts WHERE name = 'dave'")
        .fetch_one(&cafe)
        .await
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "stored as an argon2id hash: {stored}");

    let admin = app.stack.config.admin_password.expose();
    for entry in std::fs::read_dir(app.stack.config.logs()).unwrap() {
        let path = entry.unwrap().path();
        let log = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(!log.contains(password), "{} holds the password", path.display());
        assert!(!log.contains(admin), "{} holds the admin password", path.display());
    }
}

#[tokio::test]
async fn signing_up_with_a_taken_name_says_the_name_is_taken() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let signup = json!({"name": "gina", "password": "gina-password"});
    let first = http.post(format!("{}/auth/signup", app.api)).json(&signup).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let again = http.post(format!("{}/auth/signup", app.api)).json(&signup).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let problem: serde_json::Value = again.json().await.unwrap();
    assert_eq!(problem["title"], "The name is taken", "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("choose another"), "{problem}");
}

#[tokio::test]
async fn repeated_sign_in_attempts_are_limited() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    stack::customer_token(&http, &app.api, "frank", "frank-password")
        .await
        .unwrap();
    let attempt = |password: &'static str| {
        http.post(format!("{}/auth/signin", app.api))
            .json(&json!({"name": "frank", "password": password}))
            .send()
    };
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(attempt("wrong-password").await.unwrap().status());
    }
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    let r = attempt("frank-password").await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    // Another name is not held up.
    let r = http
        .post(format!("{}/auth/signin", app.api))
        .json(&json!({"name": "admin", "password": app.stack.config.admin_password.expose()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_session_cookie_works_for_the_page_but_not_from_another_site() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/auth/signin", app.api))
        .json(&json!({"name": "admin", "password": app.stack.config.admin_password.expose()}))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();

    let board = http
        .get(format!("{}/kitchen/tickets", app.api))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(board.status(), StatusCode::OK, "reads work with the cookie");

    let host = app.api.trim_start_matches("http://").to_owned();
    let start = |origin: Option<&str>| {
        let mut request = http
            .post(format!("{}/kitchen/tickets/nope-1/start", app.api))
            .header("cookie", &session)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("x=1");
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    let r = start(Some("http://evil.example")).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "a cross-site form post with a staff cookie"
    );
    let r = start(None).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a change without Origin");
    let r = start(Some(&format!("http://{host}"))).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "from the page itself it goes through (to no such ticket)"
    );
}
