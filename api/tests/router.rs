//! The router in-process (`tower::ServiceExt::oneshot`): no Temporal, no workers, no view; only
//! the accounts database (a fresh one on the test process's shared PostgreSQL).
//! What needs nothing but the API itself is checked here, in milliseconds: input validation and
//! routing always answer a 4xx problem document that says what to fix, and with Temporal or the
//! view unreachable, commands and reads answer 503 with `Retry-After`, never a 500. The full-stack
//! tests in `e2e/` check what crosses processes (that bad input starts no workflow, and so on).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use api::identity::{Accounts, Role, SessionKey};
use api::{AppState, Metrics, TemporalGuard, View, app};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

const KEY: &[u8] = b"router-tests-key-router-tests-key";

/// The accounts database (the one real dependency here: who is asking is decided first) with a
/// customer `c` and the owner `admin` signed in: their tokens.
struct Tokens {
    url: String,
    customer: String,
    manager: String,
}

async fn tokens() -> &'static Tokens {
    static TOKENS: tokio::sync::OnceCell<Tokens> = tokio::sync::OnceCell::const_new();
    TOKENS
        .get_or_init(|| async {
            let url = stack::postgres::fresh_test_database().await;
            let accounts =
                Accounts::connect_lazy(&url, SessionKey::new(KEY.to_vec()), Duration::from_secs(600)).unwrap();
            accounts.prepare(Some("admin-password")).await.unwrap();
            assert!(accounts.create("c", "customer-password", Role::Customer, None).await.unwrap());
            let customer = accounts.sign_in("c", "customer-password").await.unwrap().token;
            let manager = accounts.sign_in("admin", "admin-password").await.unwrap().token;
            Tokens { url, customer, manager }
        })
        .await
}

/// The API with no Temporal connection yet and a view on a port where nothing listens.
async fn router() -> axum::Router {
    router_with(api::live::Live::new(8)).await
}

async fn router_with(live: api::live::Live) -> axum::Router {
    let metrics = Metrics::new();
    let guard = Arc::new(TemporalGuard::new(
        Duration::from_millis(500),
        Duration::from_secs(2),
        16,
        metrics.commands_shed.clone(),
    ));
    let accounts = Accounts::connect_lazy(
        &tokens().await.url,
        SessionKey::new(KEY.to_vec()),
        Duration::from_secs(600),
    )
    .unwrap();
    app(AppState {
        temporal: Arc::new(OnceLock::new()),
        view: View::connect_lazy("postgres://nobody@127.0.0.1:1/none", 1).unwrap(),
        accounts,
        guard,
        metrics,
        live,
        kitchen_max_wait_ms: 0,
        just_placed: Default::default(),
        admission: Default::default(),
    })
}

/// Sends `request` as the person it is for: the customer `c` to place or cancel an order, the
/// manager for the rest.
async fn send(mut request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let path = request.uri().path().to_owned();
    let for_customer = request.method() != axum::http::Method::GET && path.starts_with("/orders");
    let tokens = tokens().await;
    let token = if for_customer {
        &tokens.customer
    } else {
        &tokens.manager
    };
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let response = router().await.oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (parts.status, parts.headers, value)
}

