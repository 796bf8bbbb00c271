//! CoffeeShop's domain: pure types with no I/O. Ids and values parsed at the edge
//! ([`values`]), the order state machine ([`order`]), and everything that crosses a service
//! boundary ([`contracts`]). Every other crate depends on this one.

pub mod contracts;
pub mod order;
pub mod values;

pub use contracts::*;
pub use order::*;
pub use values::*;
