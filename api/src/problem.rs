//! Errors as RFC 9457 problem documents (`application/problem+json`): a stable `type`, a human
//! `title`, and a `detail` that says what to fix. Internal causes are never sent: `IntoResponse`
//! attaches them to the response as a [`FailureCause`], and one middleware ([`log_failures`])
//! logs every 5xx with its whole cause chain.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Bodies above this are refused with 413 (the limit `app` sets, and what a 413 says).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is wrong; `detail` says how.
    #[error("{detail}")]
    Invalid {
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: String,
    },
    /// A command is not valid in the order's current state.
    #[error("{detail}")]
    Conflict { detail: String },
    #[error("{what} not found")]
    NotFound { what: String },
    /// No credential, or one that is not (or no longer) valid: 401 with `WWW-Authenticate`.
    #[error("unauthorized: {detail}")]
    Unauthorized { detail: String, bad_token: bool },
    /// Signed in, but not allowed to do this.
    #[error("forbidden: {detail}")]
    Forbidden { detail: String },
    /// Too many requests of one kind (sign-in attempts for a name or from an address, new orders
    /// at a shop); `detail` says which, and the client may retry after this long.
    #[error("too many requests: {detail}")]
    TooManyRequests { retry_after_secs: u64, detail: String },
    /// Temporal (or the view) cannot be reached right now; try again shortly.
    #[error("unavailable: {cause:#}")]
    Unavailable {
        cause: anyhow::Error,
        retry_after_secs: u64,
    },
    /// A command needs a worker (besides the Temporal server) that did not answer in time.
    #[error("the {worker} worker did not answer in time")]
    WorkerUnavailable { worker: &'static str },
    /// A bug or an unexpected failure: logged with its cause, sent without it.
    #[error("internal: {0}")]
    Internal(#[from] anyhow::Error),
}

/// Identity's failures as HTTP: a broken password rule is the caller's to fix (422); a busy
/// hashing pool or an unreachable accounts database is worth retrying (503); a failed hash is ours.
impl From<crate::identity::IdentityError> for ApiError {
    fn from(e: crate::identity::IdentityError) -> Self {
        use crate::identity::IdentityError;
        match e {
            IdentityError::WeakPassword(rule) => Self::unprocessable(rule),
            IdentityError::Busy(busy) => Self::Unavailable {
                cause: busy.into(),
                retry_after_secs: 1,
            },
            store @ IdentityError::Store(_) => Self::Unavailable {
                cause: store.into(),
                retry_after_secs: 2,
            },
            hashing @ IdentityError::Hashing(_) => Self::Internal(hashing.into()),
        }
    }
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::Invalid {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid-request",
            title: "The request is invalid",
            detail: detail.into(),
        }
    }

    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::Invalid {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            kind: "invalid-field",
            title: "A field has an invalid value",
            detail: detail.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound { what: what.into() }
    }

    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        Self::Unavailable {
            cause: anyhow::anyhow!("{cause}"),
            retry_after_secs: 2,
        }
    }
}

/// The view (its database) could not answer: a 503, with the error chain kept for the log.
impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::Unavailable {
            cause: anyhow::Error::new(e).context("the customercenter view is unavailable"),
            retry_after_secs: 2,
        }
    }
}

