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
name_type!(
    /// A shop's name as people read it, e.g. `Gangnam`.
    ShopName,
    "name"
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

/// A shop of the chain, e.g. `main` or `gangnam`: a slug of 1 to 32 lowercase letters, digits
/// and `-`, safe in URLs, search attributes and logs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShopId(String);

impl ShopId {
    /// The shop of everything that names none: the one shop of a fresh install, and of every
    /// order, account and row made before the chain had shops.
    pub const MAIN: &'static str = "main";

    pub fn main() -> Self {
        Self(Self::MAIN.to_owned())
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if raw.is_empty() || raw.len() > 32 {
            return Err(InvalidValue::new("shopId", "must be 1 to 32 characters"));
        }
        if !raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(InvalidValue::new(
                "shopId",
                "may contain only lowercase letters, digits and '-' (e.g. \"gangnam\")",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A field that names no shop means `main`.
impl Default for ShopId {
    fn default() -> Self {
        Self::main()
    }
}

impl fmt::Display for ShopId {
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

/// A price in cents: what one unit of a product costs (set by the manager with a restock), and
/// what an order costs. Shown and typed as a decimal with two places (`3.50`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Price(i64);

impl Price {
    /// 10,000.00: no drink costs more.
    pub const MAX_CENTS: i64 = 1_000_000;

    pub fn from_cents(cents: i64) -> Self {
        Self(cents)
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    /// `3.5`, `3.50` or `4`: at most two decimal places, from 0 to 10,000.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let invalid = || InvalidValue::new("price", "must be an amount like 3.50 (from 0 to 10000, at most two decimals)");
        let raw = raw.trim();
        let (whole, fraction) = raw.split_once('.').unwrap_or((raw, "0"));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || !digits(fraction) || fraction.len() > 2 || whole.len() > 6 {
            return Err(invalid());
        }
        let whole: i64 = whole.parse().map_err(|_| invalid())?;
        let cents = format!("{fraction:0<2}").parse::<i64>().map_err(|_| invalid())?;
        let total = whole * 100 + cents;
        if total > Self::MAX_CENTS {
            return Err(invalid());
        }
        Ok(Self(total))
    }

    /// The price of `qty` units.
    pub fn times(self, qty: u32) -> Self {
        Self(self.0 * i64::from(qty))
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shop_id_is_a_short_lowercase_slug() {
        assert_eq!(ShopId::parse("gangnam-2").unwrap().as_str(), "gangnam-2");
        assert_eq!(ShopId::main().as_str(), "main");
        for bad in ["", "Gangnam", "gang nam", "a/b", &"x".repeat(33)] {
            assert_eq!(ShopId::parse(bad).unwrap_err().field, "shopId", "{bad:?}");
        }
    }

    #[test]
    fn prices_are_typed_and_shown_with_two_decimals() {
        for (raw, cents, shown) in [("3.5", 350, "3.50"), ("3.50", 350, "3.50"), ("4", 400, "4.00"), ("0.05", 5, "0.05")] {
            let price = Price::parse(raw).unwrap();
            assert_eq!((price.cents(), price.to_string().as_str()), (cents, shown), "{raw}");
        }
        assert_eq!(Price::parse("2.25").unwrap().times(3).to_string(), "6.75");
        for bad in ["", "-1", "3.505", "3,50", "abc", "1.", ".5", "10000.01", "1e3"] {
            assert_eq!(Price::parse(bad).unwrap_err().field, "price", "{bad:?}");
        }
    }

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
