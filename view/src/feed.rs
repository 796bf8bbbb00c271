//! The view's change feed: what changed, as the triggers of `migrations/…_change_feed.sql`
//! announce it (NOTIFY at commit). One listening connection serves any number of readers: the
//! API fans the announcements out to its open event streams.

use domain::OrderId;
use serde::Deserialize;
use sqlx::postgres::{PgListener, PgNotification};

use crate::{StockRow, View};

const ORDERS: &str = "coffeeshop_orders";
const STOCK: &str = "coffeeshop_stock";

/// One change the view announced.
#[derive(Debug, Clone, PartialEq)]
pub enum Announcement {
    /// The order's row (or its history) changed: read it for what it is now.
    Order(OrderId),
    /// A stock level, as it is now.
    Stock(StockRow),
    /// The connection was lost and has been made again: changes in between were not heard.
    Missed,
}

/// A connection that listens to the view's changes.
pub struct Feed {
    listener: PgListener,
}

impl View {
    /// Starts listening. Changes committed from now on are announced by [`Feed::next`].
    pub async fn listen(&self) -> sqlx::Result<Feed> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen_all([ORDERS, STOCK]).await?;
        Ok(Feed { listener })
    }
}

impl Feed {
    /// The next change. When the connection is lost it is made again (listening again) and
    /// [`Announcement::Missed`] says so; an error means it could not be made again.
    pub async fn next(&mut self) -> sqlx::Result<Announcement> {
        loop {
            let Some(notification) = self.listener.try_recv().await? else {
                return Ok(Announcement::Missed);
            };
            if let Some(announced) = parse(&notification) {
                return Ok(announced);
            }
            tracing::warn!(
                channel = notification.channel(),
                "an announcement that could not be read"
            );
        }
    }
}

/// The shop of an announcement that names none (made before the chain had shops).
fn main_shop() -> String {
    domain::ShopId::MAIN.to_owned()
}

fn parse(n: &PgNotification) -> Option<Announcement> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Level {
        #[serde(default = "main_shop")]
        shop_id: String,
        product_name: String,
        qty: i64,
        #[serde(default)]
        price_cents: Option<i64>,
    }
    match n.channel() {
        ORDERS => OrderId::parse(n.payload()).ok().map(Announcement::Order),
        STOCK => {
            let level: Level = serde_json::from_str(n.payload()).ok()?;
            Some(Announcement::Stock(StockRow {
                shop_id: level.shop_id,
                product_name: level.product_name,
                qty: level.qty,
                price_cents: level.price_cents,
            }))
        }
        _ => None,
    }
}
