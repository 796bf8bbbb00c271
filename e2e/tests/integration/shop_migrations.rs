//! Data made before the chain had shops is `main`'s after the upgrade, without loss, in every
//! store: the warehouse on PostgreSQL and on SQLite, the kitchen's tickets, the customercenter
//! view. Each store is migrated to the release before shops, given rows, then opened by today's
//! code (which applies the rest).

use std::path::Path;

use activities::kitchen::KitchenDb;
use activities::warehouse::WarehouseDb;
use domain::{OrderId, OrderStatus, ProductName, Restock, RestockQuantity, ShopId};
use sqlx::migrate::{Migrate, Migrator};
use sqlx::{AnyConnection, Connection};

/// The migration that brought shops (the same version in every store).
const SHOPS: i64 = 20261207000001;

/// A database at `url` as the release before shops left it, with `rows` in it.
async fn before_shops(url: &str, migrations: &str, rows: &[&str]) {
    sqlx::any::install_default_drivers();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(migrations);
    let migrator = Migrator::new(dir).await.unwrap();
    let mut conn = AnyConnection::connect(url).await.unwrap();
    conn.ensure_migrations_table().await.unwrap();
    for migration in migrator.iter().filter(|m| m.version < SHOPS) {
        conn.apply(migration).await.unwrap();
    }
    for row in rows {
        sqlx::query(row).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
}

#[tokio::test]
async fn the_warehouse_keeps_its_stock_reservations_and_restocks_as_mains_on_postgres_and_sqlite() {
    let dir = std::env::temp_dir().join(format!("coffeeshop-test-sqlite-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = format!("sqlite://{}?mode=rwc", dir.join("warehouse.db").display());
    for url in [stack::postgres::fresh_test_database().await, sqlite] {
        before_shops(
            &url,
            "activities/src/warehouse/migrations",
            &[
                "INSERT INTO stock (product_name, qty, version, price_cents) VALUES ('Latte', 7, 3, 350)",
                "INSERT INTO reservations (order_id, product_name, qty, order_run, price_cents) VALUES ('o-old', 'Latte', 2, 'run', 350)",
                "INSERT INTO restocks (restock_id, product_name, qty) VALUES ('r-old', 'Latte', 9)",
            ],
        )
        .await;
        let db = WarehouseDb::connect(&url, 2).await.unwrap();
        let latte = ProductName::parse("Latte").unwrap();
        let level = db.level(&ShopId::main(), &latte).await.unwrap().expect("main stocks Latte");
        assert_eq!((level.qty, level.version, level.price.map(|p| p.to_string())), (7, 3, Some("3.50".into())), "{url}");
        assert_eq!(db.held_by(&OrderId::parse("o-old").unwrap()).await.unwrap(), 2, "{url}");

        // The old reservation goes back to main's stock; another shop's stock is its own.
        let released = db.release(&OrderId::parse("o-old").unwrap()).await.unwrap().expect("it held stock");
        assert_eq!((released.shop_id.as_str(), released.qty), ("main", 9), "{url}");
        let gangnam = ShopId::parse("gangnam").unwrap();
        let restock = |id: &str, shop: &ShopId| Restock {
            restock_id: id.into(),
            shop_id: shop.clone(),
            product_name: latte.clone(),
            qty: RestockQuantity::parse(4).unwrap(),
            price: None,
        };
        let level = db.restock(&restock("r-gangnam", &gangnam)).await.unwrap();
        assert_eq!((level.shop_id.as_str(), level.qty, level.version), ("gangnam", 4, 1), "{url}");
        // An old restock id is still known: repeating it adds nothing.
        let again = db.restock(&restock("r-old", &ShopId::main())).await.unwrap();
        assert_eq!(again.qty, 9, "{url}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_kitchens_tickets_and_the_views_orders_and_stock_are_mains() {
    let url = stack::postgres::fresh_test_database().await;
    before_shops(
        &url,
        "activities/src/kitchen/migrations",
        &["INSERT INTO tickets (order_id, product_name, qty, status) VALUES ('o-old', 'Latte', 1, 'Queued')"],
    )
    .await;
    drop(KitchenDb::connect(&url, 1).await.unwrap());
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let shop: String = sqlx::query_scalar("SELECT shop_id FROM tickets WHERE order_id = 'o-old'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(shop, "main");

    let url = stack::postgres::fresh_test_database().await;
    before_shops(
        &url,
        "view/migrations",
        &[
            "INSERT INTO orders (order_id, customer_id, product_name, qty, status, seq, placed_at, updated_at)
             VALUES ('o-old', 'ada', 'Latte', 1, 'Queued', 3, '2026-12-01T10:00:00.000Z', '2026-12-01T10:00:01.000Z')",
            "INSERT INTO stock (product_name, qty, version, price_cents) VALUES ('Latte', 7, 3, 350)",
            "INSERT INTO restocks (restock_id, product_name, qty, recorded_at) VALUES ('r-old', 'Latte', 9, '2026-12-01T09:00:00.000Z')",
        ],
    )
    .await;
    drop(view::ViewDb::connect(&url, 1).await.unwrap());
    let view = view::View::connect_lazy(&url, 1).unwrap();
    let board = view.board(ShopId::MAIN, OrderStatus::Queued, 10).await.unwrap();
    assert_eq!((board.len(), board[0].shop_id.as_str()), (1, "main"));
    assert!(view.board("gangnam", OrderStatus::Queued, 10).await.unwrap().is_empty());
    let menu = view.stocks(ShopId::MAIN).await.unwrap();
    assert_eq!((menu.len(), menu[0].qty, menu[0].price_cents), (1, 7, Some(350)));
    assert_eq!(view.restocks(ShopId::MAIN, None, 10).await.unwrap().len(), 1);
    let mine = view.orders_of("ada", None, None, 10).await.unwrap();
    assert_eq!(mine[0].shop_id, "main");
}
