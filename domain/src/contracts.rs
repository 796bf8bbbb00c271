//! What crosses a service boundary: task queues, workflow ids, workflow and update payloads, and
//! the activity definitions (name + input + output). Workflows call activities through these
//! definitions; each service's activity module implements them (`#[activity(definition = ..)]`),
//! and the compiler checks that the two agree.

use serde::{Deserialize, Serialize};
use temporalio_common::ActivityError;
use temporalio_macros::activity_definitions;

use crate::order::Order;
use crate::values::{CustomerId, OrderId, Price, ProductName, Quantity, RestockQuantity, ShopId};

/// Task queues, one per service: a service's worker polls only its own.
pub mod queues {
    pub const CAFE: &str = "cafe";
    pub const WAREHOUSE: &str = "warehouse";
    pub const KITCHEN: &str = "kitchen";
    pub const CUSTOMERCENTER: &str = "customercenter";
}

/// Search attributes kept current by `OrderWorkflow` (all Keyword), so the Temporal UI can filter
/// e.g. `OrderStatus="Queued"`. They must be registered on the server (`make run` does).
pub mod search_attributes {
    use temporalio_common::search_attributes::SearchAttributeKey;

    pub const ORDER_STATUS: SearchAttributeKey<String> = SearchAttributeKey::keyword("OrderStatus");
    pub const PRODUCT_NAME: SearchAttributeKey<String> = SearchAttributeKey::keyword("ProductName");
    pub const CUSTOMER_ID: SearchAttributeKey<String> = SearchAttributeKey::keyword("CustomerId");
    /// The order's shop, set when the order is started: `ShopId="gangnam" AND OrderStatus="Queued"`.
    pub const SHOP_ID: SearchAttributeKey<String> = SearchAttributeKey::keyword("ShopId");
    /// Their names, for registering them.
    pub const NAMES: [&str; 4] = ["OrderStatus", "ProductName", "CustomerId", "ShopId"];
}

/// The workflow id of an order: `order-<orderId>`.
pub fn order_workflow_id(order_id: &OrderId) -> String {
    format!("order-{order_id}")
}

/// The order id inside an order workflow id, if it is one.
pub fn order_id_from_workflow_id(workflow_id: &str) -> Option<OrderId> {
    workflow_id
        .strip_prefix("order-")
        .and_then(|id| OrderId::parse(id).ok())
}

/// The workflow id of a restock: `restock-<restockId>`.
pub fn restock_workflow_id(restock_id: &str) -> String {
    format!("restock-{restock_id}")
}

/// Input of `OrderWorkflow`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaceOrder {
    pub order_id: OrderId,
    pub product_name: ProductName,
    pub qty: Quantity,
    pub customer_id: CustomerId,
    /// The shop it is placed at; absent: `main` (every order started before the chain had shops).
    #[serde(default)]
    pub shop_id: ShopId,
    /// How long the order may wait Queued for a barista before it is canceled (`KitchenTimeout`);
    /// `0` means no limit; absent means [`KitchenWait::DEFAULT`]. Fixed when the order is placed
    /// (the API's `KITCHEN_MAX_WAIT`), so a configuration change never alters running orders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kitchen_max_wait_ms: Option<u64>,
    /// When the API accepted the order (RFC 3339): the order's `placedAt`, so that the API can
    /// show an order it has just placed exactly as the workflow will. Absent (started by hand, or
    /// before this field) or not within [`PlaceOrder::PLACED_AT_SLACK`] before the workflow's
    /// start: the start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placed_at: Option<String>,
}

impl PlaceOrder {
    /// How long before its workflow's start an order may have been placed (the API's call to
    /// Temporal; clocks of two hosts).
    pub const PLACED_AT_SLACK: std::time::Duration = std::time::Duration::from_secs(60);

    /// The order's `placedAt`: the API's time if plausible for a workflow started at `started`,
    /// else `started`.
    pub fn placed_at(&self, started: std::time::SystemTime) -> String {
        let given = self.placed_at.as_deref().and_then(|t| humantime::parse_rfc3339(t).ok());
        match given {
            Some(at) if at <= started && started.duration_since(at).is_ok_and(|d| d <= Self::PLACED_AT_SLACK) => {
                crate::order::timestamp(at)
            }
            _ => crate::order::timestamp(started),
        }
    }
}

/// The kitchen wait limit (`KITCHEN_MAX_WAIT`).
pub struct KitchenWait;

impl KitchenWait {
    pub const DEFAULT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

    /// Parses `KITCHEN_MAX_WAIT` (`30m`, `90s`, `1h 30m`, or `0` for no limit) into milliseconds.
    pub fn parse(raw: &str) -> Result<u64, crate::values::InvalidValue> {
        let raw = raw.trim();
        if raw == "0" {
            return Ok(0);
        }
        humantime::parse_duration(raw)
            .map(|d| d.as_millis().min(u128::from(u64::MAX)) as u64)
            .map_err(|e| crate::values::InvalidValue {
                field: "KITCHEN_MAX_WAIT",
                problem: format!("{e}; write a duration such as 30m, 90s or 0 (no limit)"),
            })
    }

