//! Identity: who is asking and what they may do. Accounts and their roles, sign-up and sign-in
//! with argon2id password hashes checked on a bounded pool of threads, and signed session tokens
//! whose verification is cached until a sign-out is announced. The routes use this module's
//! entry point alone ([`Accounts`] and the types below); inside, the store (`accounts`) uses the
//! password pool and the session cache, and all three name only the leaf [`Account`] and [`Role`].

mod account;
mod accounts;
mod passwords;
mod sessions;

pub use account::{Account, Role};
pub use accounts::{ANONYMOUS_PER_MINUTE, Accounts, PASSWORD_QUEUE, Session, SessionKey, SignInError};
pub use passwords::Passwords;
