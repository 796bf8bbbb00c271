//! Values parsed at the edge: once a `ProductName` or a `Quantity` exists, it is valid.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a value from outside was refused. The message says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InvalidValue {
    pub field: &'static str,
    pub problem: String,
}

impl InvalidValue {
    fn new(field: &'static str, problem: impl Into<String>) -> Self {
        Self {
            field,
            problem: problem.into(),
        }
    }
}

/// Longest product name, customer id or order id accepted.
pub const MAX_NAME_LEN: usize = 64;

fn parse_name(field: &'static str, raw: &str) -> Result<String, InvalidValue> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(InvalidValue::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > MAX_NAME_LEN {
        return Err(InvalidValue::new(
            field,
            format!("must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(InvalidValue::new(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Trims surrounding blanks; refuses empty, over-long or control-character names.
            pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
                parse_name($field, raw).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// A product on the menu, e.g. `Americano`. Case is kept as given.
    ProductName,
    "productName"
);
name_type!(
    /// Who placed an order, e.g. `c-1`.
    CustomerId,
    "customerId"
);

/// An order's id: the suffix of its workflow id `order-<orderId>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(String);

impl OrderId {
    /// ASCII letters, digits, `-` and `_` only, so the id is safe in URLs, workflow ids and logs.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if raw.is_empty() || raw.len() > MAX_NAME_LEN {
            return Err(InvalidValue::new(
                "orderId",
                format!("must be 1 to {MAX_NAME_LEN} characters"),
            ));
        }
        if !raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(InvalidValue::new(
                "orderId",
                "may contain only letters, digits, '-' and '_'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How many cups in one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quantity(u32);

impl Quantity {
    pub const MIN: u32 = 1;
    pub const MAX: u32 = 100;

    pub fn parse(raw: i64) -> Result<Self, InvalidValue> {
        if !(i64::from(Self::MIN)..=i64::from(Self::MAX)).contains(&raw) {
            return Err(InvalidValue::new(
                "qty",
                format!("must be an integer from {} to {}", Self::MIN, Self::MAX),
            ));
        }
        Ok(Self(raw as u32))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// How much stock a restock adds: any positive amount up to a million.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RestockQuantity(u32);

impl RestockQuantity {
    pub const MAX: u32 = 1_000_000;

    pub fn parse(raw: i64) -> Result<Self, InvalidValue> {
        if !(1..=i64::from(Self::MAX)).contains(&raw) {
            return Err(InvalidValue::new(
                "qty",
                format!("must be an integer from 1 to {}", Self::MAX),
            ));
        }
        Ok(Self(raw as u32))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_name_is_trimmed_and_keeps_its_case() {
        assert_eq!(ProductName::parse("  Americano ").unwrap().as_str(), "Americano");
    }

    #[test]
    fn empty_blank_overlong_and_control_character_names_are_refused() {
        for bad in ["", "   ", &"x".repeat(65), "Ameri\ncano", "tab\there"] {
            let err = ProductName::parse(bad).unwrap_err();
            assert_eq!(err.field, "productName", "{bad:?}");
        }
        assert!(
            ProductName::parse(&"é".repeat(64)).is_ok(),
            "64 characters are allowed, not bytes"
        );
    }

    #[test]
    fn quantity_accepts_one_to_a_hundred_only() {
        assert_eq!(Quantity::parse(1).unwrap().get(), 1);
        assert_eq!(Quantity::parse(100).unwrap().get(), 100);
        for bad in [0, -1, 101, i64::MAX] {
            assert!(Quantity::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn restock_quantity_must_be_positive() {
        assert!(RestockQuantity::parse(0).is_err());
        assert!(RestockQuantity::parse(-5).is_err());
        assert_eq!(RestockQuantity::parse(10).unwrap().get(), 10);
    }

    #[test]
    fn order_ids_are_url_safe() {
        assert!(OrderId::parse("0190f1c2-aa").is_ok());
        for bad in ["", "a/b", "a b", "ü", &"a".repeat(65)] {
            assert!(OrderId::parse(bad).is_err(), "{bad:?}");
        }
    }
}
