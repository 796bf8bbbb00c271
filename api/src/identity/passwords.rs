//! Password hashing, bounded. argon2id is slow and memory-hard on purpose (19 MiB and tens of
//! milliseconds a hash), so a burst of sign-ins — an attacker needs no account, and a new name
//! each time defeats the per-name limit — must not become a burst of hashes. Every hash and
//! every check runs on a small, fixed pool of threads ([`Passwords::start`]), each with its own
//! argon2 memory allocated once and reused, so memory stays the same whatever arrives; requests
//! wait for a thread in a bounded queue, and beyond it are refused at once ([`Busy`]), without
//! hashing: the API answers `503` with `Retry-After`.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

use super::error::{Busy, IdentityError};


/// Password rules, checked before anything is stored.
pub(super) fn check_password(password: &str) -> Result<(), IdentityError> {
    let chars = password.chars().count();
    if !(8..=128).contains(&chars) {
        return Err(IdentityError::WeakPassword("password must be 8 to 128 characters"));
    }
    Ok(())
}

enum Job {
    Hash {
        password: String,
        reply: oneshot::Sender<Result<String, argon2::password_hash::Error>>,
    },
    Verify {
        password: String,
        stored: String,
        reply: oneshot::Sender<bool>,
    },
}

/// The hashing pool (cheap to clone).
#[derive(Clone)]
pub struct Passwords {
    jobs: SyncSender<Job>,
}

impl Passwords {
    /// Starts `threads` hashing threads (at least one) behind a queue of `queue` waiting requests.
    pub fn start(threads: usize, queue: usize) -> Self {
        let (jobs, waiting) = sync_channel(queue);
        let waiting = Arc::new(Mutex::new(waiting));
        for i in 0..threads.max(1) {
            let waiting = waiting.clone();
            std::thread::Builder::new()
                .name(format!("passwords-{i}"))
                .spawn(move || work(&waiting))
                .expect("a thread for password hashing");
        }
        Self { jobs }
    }

    /// One thread for every two cores (the rest serve requests), at least one.
    pub fn default_threads() -> usize {
        std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
    }

    /// A new argon2id hash of `password` (PHC string).
    pub async fn hash(&self, password: String) -> Result<Result<String, argon2::password_hash::Error>, Busy> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash { password, reply })?;
        answer.await.map_err(|_| Busy)
    }

    /// Whether `password` matches `stored` (a PHC string); `None` checks against a hash nobody
    /// has, so that an unknown account takes as long as a wrong password.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, Busy> {
        let (reply, answer) = oneshot::channel();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
        self.submit(Job::Verify { password, stored, reply })?;
        answer.await.map_err(|_| Busy)
    }

    fn submit(&self, job: Job) -> Result<(), Busy> {
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) | TrySendError::Disconnected(_) => Busy,
        })
    }
}

/// The argon2id hash of a password nobody has (see [`Passwords::verify`]).
pub(crate) const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Vq3FHZJ2Cd2m3mM5jAVzGSuq7dW0y0SZpG1sW8Yzm3E";

/// One hashing thread: takes the next request (one thread waits on the queue at a time) and
/// answers it with its own memory.
fn work(waiting: &Mutex<Receiver<Job>>) {
    let mut memory = vec![Block::default(); Params::default().block_count()];
    loop {
        let job = match waiting.lock().map(|queue| queue.recv()) {
            Ok(Ok(job)) => job,
            _ => return,
        };
        match job {
            Job::Hash { password, reply } => {
                let _ = reply.send(hash(&mut memory, password.as_bytes()));
            }
            Job::Verify {
                password,
                stored,
                reply,
            } => {
                let _ = reply.send(verify(&mut memory, password.as_bytes(), &stored));
            }
        }
    }
}

/// argon2id with the default parameters and a fresh salt, in `memory`.
fn hash(memory: &mut Vec<Block>, password: &[u8]) -> Result<String, argon2::password_hash::Error> {
    let params = Params::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes)?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let blocks = memory_for(memory, &params);
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        Ok(argon2.hash_password_into_with_memory(password, salt_bytes, out, blocks)?)
    })?;
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string())
}

/// Recomputes `stored` (any argon2 PHC string) for `password` in `memory` and compares the two
/// in constant time.
fn verify(memory: &mut Vec<Block>, password: &[u8], stored: &str) -> bool {
    let mut check = || -> Result<bool, argon2::password_hash::Error> {
        let stored = PasswordHash::new(stored)?;
        let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
            return Ok(false);
        };
        let params = Params::try_from(&stored)?;
        let version = stored.version.map(Version::try_from).transpose()?.unwrap_or_default();
        let argon2 = Argon2::new(Algorithm::try_from(stored.algorithm)?, version, params.clone());
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
        let blocks = memory_for(memory, &params);
        let computed = Output::init_with(expected.len(), |out| {
            Ok(argon2.hash_password_into_with_memory(password, salt_bytes, out, blocks)?)
        })?;
        Ok(computed == expected)
    };
    check().unwrap_or(false)
}

/// The first `params.block_count()` blocks of `memory`, growing it for a stored hash made with
/// more memory than today's parameters (never the case for hashes this API made).
fn memory_for<'a>(memory: &'a mut Vec<Block>, params: &Params) -> &'a mut [Block] {
    let needed = params.block_count();
    if memory.len() < needed {
        memory.resize(needed, Block::default());
    }
    &mut memory[..needed]
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{PasswordHasher, PasswordVerifier};

    #[tokio::test]
    async fn hashes_made_here_and_by_the_argon2_crate_check_out_both_ways() {
        let pool = Passwords::start(1, 4);
        let made_here = pool.hash("correct horse".into()).await.unwrap().unwrap();
        let parsed = PasswordHash::new(&made_here).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"wrong horse", &parsed).is_err());

        let made_there = Argon2::default()
            .hash_password(b"battery staple", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(pool.verify("battery staple".into(), Some(made_there.clone())).await.unwrap());
        assert!(!pool.verify("battery stable".into(), Some(made_there)).await.unwrap());
        assert!(!pool.verify("anything".into(), None).await.unwrap(), "nobody has the dummy's password");
        assert!(!pool.verify("anything".into(), Some("not a hash".into())).await.unwrap());
    }

    #[test]
    fn the_dummy_hash_is_a_valid_argon2id_hash() {
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(parsed.algorithm, Algorithm::Argon2id.ident());
        let params = Params::try_from(&parsed).unwrap();
        let default = Params::default();
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (default.m_cost(), default.t_cost(), default.p_cost()),
            "as costly as a real hash"
        );
    }

    #[tokio::test]
    async fn beyond_its_queue_the_pool_refuses_at_once_without_hashing() {
        let pool = Passwords::start(1, 2);
        let answers = futures::future::join_all((0..12).map(|i| pool.verify(format!("guess {i}"), None))).await;
        let busy = answers.iter().filter(|a| **a == Err(Busy)).count();
        assert!(busy >= 9, "at most one hashing and two waiting: {answers:?}");
        assert!(answers.iter().all(|a| *a == Err(Busy) || *a == Ok(false)));
    }
}
