//! The order's life as a state machine. `OrderWorkflow` applies these rules; it never decides a
//! transition on its own, so every rule here is unit-tested without Temporal.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::values::{CustomerId, OrderId, Price, ProductName, Quantity, ShopId};

/// A point in time as the history shows it: RFC 3339, UTC, milliseconds.
pub fn timestamp(t: std::time::SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// Where an order is in its life: Ordered → StockReserved → Queued → Brewing → Completed, or
/// Rejected (from Ordered) or Canceled (until brewing begins). [`Order::check`] holds the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderStatus {
    Ordered,
    StockReserved,
    Queued,
    Brewing,
    Completed,
    Rejected,
    Canceled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 7] = [
        Self::Ordered,
        Self::StockReserved,
        Self::Queued,
        Self::Brewing,
        Self::Completed,
        Self::Rejected,
        Self::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ordered => "Ordered",
            Self::StockReserved => "StockReserved",
            Self::Queued => "Queued",
            Self::Brewing => "Brewing",
            Self::Completed => "Completed",
            Self::Rejected => "Rejected",
            Self::Canceled => "Canceled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// No transition leaves a final status.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Rejected | Self::Canceled)
    }

    /// The seed's rule: an order whose production has not started can be canceled.
    pub fn is_cancelable(self) -> bool {
        matches!(self, Self::Ordered | Self::StockReserved | Self::Queued)
    }

    /// The order's transition rules, the one table of them: whether an order may move from `self`
    /// straight to `to`. [`Order::check`] applies it; the kitchen board derives its moves from it
    /// ([`OrderStatus::board_moves_into`]).
    pub fn allows(self, to: OrderStatus) -> bool {
        use OrderStatus::*;
        match (self, to) {
            (Ordered, StockReserved | Rejected) => true,
            (StockReserved, Queued) => true,
            (Queued, Brewing) => true,
            (Brewing, Completed) => true,
            (from, Canceled) => from.is_cancelable(),
            _ => false,
        }
    }

    /// Where a kitchen ticket may move to `to` from: the statuses a ticket can show (Queued
    /// onward) from which the order's rules reach `to` in one or more steps. So a move that
    /// overtakes one the board has not seen yet still lands (Completed while the ticket shows
    /// Queued), and a late or repeated one (Brewing after Completed) changes nothing.
    pub fn board_moves_into(to: OrderStatus) -> Vec<OrderStatus> {
        const ON_BOARD: [OrderStatus; 4] = [
            OrderStatus::Queued,
            OrderStatus::Brewing,
            OrderStatus::Completed,
            OrderStatus::Canceled,
        ];
        let reaches = |from: OrderStatus| {
            let mut seen = vec![from];
            let mut next = vec![from];
            while let Some(at) = next.pop() {
                for step in Self::ALL {
                    if at.allows(step) && !seen.contains(&step) {
                        seen.push(step);
                        next.push(step);
                    }
                }
            }
            seen.contains(&to) && from != to
        };
        ON_BOARD.into_iter().filter(|from| reaches(*from)).collect()
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the warehouse refused an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RejectReason {
    OutOfStock,
    UnknownProduct,
    /// The workflow was started (by hand) with an input the API would have refused.
    InvalidOrder,
    /// The order id was used before by another order (a workflow started again by hand with the
    /// id of a finished one): the warehouse will not count one reservation for two orders.
    DuplicateOrderId,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OutOfStock => "OutOfStock",
            Self::UnknownProduct => "UnknownProduct",
            Self::InvalidOrder => "InvalidOrder",
            Self::DuplicateOrderId => "DuplicateOrderId",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::OutOfStock,
            Self::UnknownProduct,
            Self::InvalidOrder,
            Self::DuplicateOrderId,
        ]
        .into_iter()
        .find(|r| r.as_str() == raw)
    }
}

/// The reason of an order canceled because no barista started it within its kitchen wait limit.
pub const KITCHEN_TIMEOUT: &str = "KitchenTimeout";

/// An order's reason as one of a few kinds (a refusal's, [`KITCHEN_TIMEOUT`], or `other`), never
/// the free text someone wrote: what metrics label and the Shop dashboard count by.
pub fn reason_kind(reason: &str) -> &'static str {
    // "InvalidOrder: …" carries what was invalid after its kind.
    let kind = reason.split(':').next().unwrap_or(reason);
    match RejectReason::parse(kind) {
        Some(refusal) => refusal.as_str(),
        None if reason == KITCHEN_TIMEOUT => KITCHEN_TIMEOUT,
        None => "other",
    }
}


