//! The cache of verified sessions against a real PostgreSQL: two API replicas (two `Accounts` on
//! one cafe database), each caching; a session signed out on one stops working on the other at
//! once, although the other had it cached.

use std::time::{Duration, Instant};

use api::identity::{Accounts, Role, SessionKey};

const KEY: &[u8] = b"sessions-tests-key-sessions-tests";

async fn replica(url: &str) -> Accounts {
    let accounts = Accounts::connect_lazy(url, SessionKey::new(KEY.to_vec()), Duration::from_secs(600)).unwrap();
    accounts.prepare(None).await.unwrap();
    accounts.cache_sessions();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !accounts.caching_sessions() {
        assert!(Instant::now() < deadline, "the replica listens for sign-outs");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    accounts
}

#[tokio::test]
async fn a_session_signed_out_on_one_replica_stops_working_on_another_that_had_it_cached() {
    let url = stack::postgres::fresh_test_database().await;
    let (a, b) = (replica(&url).await, replica(&url).await);
    assert!(a.create("ann", "ann-password", Role::Customer, None).await.unwrap());
    let token = a.sign_in("ann", "ann-password").await.unwrap().token;
    let other = a.sign_in("ann", "ann-password").await.unwrap().token;
    for replica in [&a, &b] {
        for _ in 0..3 {
            let (_, account) = replica.authenticate(&token).await.unwrap().expect("a valid session");
            assert_eq!(account.name, "ann");
        }
    }

    let (session, _) = a.authenticate(&token).await.unwrap().unwrap();
    a.sign_out(&session).await.unwrap();
    assert!(
        a.authenticate(&token).await.unwrap().is_none(),
        "refused at once where it was signed out"
    );
    let deadline = Instant::now() + Duration::from_secs(2);
    while b.authenticate(&token).await.unwrap().is_some() {
        assert!(
            Instant::now() < deadline,
            "the other replica still honours a signed-out session"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        b.authenticate(&other).await.unwrap().is_some(),
        "the same person's other session still works"
    );
}
