//! Identity: who is asking and what they may do. Accounts and their roles, sign-up and sign-in
//! with argon2id password hashes checked on a bounded pool of threads, signed session tokens
//! whose verification is cached until a sign-out is announced, and the rate limits on the
//! anonymous routes. The routes use this module's entry point alone ([`Accounts`] and the types
//! below) and map its [`IdentityError`] to HTTP themselves; inside, the store (`accounts`) uses
//! the password pool, the session key, the limits and the session cache, and they all name only
//! the leaf [`Account`] and [`Role`].

mod account;
mod accounts;
mod error;
mod limits;
mod passwords;
mod session_key;
mod sessions;
mod setup;
mod shops;

pub use account::{Account, Role};
pub use accounts::{Accounts, PASSWORD_QUEUE, Session};
pub use error::{Busy, IdentityError, SignInError};
pub use limits::{ANONYMOUS_PER_MINUTE, Limits};
pub use passwords::Passwords;
pub use session_key::SessionKey;
pub use shops::Shop;
