//! The fan-out behind `GET /events`: one task listens to the view's change feed and sends each
//! change to every open stream over a broadcast channel.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, broadcast};
use view::feed::Announcement;

use crate::view::{OrderView, StockView, View};

/// What a change looks like to the streams.
#[derive(Debug, Clone)]
pub enum Change {
    Order(Arc<OrderView>),
    Stock(Arc<StockView>),
    /// Changes may have been missed: read everything again.
    Resync,
}

/// The fan-out: one feed in, any number of streams out.
#[derive(Clone)]
pub struct Live {
    pub(crate) changes: broadcast::Sender<Change>,
    pub(crate) streams: Arc<Semaphore>,
}

/// Changes a slow stream may fall behind by before it is told to resync.
const BACKLOG: usize = 1024;

impl Live {
    pub fn new(max_streams: usize) -> Self {
        Self {
            changes: broadcast::channel(BACKLOG).0,
            streams: Arc::new(Semaphore::new(max_streams)),
        }
    }

    /// Listens to the view's change feed for as long as the process runs, (re)connecting as
    /// needed. An order is read once per change, and only while some stream is open.
    pub fn spawn_feed(&self, view: View) {
        let changes = self.changes.clone();
        tokio::spawn(async move {
            loop {
                let mut feed = match view.listen().await {
                    Ok(feed) => feed,
                    Err(e) => {
                        tracing::debug!(error = %e, "the view's change feed is not reachable yet");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                tracing::info!("listening to the view's change feed");
                let _ = changes.send(Change::Resync);
                loop {
                    let announced = match feed.next().await {
                        Ok(announced) => announced,
                        Err(e) => {
                            tracing::warn!(error = %e, "the view's change feed was lost; listening again");
                            let _ = changes.send(Change::Resync);
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            break;
                        }
                    };
                    if changes.receiver_count() == 0 {
                        continue;
                    }
                    let change = match announced {
                        Announcement::Order(id) => match view.order(&id).await {
                            Ok(Some(row)) => Change::Order(Arc::new(row.into())),
                            Ok(None) => continue,
                            Err(e) => {
                                tracing::warn!(error = %e, order_id = %id, "a changed order could not be read");
                                Change::Resync
                            }
                        },
                        Announcement::Stock(level) => Change::Stock(Arc::new(level.into())),
                        Announcement::Missed => Change::Resync,
                    };
                    let _ = changes.send(change);
                }
            }
        });
    }
}
