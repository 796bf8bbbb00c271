//! The key session tokens are signed with: a token is `<session id>.<expiry>.<HMAC-SHA256 of both>`,
//! so a forged or altered token is refused without touching the database.

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The key sessions are signed with. Never printed.
#[derive(Clone)]
pub struct SessionKey(Arc<Vec<u8>>);

impl SessionKey {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(Arc::new(bytes.into()))
    }

    /// A random key (for a single API process: its sessions end when it stops).
    pub fn random() -> Self {
        let mut bytes = Vec::with_capacity(32);
        while bytes.len() < 32 {
            bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        }
        Self::new(bytes)
    }

    fn mac(&self, payload: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(payload.as_bytes());
        mac
    }

    pub(super) fn sign(&self, session: &str, expires_at: i64) -> String {
        let payload = format!("{session}.{expires_at}");
        let tag = URL_SAFE_NO_PAD.encode(self.mac(&payload).finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    /// The session id and expiry of a token signed with this key, or `None` if it was not.
    pub(super) fn verify(&self, token: &str) -> Option<(String, i64)> {
        let (payload, tag) = token.rsplit_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(payload).verify_slice(&tag).ok()?;
        let (session, expires_at) = payload.split_once('.')?;
        Some((session.to_owned(), expires_at.parse().ok()?))
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_unaltered_and_under_its_own_key() {
        let key = SessionKey::new(b"k1-k1-k1-k1-k1-k1-k1-k1-k1-k1-k1".to_vec());
        let token = key.sign("abc", 1_900_000_000);
        assert_eq!(key.verify(&token), Some(("abc".to_owned(), 1_900_000_000)));
        let other = SessionKey::new(b"k2-k2-k2-k2-k2-k2-k2-k2-k2-k2-k2".to_vec());
        assert_eq!(other.verify(&token), None, "another key");
        let later = token.replace("1900000000", "1900000001");
        assert_eq!(key.verify(&later), None, "a changed expiry");
        let swapped = token.replacen("abc", "abd", 1);
        assert_eq!(key.verify(&swapped), None, "a changed session");
        for junk in ["", ".", "a.b", "a.b.c", "abc.1900000000."] {
            assert_eq!(key.verify(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn the_key_is_never_printed() {
        assert_eq!(format!("{:?}", SessionKey::new(b"secret".to_vec())), "SessionKey(***)");
    }
}