/// Something that happens to an order. Each one is a step in its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderEvent {
    StockReserved,
    Rejected(RejectReason),
    Queued,
    BrewingStarted,
    Completed,
    Canceled { reason: String },
}

impl OrderEvent {
    fn target(&self) -> OrderStatus {
        match self {
            Self::StockReserved => OrderStatus::StockReserved,
            Self::Rejected(_) => OrderStatus::Rejected,
            Self::Queued => OrderStatus::Queued,
            Self::BrewingStarted => OrderStatus::Brewing,
            Self::Completed => OrderStatus::Completed,
            Self::Canceled { .. } => OrderStatus::Canceled,
        }
    }
}

/// A refused transition, phrased for the person who asked for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order {order_id} is {from}: {message}")]
pub struct TransitionRefused {
    pub order_id: String,
    pub from: OrderStatus,
    pub message: String,
}

/// One step of an order's history: the status it entered and when (the workflow's own clock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub status: OrderStatus,
    pub at: String,
}

/// A command the workflow received but could not apply (a late signal, say). Kept so nothing is
/// silently dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IgnoredCommand {
    pub command: String,
    pub reason: String,
    pub at: String,
}

/// How many ignored commands an order keeps (the latest ones).
pub const MAX_IGNORED: usize = 20;

/// The full state of one order: what the `status` query returns and what the view stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: OrderId,
    pub product_name: ProductName,
    pub qty: Quantity,
    pub customer_id: CustomerId,
    /// The shop it was placed at (`main` for orders placed before the chain had shops).
    #[serde(default)]
    pub shop_id: ShopId,
    pub status: OrderStatus,
    /// `OutOfStock`/`UnknownProduct` when rejected, the caller's reason when canceled.
    pub reason: Option<String>,
    pub placed_at: String,
    pub updated_at: String,
    pub history: Vec<HistoryEntry>,
    /// Stock is held for this order in the warehouse (to be released if it is canceled).
    pub stock_reserved: bool,
    /// A ticket for this order is on the kitchen board (to be withdrawn if it is canceled).
    pub ticket_open: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<IgnoredCommand>,
    /// The price of one unit, as the warehouse reserved it (`None` before, or if the product has
    /// no price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Price>,
}

impl Order {
    pub fn place(
        order_id: OrderId,
        product_name: ProductName,
        qty: Quantity,
        customer_id: CustomerId,
        shop_id: ShopId,
        at: String,
    ) -> Self {
        Self {
            order_id,
            product_name,
            qty,
            customer_id,
            shop_id,
            status: OrderStatus::Ordered,
            reason: None,
            placed_at: at.clone(),
            updated_at: at.clone(),
            history: vec![HistoryEntry {
                status: OrderStatus::Ordered,
                at,
            }],
            stock_reserved: false,
            ticket_open: false,
            unit_price: None,
            ignored: Vec::new(),
        }
    }

    /// An order whose request did not parse: rejected at once, with what was wrong as its reason.
    /// Fields that did not parse are shown as placeholders; the reason says which.
    pub fn invalid(workflow_id: &str, raw: &serde_json::Value, problem: &str, at: String) -> Self {
        let text = |field: &str| raw.get(field).and_then(serde_json::Value::as_str).unwrap_or("");
        let order_id = crate::order_id_from_workflow_id(workflow_id)
            .unwrap_or_else(|| OrderId::parse("invalid").expect("a valid id"));
        let placeholder = "(invalid)";
        let mut order = Self::place(
            order_id,
            ProductName::parse(text("productName")).unwrap_or_else(|_| ProductName::parse(placeholder).unwrap()),
            raw.get("qty")
                .and_then(serde_json::Value::as_i64)
                .and_then(|q| Quantity::parse(q).ok())
                .unwrap_or_else(|| Quantity::parse(1).unwrap()),
            CustomerId::parse(text("customerId")).unwrap_or_else(|_| CustomerId::parse(placeholder).unwrap()),
            ShopId::parse(text("shopId")).unwrap_or_default(),
            at.clone(),
        );
        let _ = order.apply(OrderEvent::Rejected(RejectReason::InvalidOrder), at);
        order.reason = Some(format!("InvalidOrder: {problem}"));
        order
    }

