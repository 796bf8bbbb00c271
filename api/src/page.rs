//! The web page (README, "The web page"): one HTML document, a script and a stylesheet, compiled into the API
//! and served from its own port, so the page needs nothing but the API. The page talks to the same
//! REST routes as any client, with the session cookie, plus `GET /events` for live updates.
//! Open to everyone: what a person may see and do is decided by the routes the page calls.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

/// Only this origin's own scripts, styles, connections and images; never framed by another site.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // Revalidated on each load, so a new version of the page is picked up at once.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
            (header::REFERRER_POLICY, HeaderValue::from_static("same-origin")),
        ],
        body,
    )
}

/// What the page is made of: (path, content type, body).
const ASSETS: [(&str, &str, &str); 4] = [
    ("/", "text/html; charset=utf-8", include_str!("../web/index.html")),
    (
        "/assets/app.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/app.js"),
    ),
    (
        "/assets/app.css",
        "text/css; charset=utf-8",
        include_str!("../web/app.css"),
    ),
    ("/assets/icon.svg", "image/svg+xml", include_str!("../web/icon.svg")),
];

/// `/` and `/assets/…`.
pub(crate) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    ASSETS
        .into_iter()
        .fold(Router::new(), |router, (path, content_type, body)| {
            router.route(path, get(move || async move { asset(content_type, body) }))
        })
}