impl From<domain::InvalidValue> for ApiError {
    fn from(e: domain::InvalidValue) -> Self {
        Self::unprocessable(e.to_string())
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
}

/// A wait as `Retry-After` gives it: whole seconds, rounded up, at least one.
pub fn retry_after_secs(wait: std::time::Duration) -> u64 {
    (wait.as_secs_f64().ceil() as u64).max(1)
}

/// Builds a problem response; used for every error the API sends, its own or the framework's.
pub fn problem(status: StatusCode, kind: &str, title: &str, detail: String) -> Response {
    let body = Problem {
        kind: format!("https://coffeeshop.example/problems/{kind}"),
        title,
        status: status.as_u16(),
        detail,
    };
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::Invalid {
                status,
                kind,
                title,
                detail,
            } => problem(status, kind, title, detail),
            Self::Conflict { detail } => problem(
                StatusCode::CONFLICT,
                "conflict",
                "Not possible in the order's current state",
                detail,
            ),
            Self::NotFound { what } => problem(
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                format!("{what} does not exist; check the id"),
            ),
            Self::Unauthorized { detail, bad_token } => {
                let mut response = problem(StatusCode::UNAUTHORIZED, "unauthorized", "Sign-in required", detail);
                let challenge = if bad_token {
                    r#"Bearer realm="coffeeshop", error="invalid_token""#
                } else {
                    r#"Bearer realm="coffeeshop""#
                };
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
                response
            }
            Self::Forbidden { detail } => problem(StatusCode::FORBIDDEN, "forbidden", "Not allowed", detail),
            Self::TooManyRequests { retry_after_secs, detail } => {
                let mut response = problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too-many-requests",
                    "Too many requests",
                    format!("{detail}; retry in {retry_after_secs} s"),
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                response
            }
            Self::Unavailable {
                cause,
                retry_after_secs,
            } => {
                let mut response = problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Temporarily unavailable",
                    format!("the order system cannot take this request right now; retry in {retry_after_secs} s"),
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                with_cause(response, format!("{cause:#}"))
            }
            Self::WorkerUnavailable { worker } => {
                let mut response = problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "worker-unavailable",
                    "A worker is unavailable",
                    format!(
                        "the {worker} worker did not answer in time (it may be down or restarting); placing orders still \
                         works; retry this request in 2 s (if it went through meanwhile, the retry tells you so)"
                    ),
                );
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(2));
                with_cause(response, format!("the {worker} worker did not answer"))
            }
            Self::Internal(cause) => with_cause(
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "something went wrong on our side; it has been logged".to_owned(),
                ),
                format!("{cause:?}"),
            ),
        }
    }
}

/// Why a request failed on our side, for the log only (never sent).
#[derive(Clone, Debug)]
pub struct FailureCause(pub String);

fn with_cause(mut response: Response, cause: String) -> Response {
    response.extensions_mut().insert(FailureCause(cause));
    response
}

/// Logs every 5xx answer once, with its cause: warnings for 503 (the system says "later"), errors
/// for anything else.
pub async fn log_failures(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let (method, uri) = (request.method().clone(), request.uri().clone());
    let response = next.run(request).await;
    let status = response.status();
    if status.is_server_error() {
        let cause = response
            .extensions()
            .get::<FailureCause>()
            .map_or("-", |c| c.0.as_str());
        if status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::warn!(%method, %uri, status = status.as_u16(), cause, "answering 503");
        } else {
            tracing::error!(%method, %uri, status = status.as_u16(), cause, "internal error");
        }
    }
    response
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        if platform::http::is_read_timeout(&rejection) {
            return Self::Invalid {
                status: StatusCode::REQUEST_TIMEOUT,
                kind: "request-timeout",
                title: "Request timeout",
                detail: "the body stopped arriving; send the whole request again".to_owned(),
            };
        }
        let status = rejection.status();
        let (kind, title) = match status {
            StatusCode::PAYLOAD_TOO_LARGE => ("body-too-large", "The request body is too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported-media-type", "The body must be JSON"),
            StatusCode::UNPROCESSABLE_ENTITY => ("invalid-field", "A field is missing or has the wrong type"),
            _ => ("malformed-json", "The body is not valid JSON"),
        };
        let detail = match status {
            StatusCode::PAYLOAD_TOO_LARGE => format!("send at most {} bytes", MAX_BODY_BYTES),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "send the body with Content-Type: application/json".to_owned(),
            _ => rejection.body_text(),
        };
        let status = if status == StatusCode::UNPROCESSABLE_ENTITY || status.is_client_error() {
            status
        } else {
            StatusCode::BAD_REQUEST
        };
        Self::Invalid {
            status,
            kind,
            title,
            detail,
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}

/// The shape of every error (RFC 9457), for the OpenAPI document.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProblemDoc {
    /// A stable URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong and what to do about it.
    pub detail: String,
}