    /// The history's length: it grows by one with each transition, so it orders projections.
    pub fn seq(&self) -> u32 {
        self.history.len() as u32
    }

    /// Whether `event` may happen now, without applying it. Update validators call this so a
    /// refused command never reaches the history.
    pub fn check(&self, event: &OrderEvent) -> Result<(), TransitionRefused> {
        use OrderStatus::*;
        if self.status.allows(event.target()) {
            return Ok(());
        }
        let message = match (self.status, event) {
            (Brewing, OrderEvent::Canceled { .. }) => {
                "the barista has started brewing it, so it can no longer be canceled".to_owned()
            }
            (from, _) if from.is_final() => "it is finished; nothing more can happen to it".to_owned(),
            (_, OrderEvent::BrewingStarted) => "only a Queued order can start brewing".to_owned(),
            (_, OrderEvent::Completed) => "only a Brewing order can be completed".to_owned(),
            (_, other) => format!("cannot move to {}", other.target()),
        };
        Err(TransitionRefused {
            order_id: self.order_id.to_string(),
            from: self.status,
            message,
        })
    }

    /// Applies `event` at time `at`, appending it to the history.
    pub fn apply(&mut self, event: OrderEvent, at: String) -> Result<(), TransitionRefused> {
        self.check(&event)?;
        match &event {
            OrderEvent::StockReserved => self.stock_reserved = true,
            OrderEvent::Queued => self.ticket_open = true,
            OrderEvent::Rejected(reason) => self.reason = Some(reason.as_str().to_owned()),
            OrderEvent::Canceled { reason } => self.reason = Some(reason.clone()),
            // Handed over: the ticket is done (the board records it), nothing left to withdraw.
            OrderEvent::Completed => self.ticket_open = false,
            OrderEvent::BrewingStarted => {}
        }
        self.status = event.target();
        self.updated_at = at.clone();
        self.history.push(HistoryEntry {
            status: self.status,
            at,
        });
        Ok(())
    }

    /// What the order costs, once the warehouse has reserved it at a price.
    pub fn total(&self) -> Option<Price> {
        self.unit_price.map(|unit| unit.times(self.qty.get()))
    }

    /// What a cancel must undo, in the order to undo it: the kitchen ticket first, then the stock
    /// (the reverse of how they were taken).
    pub fn compensations(&self) -> Vec<Compensation> {
        let mut steps = Vec::new();
        if self.status == OrderStatus::Canceled {
            if self.ticket_open {
                steps.push(Compensation::CancelProduction);
            }
            if self.stock_reserved {
                steps.push(Compensation::ReleaseStock);
            }
        }
        steps
    }

    /// The warehouse has reserved the stock. Normally that moves the order on; if a cancel won the
    /// race meanwhile, the order stays canceled and the stock is remembered so it gets released.
    pub fn stock_was_reserved(&mut self, at: String) {
        if self.status == OrderStatus::Canceled {
            self.stock_reserved = true;
        } else {
            // Only Ordered can be here: nothing else happens while the reservation is in flight.
            let _ = self.apply(OrderEvent::StockReserved, at);
        }
    }

    /// The kitchen has put a ticket on the board; the twin of [`Order::stock_was_reserved`].
    pub fn ticket_was_opened(&mut self, at: String) {
        if self.status == OrderStatus::Canceled {
            self.ticket_open = true;
        } else {
            let _ = self.apply(OrderEvent::Queued, at);
        }
    }

    /// The order as the workflow will keep it once the compensations it is running now are done
    /// (they are retried until they are): what a cancel answers, so that the answer never shows a
    /// canceled order still holding stock or a ticket.
    pub fn once_compensated(&self) -> Order {
        let mut settled = self.clone();
        for step in self.compensations() {
            settled.compensated(step);
        }
        settled
    }

    /// Records that a compensation has been carried out.
    pub fn compensated(&mut self, step: Compensation) {
        match step {
            Compensation::CancelProduction => self.ticket_open = false,
            Compensation::ReleaseStock => self.stock_reserved = false,
        }
    }

    /// Notes a command that could not be applied, so it shows in the `status` query. Only the
    /// latest [`MAX_IGNORED`] are kept: signals can be sent without end, and the order (its query
    /// result, its projection) must stay small.
    pub fn ignore(&mut self, command: &str, reason: String, at: String) {
        if self.ignored.len() >= MAX_IGNORED {
            self.ignored.remove(0);
        }
        self.ignored.push(IgnoredCommand {
            command: command.to_owned(),
            reason,
            at,
        });
    }
}

