//! MyPages (`GET /orders`): a customer's orders, newest first, a page at a time, from the view.

use axum::Json;
use axum::extract::{Query, State};
use domain::{CustomerId, ShopId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::identity::Role;
use crate::problem::ProblemDoc;
use crate::view::{Cursor, OrderView, cut, page_bounds, shown};
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    pub customer_id: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Page {
    pub items: Vec<OrderView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// MyPages: a customer's orders, newest first, a page at a time (follow `next`). A customer sees
/// their own at every shop (`customerId` may be left out); staff name the customer and see their
/// orders at their own shop, the owner at every shop.
#[utoipa::path(get, path = "/orders", tag = "orders", params(ListQuery),
    responses((status = 200, body = Page), (status = 400, body = ProblemDoc, content_type = "application/problem+json"), (status = 503, body = ProblemDoc, content_type = "application/problem+json")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Page>, ApiError> {
    let Query(q) = query?;
    // Whose orders, and at which shop (`None`: every shop).
    let (customer, shop) = match (caller.role(), q.customer_id.as_deref()) {
        (Role::Customer, None) => (caller.customer_id()?, None),
        (Role::Customer, Some(given)) if given == caller.account.name => (caller.customer_id()?, None),
        (Role::Customer, Some(_)) => {
            return Err(ApiError::Forbidden {
                detail: "customers see only their own orders: leave customerId out or pass your own".to_owned(),
            });
        }
        (_, given) => {
            caller.require(&[Role::Barista, Role::Manager], "reading a customer's orders")?;
            let customer = CustomerId::parse(given.unwrap_or(""))
                .map_err(|e| ApiError::bad_request(format!("{e}; pass ?customerId=...")))?;
            let shop = caller.account.shop.clone().filter(|_| caller.role().works_at_one_shop());
            (customer, shop)
        }
    };
    let (limit, cursor) = page_bounds(q.limit, q.cursor.as_deref())?;
    let mut rows = state
        .view
        .orders_of(customer.as_str(), shop.as_ref().map(ShopId::as_str), cursor.as_ref(), limit + 1)
        .await?;
    let next_cursor = cut(&mut rows, limit, Cursor::after);
    let items = shown(rows);
    let next = next_cursor
        .as_deref()
        .map(|c| next_page_link(customer.as_str(), limit, c));
    Ok(Json(Page {
        items,
        next_cursor,
        next,
    }))
}

/// The link to the next page of MyPages, every value URL-encoded (a customer id may hold a space,
/// `+` or `&`).
fn next_page_link(customer: &str, limit: i64, cursor: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("customerId", customer)
        .append_pair("limit", &limit.to_string())
        .append_pair("cursor", cursor)
        .finish();
    format!("/orders?{query}")
}

#[cfg(test)]
mod tests {
    use super::next_page_link;

    #[test]
    fn the_next_page_link_gives_back_exactly_the_customer_id_it_was_made_for() {
        for customer in ["c-1", "ann smith", "a+b", "x&customerId=y", "100%", "é"] {
            let link = next_page_link(customer, 20, "abc");
            let query = link.strip_prefix("/orders?").unwrap();
            assert!(!query.contains(' '), "a valid URL has no raw space: {link}");
            let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
            assert_eq!(
                pairs,
                [
                    ("customerId".to_owned(), customer.to_owned()),
                    ("limit".to_owned(), "20".to_owned()),
                    ("cursor".to_owned(), "abc".to_owned())
                ]
            );
        }
    }
}
