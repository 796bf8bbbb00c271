//! What identity can fail with, in its own words; the HTTP layer decides the status
//! (`problem.rs`).

/// The hashing pool is full: the request was not hashed; retry shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many passwords are being checked right now")]
pub struct Busy;

/// Why an identity operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The password breaks a rule; the message says which.
    #[error("{0}")]
    WeakPassword(&'static str),
    /// Too many passwords are being checked right now; nothing was hashed, retry in a second.
    #[error(transparent)]
    Busy(#[from] Busy),
    /// The accounts database did not answer.
    #[error("the accounts database is unavailable")]
    Store(#[from] sqlx::Error),
    /// Hashing a password failed (a bug, not the caller's doing).
    #[error("hashing a password: {0}")]
    Hashing(argon2::password_hash::Error),
}

/// Why a sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown name or wrong password (which one is not said).
    #[error("unknown name or wrong password")]
    Refused,
    /// Too many attempts for this name; try again after this long.
    #[error("too many sign-in attempts for this name")]
    TooMany(std::time::Duration),
    #[error(transparent)]
    Failed(#[from] IdentityError),
}

impl From<Busy> for SignInError {
    fn from(busy: Busy) -> Self {
        Self::Failed(busy.into())
    }
}

impl From<sqlx::Error> for SignInError {
    fn from(e: sqlx::Error) -> Self {
        Self::Failed(e.into())
    }
}
