//! Who is asking: sign-up, sign-in, sign-out, staff accounts, and the [`Caller`] every protected
//! handler takes. A token comes as `Authorization: Bearer …` (API clients) or as the HttpOnly,
//! SameSite=Strict cookie `coffeeshop_session` (the web page); a state-changing request carried by
//! the cookie must also come from this site (`Origin`, or `Sec-Fetch-Site: same-origin`), so
//! another web site cannot make a signed-in browser act.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::{CustomerId, ShopId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::identity::{Account, Role, SignInError};
use crate::json::Body;
use crate::problem::ProblemDoc;
use crate::problem::ApiError;
use crate::state::AppState;

/// The session cookie's name.
pub const COOKIE: &str = "coffeeshop_session";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_up))
        .routes(routes!(sign_in))
        .routes(routes!(sign_out))
        .routes(routes!(me))
        .routes(routes!(create_staff, list_staff))
}

/// The signed-in account behind a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: Account,
    session: String,
}

impl Caller {
    /// The customer id of a customer's orders: the account's name.
    pub fn customer_id(&self) -> Result<CustomerId, ApiError> {
        Ok(CustomerId::parse(&self.account.name)?)
    }

    /// The session the request came with.
    pub(crate) fn session(&self) -> &str {
        &self.session
    }

    pub fn role(&self) -> Role {
        self.account.role
    }

    /// Whether the caller is staff of `shop`: the owner, or a barista or manager working there.
    pub fn is_staff_of(&self, shop: &str) -> bool {
        match self.account.role {
            Role::Owner => true,
            Role::Barista | Role::Manager => self.account.shop.as_ref().is_some_and(|own| own.as_str() == shop),
            Role::Customer => false,
        }
    }

    /// Refuses (403) unless the caller has one of `roles` (the owner has every staff role); for
    /// actions that belong to no shop (a customer's, the owner's) or before the shop is known.
    pub fn require(&self, roles: &[Role], what: &str) -> Result<(), ApiError> {
        let role = self.account.role;
        if roles.contains(&role) || (role == Role::Owner && roles.iter().any(|r| r.is_staff())) {
            return Ok(());
        }
        let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        let article = if allowed[0].starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        Err(ApiError::Forbidden {
            detail: format!(
                "{what} needs {article} {} account; you are signed in as {} ({})",
                allowed.join(" or "),
                self.account.name,
                role.as_str()
            ),
        })
    }

