//! The key that opens a service's internal routes to the services that call them (today one: the
//! customercenter's `POST /ingest/order`, called by the cafe worker). Every process that calls or
//! serves an internal route reads it from `COFFEESHOP_INTERNAL_KEY`; the caller sends it as
//! `Authorization: Bearer <key>`. To rotate it: give the serving side the new key with the old one
//! in `COFFEESHOP_INTERNAL_KEY_PREVIOUS`, then the callers the new key, then drop the previous.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::config::Secret;

/// `COFFEESHOP_INTERNAL_KEY` (and, while it rotates, the previous one).
#[derive(Debug, Clone, clap::Args)]
pub struct InternalKeyConfig {
    /// The key the services' internal routes require (at least 32 characters; the same for the
    /// cafe worker and the customercenter). `make run` generates one.
    #[arg(long, env = "COFFEESHOP_INTERNAL_KEY", value_name = "COFFEESHOP_INTERNAL_KEY",
        value_parser = long_secret)]
    pub internal_key: Secret,
    /// While the key rotates: the previous key, still accepted by the serving side.
    #[arg(long, env = "COFFEESHOP_INTERNAL_KEY_PREVIOUS", value_name = "COFFEESHOP_INTERNAL_KEY_PREVIOUS",
        value_parser = long_secret)]
    pub internal_key_previous: Option<Secret>,
}

/// The shortest key accepted.
pub const MIN_KEY_CHARS: usize = 32;

fn long_secret(raw: &str) -> Result<Secret, String> {
    if raw.chars().count() >= MIN_KEY_CHARS {
        raw.parse()
    } else {
        Err(format!("must be at least {MIN_KEY_CHARS} characters"))
    }
}

impl InternalKeyConfig {
    /// The `Authorization` value a caller sends.
    pub fn authorization(&self) -> String {
        format!("Bearer {}", self.internal_key.expose())
    }

    /// Whether `headers` carry one of the accepted keys (compared in constant time).
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        let Some(presented) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
        else {
            return false;
        };
        let accepted = std::iter::once(&self.internal_key).chain(self.internal_key_previous.as_ref());
        // Every accepted key is compared, so the time taken does not say which one matched.
        accepted.fold(false, |found, key| found | bool::from(key.expose().as_bytes().ct_eq(presented)))
    }
}

/// Middleware for an internal route: `401` unless the caller presents the key.
pub async fn require_key(State(keys): State<InternalKeyConfig>, request: Request, next: Next) -> Response {
    if keys.admits(request.headers()) {
        next.run(request).await
    } else {
        tracing::warn!(uri = %request.uri(), "refused an internal call without the internal key");
        (StatusCode::UNAUTHORIZED, "this route is for the cafe worker; present COFFEESHOP_INTERNAL_KEY\n").into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(current: &str, previous: Option<&str>) -> InternalKeyConfig {
        InternalKeyConfig {
            internal_key: current.parse().unwrap(),
            internal_key_previous: previous.map(|p| p.parse().unwrap()),
        }
    }

    fn bearer(key: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, format!("Bearer {key}").parse().unwrap());
        headers
    }

    #[test]
    fn only_the_current_or_previous_key_is_admitted() {
        let (new, old) = ("n".repeat(32), "o".repeat(32));
        let rotating = keys(&new, Some(&old));
        assert!(rotating.admits(&bearer(&new)));
        assert!(rotating.admits(&bearer(&old)));
        assert!(!rotating.admits(&bearer(&"x".repeat(32))));
        assert!(!rotating.admits(&bearer(&new[..31])));
        assert!(!rotating.admits(&HeaderMap::new()));
        assert!(!keys(&new, None).admits(&bearer(&old)));
    }

    #[test]
    fn a_short_key_is_refused_at_start() {
        assert!(long_secret(&"k".repeat(31)).is_err());
        assert!(long_secret(&"k".repeat(32)).is_ok());
    }
}