/// A saga compensation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compensation {
    CancelProduction,
    ReleaseStock,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_board_moves_follow_the_order_rules() {
        use OrderStatus::*;
        // Read off the transition table: Queued → Brewing → Completed, Queued → Canceled.
        assert_eq!(OrderStatus::board_moves_into(Brewing), [Queued]);
        assert_eq!(OrderStatus::board_moves_into(Completed), [Queued, Brewing]);
        assert_eq!(OrderStatus::board_moves_into(Canceled), [Queued]);
        assert_eq!(OrderStatus::board_moves_into(Queued), [] as [OrderStatus; 0], "nothing moves back to Queued");
    }

    #[test]
    fn an_invalid_request_is_an_order_rejected_at_once_with_the_problem() {
        let raw = serde_json::json!({"orderId": "o-9", "productName": "", "qty": 0, "customerId": "c-2"});
        let o = Order::invalid("order-o-9", &raw, "productName: must not be empty", "t0".into());
        assert_eq!(o.status, OrderStatus::Rejected);
        assert_eq!(o.order_id.as_str(), "o-9");
        assert_eq!(o.customer_id.as_str(), "c-2");
        assert_eq!(
            o.reason.as_deref(),
            Some("InvalidOrder: productName: must not be empty")
        );
        assert_eq!(o.history.len(), 2);
        assert!(o.compensations().is_empty());
    }

    #[test]
    fn an_endless_stream_of_refused_commands_keeps_only_the_latest_few() {
        let mut o = order();
        for i in 0..(MAX_IGNORED + 5) {
            o.ignore("completeProduction", format!("refusal {i}"), "t".into());
        }
        assert_eq!(o.ignored.len(), MAX_IGNORED);
        assert_eq!(o.ignored.last().unwrap().reason, format!("refusal {}", MAX_IGNORED + 4));
        assert_eq!(o.ignored[0].reason, "refusal 5");
    }

    fn order() -> Order {
        Order::place(
            OrderId::parse("o-1").unwrap(),
            ProductName::parse("Americano").unwrap(),
            Quantity::parse(2).unwrap(),
            CustomerId::parse("c-1").unwrap(),
            ShopId::main(),
            "t0".into(),
        )
    }

    fn at(order: &mut Order, events: impl IntoIterator<Item = OrderEvent>) {
        for (i, e) in events.into_iter().enumerate() {
            order.apply(e, format!("t{}", i + 1)).unwrap();
        }
    }

    fn cancel() -> OrderEvent {
        OrderEvent::Canceled {
            reason: "changed my mind".into(),
        }
    }

    #[test]
    fn the_happy_path_goes_through_every_status_and_records_each_step() {
        let mut o = order();
        at(
            &mut o,
            [
                OrderEvent::StockReserved,
                OrderEvent::Queued,
                OrderEvent::BrewingStarted,
                OrderEvent::Completed,
            ],
        );
        let steps: Vec<_> = o.history.iter().map(|h| h.status.as_str()).collect();
        assert_eq!(steps, ["Ordered", "StockReserved", "Queued", "Brewing", "Completed"]);
        assert_eq!(o.seq(), 5);
        assert_eq!(o.updated_at, "t4");
        assert!(o.compensations().is_empty());
    }

    #[test]
    fn a_rejected_order_keeps_the_reason() {
        let mut o = order();
        at(&mut o, [OrderEvent::Rejected(RejectReason::OutOfStock)]);
        assert_eq!(o.status, OrderStatus::Rejected);
        assert_eq!(o.reason.as_deref(), Some("OutOfStock"));
        assert!(o.check(&cancel()).is_err());
    }

    #[test]
    fn cancel_is_allowed_until_brewing_starts() {
        for before in [
            vec![],
            vec![OrderEvent::StockReserved],
            vec![OrderEvent::StockReserved, OrderEvent::Queued],
        ] {
            let mut o = order();
            at(&mut o, before.clone());
            o.apply(cancel(), "tc".into())
                .unwrap_or_else(|e| panic!("{before:?}: {e}"));
            assert_eq!(o.status, OrderStatus::Canceled);
            assert_eq!(o.reason.as_deref(), Some("changed my mind"));
        }
    }

    #[test]
    fn cancel_is_refused_once_brewing_with_a_message_that_says_why() {
        let mut o = order();
        at(
            &mut o,
            [
                OrderEvent::StockReserved,
                OrderEvent::Queued,
                OrderEvent::BrewingStarted,
            ],
        );
        let err = o.check(&cancel()).unwrap_err();
        assert_eq!(err.from, OrderStatus::Brewing);
        assert!(err.to_string().contains("can no longer be canceled"), "{err}");
        assert_eq!(o.history.len(), 4, "a refused command leaves no trace in the history");
    }

    #[test]
    fn barista_actions_are_valid_only_in_their_own_status() {
        let mut o = order();
        assert!(o.check(&OrderEvent::BrewingStarted).is_err());
        assert!(o.check(&OrderEvent::Completed).is_err());
        at(&mut o, [OrderEvent::StockReserved, OrderEvent::Queued]);
        assert!(o.check(&OrderEvent::Completed).is_err());
        assert!(o.check(&OrderEvent::BrewingStarted).is_ok());
    }

    #[test]
    fn nothing_leaves_a_final_status() {
        let mut o = order();
        at(&mut o, [cancel()]);
        for e in [
            OrderEvent::StockReserved,
            OrderEvent::Queued,
            OrderEvent::BrewingStarted,
            cancel(),
        ] {
            assert!(o.check(&e).unwrap_err().message.contains("finished"));
        }
    }

    #[test]
    fn compensations_run_in_reverse_order_of_what_was_taken() {
        let mut o = order();
        at(&mut o, [OrderEvent::StockReserved, OrderEvent::Queued, cancel()]);
        assert_eq!(
            o.compensations(),
            [Compensation::CancelProduction, Compensation::ReleaseStock]
        );
        o.compensated(Compensation::CancelProduction);
        assert_eq!(o.compensations(), [Compensation::ReleaseStock]);
        o.compensated(Compensation::ReleaseStock);
        assert!(o.compensations().is_empty());

        let mut early = order();
        at(&mut early, [cancel()]);
        assert!(
            early.compensations().is_empty(),
            "nothing was taken before StockReserved"
        );
    }

    #[test]
    fn a_cancel_that_wins_the_race_with_the_warehouse_still_releases_the_stock() {
        let mut o = order();
        at(&mut o, [cancel()]);
        o.stock_was_reserved("t2".into());
        assert_eq!(o.status, OrderStatus::Canceled);
        assert_eq!(o.compensations(), [Compensation::ReleaseStock]);

        let mut later = order();
        at(&mut later, [OrderEvent::StockReserved, cancel()]);
        later.ticket_was_opened("t3".into());
        assert_eq!(
            later.compensations(),
            [Compensation::CancelProduction, Compensation::ReleaseStock]
        );
        assert_eq!(later.history.len(), 3, "late results add no step to the history");
    }

    #[test]
    fn what_a_command_answers_is_the_order_as_it_will_be_kept() {
        let mut queued = order();
        at(&mut queued, [OrderEvent::StockReserved, OrderEvent::Queued, cancel()]);
        assert!(queued.stock_reserved && queued.ticket_open, "compensations still to run");
        let answer = queued.once_compensated();
        assert_eq!(answer.status, OrderStatus::Canceled);
        assert!(!answer.stock_reserved && !answer.ticket_open, "{answer:?}");
        assert!(answer.compensations().is_empty());

        let mut served = order();
        at(
            &mut served,
            [OrderEvent::StockReserved, OrderEvent::Queued, OrderEvent::BrewingStarted, OrderEvent::Completed],
        );
        assert!(!served.ticket_open, "a completed order has no open ticket");
        assert_eq!(served.once_compensated(), served);
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
        assert_eq!(OrderStatus::parse("queued"), None);
    }

    #[test]
    fn a_reason_becomes_one_of_a_few_kinds() {
        for (reason, kind) in [
            ("OutOfStock", "OutOfStock"),
            ("InvalidOrder: qty must be from 1 to 100", "InvalidOrder"),
            ("KitchenTimeout", "KitchenTimeout"),
            ("changed my mind", "other"),
            ("canceled through Temporal: OutOfStock", "other"),
        ] {
            assert_eq!(reason_kind(reason), kind, "{reason}");
        }
    }
}
