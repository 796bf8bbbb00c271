//! The chain's shops in the accounts' database, against a real PostgreSQL: accounts made before
//! shops existed keep working, at `main`, and the first manager becomes the owner.

use std::path::Path;
use std::time::Duration;

use api::identity::{Accounts, Role, SessionKey};
use domain::ShopId;
use sqlx::Connection;
use sqlx::migrate::{Migrate, Migrator};

/// The migration that brought shops.
const SHOPS: i64 = 20261207000001;

#[tokio::test]
async fn accounts_made_before_shops_move_to_main_and_the_first_manager_becomes_the_owner() {
    let url = stack::postgres::fresh_test_database().await;
    // The database as the release before shops left it: its migrations, then its rows.
    let migrations = Migrator::new(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")))
        .await
        .unwrap();
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    conn.ensure_migrations_table().await.unwrap();
    for migration in migrations.iter().filter(|m| m.version < SHOPS) {
        conn.apply(migration).await.unwrap();
    }
    for (name, role) in [("admin", "manager"), ("bea", "barista"), ("max", "manager"), ("ann", "customer")] {
        sqlx::query("INSERT INTO accounts (name, role, password_hash, created_at) VALUES ($1, $2, 'x', 0)")
            .bind(name)
            .bind(role)
            .execute(&mut conn)
            .await
            .unwrap();
    }

    let accounts = Accounts::connect_lazy(&url, SessionKey::random(), Duration::from_secs(60)).unwrap();
    accounts.prepare(None).await.unwrap();

    let shops = accounts.shops().await.unwrap();
    assert_eq!(shops.iter().map(|s| s.shop_id.as_str()).collect::<Vec<_>>(), ["main"]);
    let staff: Vec<(String, Role, Option<String>)> = accounts
        .staff(None)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.name, a.role, a.shop.map(|s| s.to_string())))
        .collect();
    assert_eq!(
        staff,
        [
            ("admin".to_owned(), Role::Owner, None),
            ("bea".to_owned(), Role::Barista, Some("main".to_owned())),
            ("max".to_owned(), Role::Manager, Some("main".to_owned())),
        ],
        "every staff account at main, the first manager the chain's owner, the customer no staff"
    );
    let at_main = accounts.staff(Some(&ShopId::main())).await.unwrap();
    assert_eq!(at_main.len(), 2, "main's own staff: {at_main:?}");
}
