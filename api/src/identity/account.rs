//! Who an account is: its name and its role. The leaf of identity: the store and the session
//! cache both name these, and neither names the other through them.

use serde::{Deserialize, Serialize};

/// Who may do what (docs/architecture.md, "Accounts and roles").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Places orders as themselves; reads and cancels only their own.
    Customer,
    /// Works the kitchen board; reads any order.
    Barista,
    /// What a barista may, plus stock and staff accounts, at their shop.
    Manager,
    /// The chain's: a manager of every shop, who also opens shops.
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Barista => "barista",
            Self::Manager => "manager",
            Self::Owner => "owner",
        }
    }

    pub(super) fn parse(raw: &str) -> Option<Self> {
        [Self::Customer, Self::Barista, Self::Manager, Self::Owner]
            .into_iter()
            .find(|r| r.as_str() == raw)
    }

    pub fn is_staff(self) -> bool {
        self != Self::Customer
    }

    /// Whether this role works at one shop (a barista, a manager) rather than for the whole chain.
    pub fn works_at_one_shop(self) -> bool {
        matches!(self, Self::Barista | Self::Manager)
    }
}

/// A signed-in account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub role: Role,
    /// The shop a barista or a manager works at; `None` for a customer or the owner.
    pub shop: Option<domain::ShopId>,
}
