//! Orders this API replica has just placed, readable at once: a client that reads its order right
//! after `POST /orders` gets it as placed, before the view has it and without asking its workflow
//! (which, busy with its first task, would hold the query until that task is done, and a query
//! that meets a task waiting on its local activities costs the order a whole extra workflow task).
//! Kept for [`FRESH_FOR`] only: the view normally has the order once its first task is done
//! (milliseconds; seconds when the Temporal server is saturated); after that, or with the view
//! down, the workflow is asked as before.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use domain::{Order, OrderId};

/// How long a just-placed order is answered from here. One second was too short at saturation,
/// where an order's first workflow task can wait seconds for the server (docs/benchmarks.md:
/// placed to completed at saturation).
pub const FRESH_FOR: Duration = Duration::from_secs(5);

/// At most this many are kept (five seconds of orders at 2,000/s); the oldest go first.
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct JustPlaced {
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    by_id: HashMap<OrderId, (Instant, Order)>,
    arrival: VecDeque<(Instant, OrderId)>,
}

impl JustPlaced {
    /// Remembers an order this replica has just started, as its workflow starts it.
    pub fn remember(&self, order: Order) {
        let now = Instant::now();
        let mut e = self.entries.lock().expect("never poisoned: no panics under the lock");
        while let Some((at, _)) = e.arrival.front()
            && (now.duration_since(*at) > FRESH_FOR || e.arrival.len() >= CAPACITY)
        {
            let (at, id) = e.arrival.pop_front().expect("just looked at it");
            if e.by_id.get(&id).is_some_and(|(kept, _)| *kept == at) {
                e.by_id.remove(&id);
            }
        }
        e.arrival.push_back((now, order.order_id.clone()));
        e.by_id.insert(order.order_id.clone(), (now, order));
    }

    /// The order as placed, if this replica placed it less than [`FRESH_FOR`] ago.
    pub fn get(&self, id: &OrderId) -> Option<Order> {
        let e = self.entries.lock().expect("never poisoned: no panics under the lock");
        let (at, order) = e.by_id.get(id)?;
        (at.elapsed() <= FRESH_FOR).then(|| order.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{CustomerId, ProductName, Quantity};

    fn order(id: &str) -> Order {
        Order::place(
            OrderId::parse(id).unwrap(),
            ProductName::parse("Latte").unwrap(),
            Quantity::parse(1).unwrap(),
            CustomerId::parse("c-1").unwrap(),
            domain::ShopId::main(),
            "2026-11-27T10:00:00.000Z".into(),
        )
    }

    #[test]
    fn a_just_placed_order_is_there_and_another_is_not() {
        let placed = JustPlaced::default();
        placed.remember(order("o-1"));
        assert_eq!(placed.get(&OrderId::parse("o-1").unwrap()), Some(order("o-1")));
        assert_eq!(placed.get(&OrderId::parse("o-2").unwrap()), None);
    }

    #[test]
    fn it_keeps_no_more_than_its_capacity() {
        let placed = JustPlaced::default();
        for i in 0..CAPACITY + 5 {
            placed.remember(order(&format!("o-{i}")));
        }
        let e = placed.entries.lock().unwrap();
        assert_eq!(e.by_id.len(), CAPACITY);
        assert!(
            !e.by_id.contains_key(&OrderId::parse("o-0").unwrap()),
            "the oldest went first"
        );
    }
}
