//! `Idempotency-Key`: a client's key for a command it may send more than once. The key (scoped to
//! its customer, in a UUID namespace of its own per resource) decides the id of what the command
//! creates, so retries, races and API restarts all land on one workflow.

use axum::http::HeaderMap;
use domain::{CustomerId, OrderId};
use uuid::Uuid;

use crate::problem::ApiError;

/// Ids chosen by an `Idempotency-Key` live in their own UUID namespace.
const ORDER_NAMESPACE: Uuid = Uuid::from_u128(0x6c1f_3c2e_9a57_4e0b_8f0e_2d4a_c0ff_ee00);

/// Reads the `Idempotency-Key` header, if any, and turns it into the order id it stands for: the
/// key (scoped to the customer: two customers' keys never meet) decides the workflow id, so
/// retries, races and API restarts all land on one workflow.
pub(crate) fn order_id_for(headers: &HeaderMap, customer: &CustomerId) -> Result<OrderId, ApiError> {
    let namespace = Uuid::new_v5(&ORDER_NAMESPACE, customer.as_str().as_bytes());
    let id = idempotent_id(headers, &namespace)?.unwrap_or_else(Uuid::now_v7);
    Ok(OrderId::parse(&id.to_string()).expect("a UUID is a valid order id"))
}

/// The id an `Idempotency-Key` header stands for in `namespace` (`None` without the header).
pub(crate) fn idempotent_id(headers: &HeaderMap, namespace: &Uuid) -> Result<Option<Uuid>, ApiError> {
    let Some(key) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = key
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()))
        .ok_or_else(|| ApiError::bad_request("Idempotency-Key must be 1 to 255 visible ASCII characters"))?;
    Ok(Some(Uuid::new_v5(namespace, key.as_bytes())))
}