    /// The limit an order carries: `None` when it has none.
    pub fn of(order: &PlaceOrder) -> Option<std::time::Duration> {
        match order.kitchen_max_wait_ms {
            None => Some(Self::DEFAULT),
            Some(0) => None,
            Some(ms) => Some(std::time::Duration::from_millis(ms)),
        }
    }
}

/// The input of `OrderWorkflow` as it arrives. The API only ever sends a valid [`PlaceOrder`], but
/// anyone can start the workflow by hand (`temporal workflow start`, the Web UI) with any JSON, so
/// the workflow parses its input with the same parsers as the API: a request that does not parse
/// becomes an order that is rejected at once with the reason, instead of a workflow that trips
/// somewhere later (or never starts).
#[derive(Debug, Clone, PartialEq)]
pub enum OrderRequest {
    Valid(PlaceOrder),
    Invalid {
        /// What is wrong, phrased like the API's problem details.
        problem: String,
        /// The input as it was sent.
        raw: serde_json::Value,
    },
}

/// The fields of an order request before they are parsed.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOrderRequest {
    order_id: String,
    product_name: String,
    qty: i64,
    customer_id: String,
    #[serde(default)]
    shop_id: Option<String>,
    #[serde(default)]
    kitchen_max_wait_ms: Option<u64>,
    #[serde(default)]
    placed_at: Option<String>,
}

impl OrderRequest {
    /// Parses a request as the API would; never fails, an invalid request says why.
    pub fn parse(raw: serde_json::Value) -> Self {
        let fields = match RawOrderRequest::deserialize(&raw) {
            Ok(fields) => fields,
            Err(e) => {
                return Self::Invalid {
                    problem: format!(
                        "the input must be {{\"orderId\", \"productName\", \"qty\" (1 to 100), \"customerId\"}} and optionally \"shopId\": {e}"
                    ),
                    raw,
                };
            }
        };
        let parsed = (|| {
            Ok::<_, crate::values::InvalidValue>(PlaceOrder {
                order_id: OrderId::parse(&fields.order_id)?,
                product_name: ProductName::parse(&fields.product_name)?,
                qty: Quantity::parse(fields.qty)?,
                customer_id: CustomerId::parse(&fields.customer_id)?,
                shop_id: fields.shop_id.as_deref().map(ShopId::parse).transpose()?.unwrap_or_default(),
                kitchen_max_wait_ms: fields.kitchen_max_wait_ms,
                placed_at: fields.placed_at,
            })
        })();
        match parsed {
            Ok(order) => Self::Valid(order),
            Err(e) => Self::Invalid {
                problem: e.to_string(),
                raw,
            },
        }
    }
}

impl From<PlaceOrder> for OrderRequest {
    fn from(order: PlaceOrder) -> Self {
        Self::Valid(order)
    }
}

impl Serialize for OrderRequest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Valid(order) => order.serialize(serializer),
            Self::Invalid { raw, .. } => raw.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for OrderRequest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(deserializer).map(Self::parse)
    }
}

/// Input of the `cancel` update and signal. `{}` is enough; the reason is kept on the order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelRequest {
    #[serde(default)]
    pub reason: Option<String>,
}

impl CancelRequest {
    pub const DEFAULT_REASON: &'static str = "canceled by the customer";

    pub fn reason(&self) -> String {
        match self.reason.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => r.chars().take(200).collect(),
            _ => Self::DEFAULT_REASON.to_owned(),
        }
    }
}

/// Input of `RestockWorkflow`: the restock id makes a retried restock count once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Restock {
    pub restock_id: String,
    /// The shop whose stock it adds to; absent: `main`.
    #[serde(default)]
    pub shop_id: ShopId,
    pub product_name: ProductName,
    pub qty: RestockQuantity,
    /// The product's new price per unit, if this restock sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Price>,
}

/// A product's stock after a change. `version` grows with every change of that product, so the
/// view can tell a stale level from a newer one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockLevel {
    /// Stock is kept per shop and product.
    #[serde(default)]
    pub shop_id: ShopId,
    pub product_name: ProductName,
    pub qty: i64,
    pub version: i64,
    /// The price of one unit (for a reservation: the price it was taken at); `None` until the
    /// manager sets one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Price>,
    /// The restock that made this level, when one did: the view keeps it in the restock log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restocked: Option<RestockRecord>,
}

/// One restock as the restock log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestockRecord {
    pub restock_id: String,
    /// How much it added.
    pub qty: i64,
}

