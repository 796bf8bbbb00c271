//! The reads on a view of a million orders over fifty shops (`make bench`, step 7): a database of
//! its own on the stack's PostgreSQL with the view's schema, a million finished orders spread
//! over 90 days (the default retention) and 50 shops with the stock level each left, a few orders
//! waiting at each shop; then each read the API makes of it, timed: a shop's dashboard
//! (`GET /shop`), its board, its menu, a customer's MyPages, and the owner's `GET /chain`.

use std::time::{Duration, Instant, SystemTime};

use crate::Percentiles;

/// Orders seeded.
pub const ORDERS: i64 = 1_000_000;
/// Shops they are spread over.
pub const SHOPS: i64 = 50;

pub struct Figures {
    /// The dashboard's reads, together (what one `GET /shop` waits for), in ms.
    pub reads: Percentiles,
    /// A shop's board (`GET /kitchen/tickets`), its menu (`GET /stocks`), a customer's first page
    /// of MyPages (`GET /orders`), every shop's last hour (`GET /chain`), in ms.
    pub board: Percentiles,
    pub menu: Percentiles,
    pub my_pages: Percentiles,
    pub chain: Percentiles,
    /// How long seeding took.
    pub seeded_in: Duration,
}

pub async fn on_a_million(postgres: &stack::Postgres, reads: usize) -> anyhow::Result<Figures> {
    postgres.create_database("million").await?;
    let url = postgres.url("million");
    let started = Instant::now();
    // The view's migrations: the schema, its indexes and triggers, as the customercenter has them.
    drop(view::ViewDb::connect(&url, 1).await?);
    let view = view::View::connect_lazy(&url, 2)?;
    seed(&url).await?;
    let seeded_in = started.elapsed();
    let since = format!(
        "{}:00.000Z",
        &domain::timestamp(SystemTime::now() - Duration::from_secs(3600))[..16]
    );
    let top: Vec<String> = ["Americano", "Latte", "Cappuccino", "Espresso", "Mocha"]
        .map(str::to_owned)
        .into();
    let shop = "shop-7";
    let shops: Vec<String> = (0..SHOPS).map(|i| format!("shop-{i}")).collect();
    let mut samples = [(); 5].map(|_| Vec::with_capacity(reads));
    let timed = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    for _ in 0..reads {
        let t = Instant::now();
        let rows = view.shop(shop, &since).await?;
        anyhow::ensure!(rows.completed > 0, "the seeded view has orders completed in the last hour at {shop}");
        view.stock_levels(shop, &top, &since).await?;
        samples[0].push(timed(t));
        let t = Instant::now();
        anyhow::ensure!(!view.board(shop, domain::OrderStatus::Queued, 100).await?.is_empty(), "{shop}'s board");
        samples[1].push(timed(t));
        let t = Instant::now();
        anyhow::ensure!(view.stocks(shop).await?.len() == 5, "{shop}'s menu");
        samples[2].push(timed(t));
        let t = Instant::now();
        anyhow::ensure!(view.orders_of("customer-42", None, None, 21).await?.len() == 21, "a customer's orders");
        samples[3].push(timed(t));
        let t = Instant::now();
        anyhow::ensure!(view.shops_since(&shops, &since).await?.len() == SHOPS as usize, "every shop");
        samples[4].push(timed(t));
    }
    let [dashboard, board, menu, my_pages, chain] = samples.map(|mut s| Percentiles::of(&mut s));
    Ok(Figures {
        reads: dashboard,
        board,
        menu,
        my_pages,
        chain,
        seeded_in,
    })
}

/// One order every 7.8 s over 90 days (about 460 in the last hour), at 50 shops in turn: 1 in 20
/// refused for stock, 1 in 25 canceled by the kitchen's timeout, the rest completed 40 s after
/// being placed; the stock level each left; and at each shop one order Queued, one Brewing. Triggers are off while seeding (no change feed).
async fn seed(url: &str) -> anyhow::Result<()> {
    use sqlx::Connection as _;
    let mut db = sqlx::PgConnection::connect(url).await?;
    let stamp = |expr: &str| format!("to_char(({expr}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')");
    let placed = "now() - i * interval '7776 milliseconds'";
    let ended = format!("{placed} + interval '40 seconds'");
    for statement in [
        "SET session_replication_role = replica".to_owned(),
        format!(
            "INSERT INTO orders (order_id, customer_id, shop_id, product_name, qty, status, reason, seq, placed_at, updated_at, total_cents)
             SELECT 'seeded-' || i, 'customer-' || (i % 5000), 'shop-' || (i % {SHOPS}),
                    (ARRAY['Americano', 'Latte', 'Cappuccino', 'Espresso', 'Mocha'])[1 + i % 5], 1,
                    CASE WHEN i % 20 = 0 THEN 'Rejected' WHEN i % 25 = 0 THEN 'Canceled' ELSE 'Completed' END,
                    CASE WHEN i % 20 = 0 THEN 'OutOfStock' WHEN i % 25 = 0 THEN 'KitchenTimeout' END,
                    5, {}, {}, 350
             FROM generate_series(21, {ORDERS} + 20) AS i",
            stamp(placed),
            stamp(&ended)
        ),
        format!(
            "INSERT INTO orders (order_id, customer_id, shop_id, product_name, qty, status, seq, placed_at, updated_at)
             SELECT 'waiting-' || i, 'customer-' || i, 'shop-' || (i % {SHOPS}), 'Latte', 1,
                    CASE WHEN i < {SHOPS} THEN 'Queued' ELSE 'Brewing' END, 3, {0}, {0}
             FROM generate_series(0, 2 * {SHOPS} - 1) AS i",
            stamp(placed)
        ),
        format!(
            "INSERT INTO stock_history (shop_id, product_name, at, qty)
             SELECT 'shop-' || (i % {SHOPS}), (ARRAY['Americano', 'Latte', 'Cappuccino', 'Espresso', 'Mocha'])[1 + i % 5], {},
                    1000 + i / 5 % 1000
             FROM generate_series(21, {ORDERS} + 20) AS i",
            stamp(placed)
        ),
        format!(
            "INSERT INTO stock (shop_id, product_name, qty, version) SELECT 'shop-' || s, p, 500, 1
             FROM unnest(ARRAY['Americano', 'Latte', 'Cappuccino', 'Espresso', 'Mocha']) AS p,
                  generate_series(0, {SHOPS} - 1) AS s"
        ),
        "SET session_replication_role = DEFAULT".to_owned(),
        "ANALYZE".to_owned(),
    ] {
        sqlx::query(&statement).execute(&mut db).await?;
    }
    Ok(())
}
