//! The Shop dashboard's reads on a view of a million orders (`make bench`, step 7): a database of
//! its own on the stack's PostgreSQL with the view's schema, a million finished orders spread
//! over 90 days (the default retention) with the stock level each left, a few orders waiting;
//! then the queries `GET /shop` makes, timed.

use std::time::{Duration, Instant, SystemTime};

use crate::Percentiles;

/// Orders seeded.
pub const ORDERS: i64 = 1_000_000;

pub struct Figures {
    /// The dashboard's reads, together (what one `GET /shop` waits for), in ms.
    pub reads: Percentiles,
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
    let mut samples = Vec::with_capacity(reads);
    for _ in 0..reads {
        let t = Instant::now();
        let rows = view.shop(domain::ShopId::MAIN, &since).await?;
        anyhow::ensure!(
            rows.completed > 0,
            "the seeded view has orders completed in the last hour"
        );
        view.stock_levels(domain::ShopId::MAIN, &top, &since).await?;
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(Figures {
        reads: Percentiles::of(&mut samples),
        seeded_in,
    })
}

/// One order every 7.8 s over 90 days (about 460 in the last hour): 1 in 20 refused for stock,
/// 1 in 25 canceled by the kitchen's timeout, the rest completed 40 s after being placed; the
/// stock level each left; and 20 orders waiting. Triggers are off while seeding (no change feed).
async fn seed(url: &str) -> anyhow::Result<()> {
    use sqlx::Connection as _;
    let mut db = sqlx::PgConnection::connect(url).await?;
    let stamp = |expr: &str| format!("to_char(({expr}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')");
    let placed = "now() - i * interval '7776 milliseconds'";
    let ended = format!("{placed} + interval '40 seconds'");
    for statement in [
        "SET session_replication_role = replica".to_owned(),
        format!(
            "INSERT INTO orders (order_id, customer_id, product_name, qty, status, reason, seq, placed_at, updated_at, total_cents)
             SELECT 'seeded-' || i, 'customer-' || (i % 5000),
                    (ARRAY['Americano', 'Latte', 'Cappuccino', 'Espresso', 'Mocha'])[1 + i % 5], 1,
                    CASE WHEN i % 20 = 0 THEN 'Rejected' WHEN i % 25 = 0 THEN 'Canceled' ELSE 'Completed' END,
                    CASE WHEN i % 20 = 0 THEN 'OutOfStock' WHEN i % 25 = 0 THEN 'KitchenTimeout' END,
                    5, {}, {}, 350
             FROM generate_series(21, {ORDERS} + 20) AS i",
            stamp(placed),
            stamp(&ended)
        ),
        format!(
            "INSERT INTO orders (order_id, customer_id, product_name, qty, status, seq, placed_at, updated_at)
             SELECT 'waiting-' || i, 'customer-' || i, 'Latte', 1, CASE WHEN i % 2 = 0 THEN 'Queued' ELSE 'Brewing' END,
                    3, {0}, {0}
             FROM generate_series(1, 20) AS i",
            stamp(placed)
        ),
        format!(
            "INSERT INTO stock_history (product_name, at, qty)
             SELECT (ARRAY['Americano', 'Latte', 'Cappuccino', 'Espresso', 'Mocha'])[1 + i % 5], {}, 1000 + i / 5 % 1000
             FROM generate_series(21, {ORDERS} + 20) AS i",
            stamp(placed)
        ),
        "INSERT INTO stock (product_name, qty, version) SELECT p, 500, 1
         FROM unnest(ARRAY['Americano', 'Latte', 'Cappuccino', 'Espresso', 'Mocha']) AS p"
            .to_owned(),
        "SET session_replication_role = DEFAULT".to_owned(),
        "ANALYZE".to_owned(),
    ] {
        sqlx::query(&statement).execute(&mut db).await?;
    }
    Ok(())
}