/// `reserveStock`'s input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    pub order_id: OrderId,
    /// The shop whose stock it takes; absent: `main`.
    #[serde(default)]
    pub shop_id: ShopId,
    pub product_name: ProductName,
    pub qty: Quantity,
    /// The first run id of the order's workflow: the same for every attempt, reset and
    /// continue-as-new of one order, different for another order that reuses the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_run: Option<String>,
}

/// The kitchen's ticket for one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub order_id: OrderId,
    /// The shop whose board it goes on; absent: `main`.
    #[serde(default)]
    pub shop_id: ShopId,
    pub product_name: ProductName,
    pub qty: Quantity,
}

/// A ticket's move on the kitchen board (`Brewing`, `Completed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketMove {
    pub order_id: OrderId,
    pub status: crate::order::OrderStatus,
}

/// One projection into the customercenter view: the order as it is now (its `seq` orders
/// projections), and the stock level this order's latest step produced, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderProjection {
    pub order: Order,
    pub stock: Option<StockLevel>,
    /// The length of the workflow's history when it was projected: what orders projections
    /// (before `seq`). A projection sent from a workflow task that was then lost (its worker or
    /// the server died) carries a shorter history than anything the workflow decides afterwards,
    /// so what it decides then replaces it even at a lower `seq`. `0` for projections made before
    /// this field.
    #[serde(default)]
    pub at_event: u64,
}

/// Failure types of business refusals (non-retryable application failures).
pub mod failures {
    pub const OUT_OF_STOCK: &str = "OutOfStock";
    pub const UNKNOWN_PRODUCT: &str = "UnknownProduct";
    pub const DUPLICATE_ORDER_ID: &str = "DuplicateOrderId";
}

/// The warehouse's activities (task queue `warehouse`).
pub struct Warehouse;

#[activity_definitions]
impl Warehouse {
    /// Deducts `qty` atomically if enough is in stock; idempotent per order. Refuses with a
    /// non-retryable `OutOfStock` or `UnknownProduct` failure.
    #[activity(name = "reserveStock")]
    pub fn reserve_stock(_: Reservation) -> Result<StockLevel, ActivityError> {
        unimplemented!()
    }

    /// Puts an order's reservation back; idempotent. `None` when nothing was held.
    #[activity(name = "releaseStock")]
    pub fn release_stock(_: OrderId) -> Result<Option<StockLevel>, ActivityError> {
        unimplemented!()
    }

    /// Adds stock, creating the product if new; idempotent per restock id.
    #[activity(name = "restock")]
    pub fn restock(_: Restock) -> Result<StockLevel, ActivityError> {
        unimplemented!()
    }
}

/// The kitchen's activities (task queue `kitchen`).
pub struct Kitchen;

#[activity_definitions]
impl Kitchen {
    /// Puts a ticket on the kitchen board; idempotent.
    #[activity(name = "startProduction")]
    pub fn start_production(_: Ticket) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Moves a ticket on the board (Brewing, Completed) once the order has accepted the barista's
    /// command; idempotent, and a late attempt never moves a ticket back.
    #[activity(name = "moveTicket")]
    pub fn move_ticket(_: TicketMove) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Withdraws a ticket (the saga's compensation); idempotent.
    #[activity(name = "cancelProduction")]
    pub fn cancel_production(_: OrderId) -> Result<(), ActivityError> {
        unimplemented!()
    }
}

/// The customercenter's projections into its view.
pub struct CustomerCenter;

#[activity_definitions]
impl CustomerCenter {
    /// Projects an order (and its stock change) into the view; idempotent and order-safe. A
    /// *local* activity of the cafe worker, which hands the projection to the customercenter's
    /// ingest route.
    #[activity(name = "projectOrder")]
    pub fn project_order(_: OrderProjection) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Projects a stock level into the view; a stale version never overwrites a newer one.
    #[activity(name = "projectStock")]
    pub fn project_stock(_: StockLevel) -> Result<(), ActivityError> {
        unimplemented!()
    }
}

/// The activity definitions as types, for implementations to name in
/// `#[activity(definition = domain::definitions::ReserveStock)]`.
pub mod definitions {
    pub use super::customer_center::{ProjectOrder, ProjectStock};
    pub use super::kitchen::{CancelProduction, MoveTicket, StartProduction};
    pub use super::warehouse::{ReleaseStock, ReserveStock, Restock};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_ids_carry_the_order_id_and_give_it_back() {
        let id = OrderId::parse("abc-1").unwrap();
        assert_eq!(order_workflow_id(&id), "order-abc-1");
        assert_eq!(order_id_from_workflow_id("order-abc-1"), Some(id));
        assert_eq!(order_id_from_workflow_id("restock-1"), None);
    }