fn post_json(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

/// Asserts a problem document with `status` whose detail mentions `mentions`.
fn assert_problem(
    (status, headers, body): (StatusCode, axum::http::HeaderMap, Value),
    want: StatusCode,
    mentions: &str,
) {
    assert_eq!(status, want, "{body}");
    assert_eq!(headers["content-type"], "application/problem+json");
    assert!(body["type"].as_str().unwrap().starts_with("https://"), "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains(mentions),
        "detail should mention {mentions:?}: {body}"
    );
}

#[tokio::test]
async fn every_bad_order_is_a_422_that_names_the_field() {
    for (body, mentions) in [
        (json!({"productName": "Latte", "qty": 0, "customerId": "c"}), "qty"),
        (json!({"productName": "Latte", "qty": 101, "customerId": "c"}), "qty"),
        (json!({"productName": "Latte", "qty": 1.5, "customerId": "c"}), "qty"),
        (json!({"productName": "Latte", "qty": "2", "customerId": "c"}), "qty"),
        (json!({"productName": "Latte", "customerId": "c"}), "qty"),
        (json!({"productName": "", "qty": 1, "customerId": "c"}), "productName"),
        (
            json!({"productName": "x".repeat(65), "qty": 1, "customerId": "c"}),
            "64",
        ),
        (
            json!({"productName": "Lat\u{7}te", "qty": 1, "customerId": "c"}),
            "control",
        ),
        (
            json!({"productName": "Latte", "qty": 1, "customerId": ""}),
            "customerId",
        ),
    ] {
        assert_problem(
            send(post_json("/orders", &body.to_string())).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            mentions,
        );
    }
}

#[tokio::test]
async fn malformed_requests_get_the_matching_4xx_problem() {
    assert_problem(
        send(post_json("/orders", "{not json")).await,
        StatusCode::BAD_REQUEST,
        "",
    );
    let text = Request::post("/orders")
        .header("content-type", "text/plain")
        .body(Body::from("hi"))
        .unwrap();
    assert_problem(send(text).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "application/json");
    let huge = format!(r#"{{"productName":"{}","qty":1,"customerId":"c"}}"#, "x".repeat(70_000));
    assert_problem(
        send(post_json("/orders", &huge)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "bytes",
    );
    let keyed = Request::post("/orders")
        .header("content-type", "application/json")
        .header("idempotency-key", "x".repeat(300))
        .body(Body::from(r#"{"productName":"Latte","qty":1,"customerId":"c"}"#))
        .unwrap();
    assert_problem(send(keyed).await, StatusCode::BAD_REQUEST, "Idempotency-Key");
    assert_problem(
        send(post_json("/stocks", r#"{"productName":"Latte","qty":0}"#)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "qty",
    );
    assert_problem(
        send(
            Request::patch("/orders/o-1")
                .header("content-type", "application/json")
                .body(Body::from(r#"{"status":"Completed"}"#))
                .unwrap(),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Canceled",
    );
}

#[tokio::test]
async fn routing_mistakes_are_problems_too() {
    assert_problem(
        send(Request::get("/nowhere").body(Body::empty()).unwrap()).await,
        StatusCode::NOT_FOUND,
        "openapi",
    );
    assert_problem(
        send(Request::delete("/stocks").body(Body::empty()).unwrap()).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method",
    );
    assert_problem(
        send(Request::get("/orders").body(Body::empty()).unwrap()).await,
        StatusCode::BAD_REQUEST,
        "customerId",
    );
    assert_problem(
        send(
            Request::get("/orders?customerId=c&limit=0")
                .body(Body::empty())
                .unwrap(),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "limit",
    );
    assert_problem(
        send(
            Request::get("/orders?customerId=c&cursor=junk")
                .body(Body::empty())
                .unwrap(),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "cursor",
    );
    assert_problem(
        send(
            Request::get("/kitchen/tickets?status=Sleeping")
                .body(Body::empty())
                .unwrap(),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "",
    );
    assert_problem(
        send(Request::get("/orders/not%20an%20id").body(Body::empty()).unwrap()).await,
        StatusCode::NOT_FOUND,
        "",
    );
}

#[tokio::test]
async fn with_temporal_and_the_view_unreachable_the_answer_is_503_with_retry_after_never_500() {
    let valid = r#"{"productName":"Latte","qty":1,"customerId":"c"}"#;
    for request in [
        post_json("/orders", valid),
        post_json("/stocks", r#"{"productName":"Latte","qty":5}"#),
        post_json("/orders/o-1/cancel", "{}"),
        post_json("/kitchen/tickets/o-1/start", "{}"),
        Request::get("/stocks").body(Body::empty()).unwrap(),
        Request::get("/orders?customerId=c").body(Body::empty()).unwrap(),
    ] {
        let what = format!("{} {}", request.method(), request.uri());
        let (status, headers, body) = send(request).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {body}");
        assert!(headers.contains_key("retry-after"), "{what}");
        assert_eq!(headers["content-type"], "application/problem+json", "{what}");
        let text = body.to_string();
        assert!(
            !text.contains("127.0.0.1") && !text.contains("sqlx") && !text.contains("pool"),
            "{what}: internal causes are logged, never sent: {text}"
        );
    }
}

#[tokio::test]
async fn the_openapi_document_is_served_and_lists_the_routes() {
    let (status, _, doc) = send(Request::get("/openapi.json").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/orders",
        "/orders/{order_id}",
        "/orders/{order_id}/cancel",
        "/stocks",
        "/kitchen/tickets",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    let place = &doc["paths"]["/orders"]["post"];
    assert!(
        place["responses"]["401"].is_object() && place["responses"]["403"].is_object(),
        "{place}"
    );
    let menu = &doc["paths"]["/stocks"]["get"];
    assert!(menu["responses"]["401"].is_null(), "the menu is open: {menu}");
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn the_page_is_served_by_the_api_with_everything_it_needs_and_nothing_from_elsewhere() {
    let app = router().await;
    for (path, content_type) in [
        ("/", "text/html; charset=utf-8"),
        ("/assets/app.js", "text/javascript; charset=utf-8"),
        ("/assets/app.css", "text/css; charset=utf-8"),
        ("/assets/icon.svg", "image/svg+xml"),
    ] {
        let r = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers()["content-type"], content_type, "{path}");
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"),
            "{csp}"
        );
        let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(
            !text.contains("http://") && !text.contains("https://") || path.ends_with(".svg"),
            "{path} loads nothing from elsewhere"
        );
    }
}

#[tokio::test]
async fn live_update_streams_are_bounded_and_a_closed_one_frees_its_place() {
    let app = router_with(api::live::Live::new(1)).await;
    let manager = &tokens().await.manager;
    let open = || {
        app.clone().oneshot(
            Request::get("/events")
                .header("authorization", format!("Bearer {manager}"))
                .body(Body::empty())
                .unwrap(),
        )
    };
    let anonymous = app
        .clone()
        .oneshot(Request::get("/events").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let first = open().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["content-type"], "text/event-stream");
    let mut body = first.into_body().into_data_stream();
    use futures::StreamExt;
    let ready = body.next().await.unwrap().unwrap();
    let ready = String::from_utf8_lossy(&ready);
    assert!(
        ready.starts_with("event: ready\ndata: {\"account\":\"admin\",\"role\":\"owner\"}"),
        "{ready}"
    );

    let second = open().await.unwrap();
    assert_eq!(second.status(), StatusCode::SERVICE_UNAVAILABLE, "one stream at most");
    assert!(second.headers().contains_key("retry-after"));

    drop(body);
    let third = open().await.unwrap();
    assert_eq!(third.status(), StatusCode::OK, "the closed stream gave its place back");
}