    /// Refuses (403) unless the caller has one of `roles` and, as a barista or a manager, works
    /// at `shop`; `what` names the action.
    pub fn require_at(&self, roles: &[Role], shop: &ShopId, what: &str) -> Result<(), ApiError> {
        self.require(roles, what)?;
        let role = self.account.role;
        match &self.account.shop {
            Some(own) if role.works_at_one_shop() && own != shop => Err(ApiError::Forbidden {
                detail: format!(
                    "{what} at shop {shop} is for its own staff; you are signed in as {} ({} at shop {own})",
                    self.account.name,
                    role.as_str()
                ),
            }),
            _ => Ok(()),
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// Whether a cookie-carried request comes from this site's own page.
fn same_site(parts: &Parts) -> bool {
    let headers = &parts.headers;
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
        return !host.is_empty() && origin_host == host;
    }
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| site == "same-origin")
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (token, by_cookie) = match (bearer(&parts.headers), cookie(&parts.headers)) {
            (Some(token), _) => (token, false),
            (None, Some(token)) => (token, true),
            (None, None) => {
                return Err(ApiError::Unauthorized {
                    detail: "sign in first (POST /auth/signin) and send the token as `Authorization: Bearer <token>`"
                        .to_owned(),
                    bad_token: false,
                });
            }
        };
        if by_cookie && !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) && !same_site(parts) {
            return Err(ApiError::Forbidden {
                detail: "a change made with the session cookie must come from this site's own page".to_owned(),
            });
        }
        match state.accounts.authenticate(token).await? {
            Some((session, account)) => {
                tracing::Span::current().record("account", tracing::field::display(&account.name));
                Ok(Self { account, session })
            }
            None => Err(ApiError::Unauthorized {
                detail: "the session token is invalid, expired or signed out; sign in again".to_owned(),
                bad_token: true,
            }),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Credentials {
    /// For a customer, also the customer id of their orders.
    pub name: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewStaff {
    pub name: String,
    pub password: String,
    /// `barista` or `manager`.
    pub role: Role,
    /// The shop they work at; default: the manager's own shop (for the owner, `main`).
    pub shop_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    pub name: String,
    pub role: Role,
    /// The shop a barista or a manager works at (absent for a customer or the owner).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shop_id: Option<String>,
}

impl From<Account> for AccountView {
    fn from(a: Account) -> Self {
        Self {
            name: a.name,
            role: a.role,
            shop_id: a.shop.map(|s| s.to_string()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedIn {
    /// Send as `Authorization: Bearer <token>`; the page gets the same token as a cookie.
    pub token: String,
    pub token_type: &'static str,
    /// Unix seconds.
    pub expires_at: i64,
    pub account: AccountView,
}

fn account_name(raw: &str) -> Result<String, ApiError> {
    // An account's name is a valid customer id (1–64 visible characters).
    CustomerId::parse(raw)
        .map(|c| c.to_string())
        .map_err(|e| ApiError::unprocessable(format!("name: {}", e.to_string().replace("customerId", "name"))))
}

async fn create_account(
    state: &AppState,
    name: &str,
    password: &str,
    role: Role,
    shop: Option<ShopId>,
) -> Result<Response, ApiError> {
    let name = account_name(name)?;
    if !state.accounts.create(&name, password, role, shop.as_ref()).await? {
        return Err(ApiError::Invalid {
            status: StatusCode::CONFLICT,
            kind: "name-taken",
            title: "The name is taken",
            detail: format!("the name {name:?} is taken; choose another"),
        });
    }
    tracing::info!(account = %name, role = role.as_str(), shop = ?shop.as_ref().map(ShopId::as_str), "account created");
    let shop_id = shop.map(|s| s.to_string());
    Ok((StatusCode::CREATED, Json(AccountView { name, role, shop_id })).into_response())
}

/// The address an anonymous request came from: the connection's peer, or, behind a proxy the
/// configuration trusts (`COFFEESHOP_CLIENT_ADDRESS_HEADER`), the address that proxy put last
/// in that header. `None` when neither is known (a request made in-process, in tests).
pub struct ClientAddress(Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(Self(state.accounts.limits().client_address(peer, &parts.headers)))
    }
}

impl ClientAddress {
    /// Counts one attempt on an anonymous route against this address (429 beyond its limit).
    fn attempt(&self, state: &AppState) -> Result<(), ApiError> {
        let Some(address) = self.0 else { return Ok(()) };
        state
            .accounts
            .limits()
            .anonymous_attempt(address)
            .map_err(|wait| ApiError::TooManyRequests {
                retry_after_secs: crate::problem::retry_after_secs(wait),
                detail: "too many sign-in attempts from your address".to_owned(),
            })
    }
}

/// Sign up as a customer. The name becomes the customer id of your orders.
#[utoipa::path(post, path = "/auth/signup", tag = "accounts", request_body = Credentials, security(()),
    responses((status = 201, body = AccountView),
        (status = 400, body = ProblemDoc, content_type = "application/problem+json"), (status = 409, description = "the name is taken", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, body = ProblemDoc, content_type = "application/problem+json"), (status = 415, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, description = "too many attempts from this address; retry after `Retry-After`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn sign_up(
    State(state): State<AppState>,
    address: ClientAddress,
    Body(body): Body<Credentials>,
) -> Result<Response, ApiError> {
    address.attempt(&state)?;
    create_account(&state, &body.name, &body.password, Role::Customer, None).await
}

/// Sign in: returns a bearer token and sets the session cookie. Repeated attempts for one name,
/// and from one address, are limited (429 with `Retry-After`); while too many passwords wait to
/// be checked, 503 with `Retry-After`.
#[utoipa::path(post, path = "/auth/signin", tag = "accounts", request_body = Credentials, security(()),
    responses((status = 200, body = SignedIn),
        (status = 400, body = ProblemDoc, content_type = "application/problem+json"), (status = 401, description = "wrong name or password", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, body = ProblemDoc, content_type = "application/problem+json"), (status = 415, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, description = "too many attempts; retry after `Retry-After`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn sign_in(
    State(state): State<AppState>,
    address: ClientAddress,
    Body(body): Body<Credentials>,
) -> Result<Response, ApiError> {
    address.attempt(&state)?;
    let name = account_name(&body.name)?;
    let session = match state.accounts.sign_in(&name, &body.password).await {
        Ok(session) => session,
        Err(SignInError::Refused) => {
            tracing::info!(account = %name, "sign-in refused");
            return Err(ApiError::Unauthorized {
                detail: "wrong name or password".to_owned(),
                bad_token: false,
            });
        }
        Err(SignInError::TooMany(wait)) => {
            return Err(ApiError::TooManyRequests {
                retry_after_secs: crate::problem::retry_after_secs(wait),
                detail: "too many sign-in attempts for this name".to_owned(),
            });
        }
        Err(SignInError::Failed(e)) => return Err(e.into()),
    };
    let cookie = format!(
        "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        session.token,
        state.accounts.ttl().as_secs()
    );
    let body = SignedIn {
        token: session.token,
        token_type: "Bearer",
        expires_at: session.expires_at,
        account: session.account.into(),
    };
    let cookie = HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// Sign out: the token stops working at once and the cookie is cleared.
#[utoipa::path(post, path = "/auth/signout", tag = "accounts",
    responses((status = 204, description = "signed out"),
        (status = 401, body = ProblemDoc, content_type = "application/problem+json"), (status = 403, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn sign_out(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    state.accounts.sign_out(&caller.session).await?;
    let clear = HeaderValue::from_static("coffeeshop_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

/// The signed-in account.
#[utoipa::path(get, path = "/auth/me", tag = "accounts",
    responses((status = 200, body = AccountView),
        (status = 401, body = ProblemDoc, content_type = "application/problem+json"), (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn me(caller: Caller) -> Json<AccountView> {
    Json(caller.account.into())
}

/// Create a staff account: a barista or a manager of one shop (`shopId`, default: your own
/// shop). Requires: manager of that shop, or the owner.
#[utoipa::path(post, path = "/staff", tag = "accounts", request_body = NewStaff,
    responses((status = 201, body = AccountView),
        (status = 400, body = ProblemDoc, content_type = "application/problem+json"), (status = 401, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, body = ProblemDoc, content_type = "application/problem+json"), (status = 409, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, body = ProblemDoc, content_type = "application/problem+json"), (status = 415, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, body = ProblemDoc, content_type = "application/problem+json"), (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn create_staff(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewStaff>,
) -> Result<Response, ApiError> {
    let shop = match &body.shop_id {
        Some(raw) => ShopId::parse(raw)?,
        None => caller.account.shop.clone().unwrap_or_else(ShopId::main),
    };
    caller.require_at(&[Role::Manager], &shop, "creating staff accounts")?;
    if !body.role.works_at_one_shop() {
        return Err(ApiError::unprocessable(
            "role must be barista or manager; customers sign up themselves (POST /auth/signup)",
        ));
    }
    if !state.accounts.has_shop(&shop).await? {
        return Err(ApiError::unprocessable(format!(
            "shopId: there is no shop {shop:?}; GET /shops lists them"
        )));
    }
    create_account(&state, &body.name, &body.password, body.role, Some(shop)).await
}

/// The staff accounts: a manager's of their own shop, the owner's of the whole chain. Requires:
/// manager, or the owner.
#[utoipa::path(get, path = "/staff", tag = "accounts",
    responses((status = 200, body = Vec<AccountView>),
        (status = 401, body = ProblemDoc, content_type = "application/problem+json"), (status = 403, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
async fn list_staff(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<AccountView>>, ApiError> {
    // A manager sees their own shop's staff; the owner (no shop) the whole chain's.
    let shop = caller.account.shop.clone();
    caller.require_at(&[Role::Manager], shop.as_ref().unwrap_or(&ShopId::main()), "listing staff accounts")?;
    Ok(Json(
        state.accounts.staff(shop.as_ref()).await?.into_iter().map(Into::into).collect(),
    ))
}
