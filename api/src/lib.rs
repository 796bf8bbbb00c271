//! The gateway: one axum API for every command and query (docs/spec.md, "The REST contract"). Commands go to Temporal
//! (start a workflow, execute an update) through `order-commands` and a circuit breaker
//! (`commands.rs`); queries read the customercenter view. The OpenAPI document is generated from
//! the handlers' annotations.
//!
//! This file only assembles: it declares the modules and merges their routes; nothing here is
//! imported back by them (what every handler reaches is in `state.rs`, the error type in
//! `problem.rs`). `app(state)` builds the router without serving it, so tests can drive it on any
//! listener.

pub mod admission;
pub mod auth;
pub mod identity;
mod commands;
mod fanout;
pub(crate) mod idempotency;
mod json;
pub mod just_placed;
pub mod kitchen;
pub mod live;
pub mod metrics;
mod my_pages;
pub mod ops;
pub mod orders;
mod page;
pub mod problem;
mod reading;
pub mod shop;
pub mod shops;
mod state;
pub mod stocks;
pub mod view;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use commands::TemporalGuard;
pub use problem::MAX_BODY_BYTES;
pub use metrics::Metrics;
pub use problem::ApiError;
pub use state::AppState;
pub use view::View;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CoffeeShop on Temporal",
        description = "Order coffee, follow it, cancel it; work the kitchen; restock."
    ),
    components(schemas(problem::ProblemDoc)),
    modifiers(&SecuritySchemes),
    security(("bearer" = []), ("cookie" = []))
)]
struct ApiDoc;

/// The two ways to present a session: a bearer token (API clients) or the page's cookie. Every
/// route needs one unless its own `security` says otherwise (`[{}]`: open).
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("the `token` from POST /auth/signin"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(auth::COOKIE))),
        );
    }
}

/// The routes and the OpenAPI document that describes exactly them.
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(orders::router())
        .merge(stocks::router())
        .merge(shop::router())
        .merge(shops::router())
        .merge(kitchen::router())
        .merge(auth::router())
        .merge(ops::router())
        .merge(live::router())
        .split_for_parts();
    document_auth_failures(&mut doc);
    (router, doc)
}

/// Adds the 401 and 403 answers to every documented route that needs a session.
fn document_auth_failures(doc: &mut utoipa::openapi::OpenApi) {
    // Every route that needs a session can answer 401 (none, or not valid) and 403 (not
    // allowed): documented here once rather than on each route.
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let problem = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ProblemDoc")))
                        .build(),
                )
                .build(),
        )
    };
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            if operation.security.is_some() {
                continue;
            }
            let responses = &mut operation.responses.responses;
            responses
                .entry("401".to_owned())
                .or_insert_with(|| problem("no session, or one that is invalid, expired or signed out"));
            responses
                .entry("403".to_owned())
                .or_insert_with(|| problem("signed in, but this account's role may not do this"));
        }
    }
}

pub fn app(state: AppState) -> Router {
    let (router, doc) = routes();
    let doc = Arc::new(doc);
    let request_id = HeaderName::from_static("x-request-id");
    router
        .route("/openapi.json", axum::routing::get(move || async move { axum::Json(doc.as_ref().clone()) }))
        .route("/metrics", axum::routing::get(ops::metrics))
        .merge(page::router())
        .fallback(|| async {
            problem::problem(StatusCode::NOT_FOUND, "not-found", "Not found", "no such route; see /openapi.json".to_owned())
        })
        .method_not_allowed_fallback(|| async {
            problem::problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "this route does not take that method; see /openapi.json".to_owned(),
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(problem::log_failures))
        .layer(axum::middleware::from_fn_with_state(state.metrics.clone(), metrics::track))
        // Every request gets an id (or keeps the caller's), on its span and in the response, and
        // handlers add the order id to the same span: one order can be followed through the logs.
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            let span = tracing::info_span!("request", method = %req.method(), uri = %req.uri(), request_id = %id, order_id = tracing::field::Empty, account = tracing::field::Empty);
            platform::telemetry::continue_trace(&span, req.headers());
            span
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}