    #[test]
    fn a_cancel_without_a_reason_gets_a_default_one() {
        let empty: CancelRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(empty.reason(), CancelRequest::DEFAULT_REASON);
        let given: CancelRequest = serde_json::from_str(r#"{"reason":" changed my mind "}"#).unwrap();
        assert_eq!(given.reason(), "changed my mind");
    }

    #[test]
    fn an_order_request_is_parsed_as_the_api_parses_it() {
        let valid: OrderRequest =
            serde_json::from_str(r#"{"orderId":"o1","productName":" Latte ","qty":2,"customerId":"c-1"}"#).unwrap();
        let OrderRequest::Valid(order) = valid else {
            panic!("{valid:?}")
        };
        assert_eq!(order.product_name.as_str(), "Latte");

        for (raw, field) in [
            (
                r#"{"orderId":"o1","productName":"","qty":2,"customerId":"c-1"}"#,
                "productName",
            ),
            (
                r#"{"orderId":"o1","productName":"Latte","qty":0,"customerId":"c-1"}"#,
                "qty",
            ),
            (
                r#"{"orderId":"a b","productName":"Latte","qty":1,"customerId":"c-1"}"#,
                "orderId",
            ),
            (r#"{"productName":"Latte"}"#, "orderId"),
            (r#""just a string""#, "the input must be"),
        ] {
            let parsed: OrderRequest = serde_json::from_str(raw).expect("any JSON deserializes");
            match parsed {
                OrderRequest::Invalid { problem, .. } => assert!(problem.contains(field), "{raw}: {problem}"),
                OrderRequest::Valid(_) => panic!("{raw} was accepted"),
            }
        }
    }

    #[test]
    fn an_order_is_placed_when_the_api_took_it_if_that_is_plausible() {
        let started = humantime::parse_rfc3339("2026-11-27T10:00:00.500Z").unwrap();
        let order = |placed_at: Option<&str>| {
            let mut raw = serde_json::json!({"orderId":"o1","productName":"Latte","qty":1,"customerId":"c-1"});
            if let Some(at) = placed_at {
                raw["placedAt"] = at.into();
            }
            match OrderRequest::parse(raw) {
                OrderRequest::Valid(o) => o.placed_at(started),
                invalid => panic!("{invalid:?}"),
            }
        };
        assert_eq!(order(Some("2026-11-27T10:00:00.480Z")), "2026-11-27T10:00:00.480Z");
        for start_time in [
            None,
            Some("2026-11-27T10:00:01.000Z"), // after the start: another host's clock
            Some("2026-11-27T09:58:00.000Z"), // long before the start
            Some("yesterday"),
        ] {
            assert_eq!(order(start_time), "2026-11-27T10:00:00.500Z", "{start_time:?}");
        }
    }

    #[test]
    fn the_kitchen_wait_limit_reads_as_people_write_durations() {
        assert_eq!(KitchenWait::parse("30m").unwrap(), 30 * 60 * 1000);
        assert_eq!(KitchenWait::parse("1h 30m").unwrap(), 90 * 60 * 1000);
        assert_eq!(KitchenWait::parse("0").unwrap(), 0);
        assert!(KitchenWait::parse("soon").unwrap_err().problem.contains("30m"));
        let mut order: PlaceOrder =
            serde_json::from_str(r#"{"orderId":"o1","productName":"Latte","qty":2,"customerId":"c-1"}"#).unwrap();
        assert_eq!(
            KitchenWait::of(&order),
            Some(KitchenWait::DEFAULT),
            "absent: the default"
        );
        order.kitchen_max_wait_ms = Some(0);
        assert_eq!(KitchenWait::of(&order), None, "0: no limit");
        order.kitchen_max_wait_ms = Some(1500);
        assert_eq!(KitchenWait::of(&order), Some(std::time::Duration::from_millis(1500)));
    }

    #[test]
    fn payloads_are_camel_case_as_the_cli_types_them() {
        let json = r#"{"orderId":"o1","productName":"Latte","qty":2,"customerId":"c-1","shopId":"gangnam"}"#;
        let p: PlaceOrder = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), json);
    }

    #[test]
    fn an_order_that_names_no_shop_is_placed_at_main_and_a_malformed_shop_is_refused() {
        let parse = |json: &str| OrderRequest::parse(serde_json::from_str(json).unwrap());
        match parse(r#"{"orderId":"o1","productName":"Latte","qty":2,"customerId":"c-1"}"#) {
            OrderRequest::Valid(o) => assert_eq!(o.shop_id, ShopId::main()),
            invalid => panic!("{invalid:?}"),
        }
        match parse(r#"{"orderId":"o1","productName":"Latte","qty":2,"customerId":"c-1","shopId":"Gang Nam"}"#) {
            OrderRequest::Invalid { problem, .. } => assert!(problem.contains("shopId"), "{problem}"),
            valid => panic!("{valid:?}"),
        }
    }
}
