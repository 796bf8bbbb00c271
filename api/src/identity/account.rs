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
    /// What a barista may, plus stock and staff accounts.
    Manager,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Barista => "barista",
            Self::Manager => "manager",
        }
    }

    pub(super) fn parse(raw: &str) -> Option<Self> {
        [Self::Customer, Self::Barista, Self::Manager]
            .into_iter()
            .find(|r| r.as_str() == raw)
    }

    pub fn is_staff(self) -> bool {
        self != Self::Customer
    }
}

/// A signed-in account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub role: Role,
}
