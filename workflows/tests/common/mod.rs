//! What the tests against a dev server share.

use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions, Url};

/// A Temporal dev server (in memory) and a client for it; the server stops when this is dropped.
pub(crate) struct Server {
    _dev: stack::ScratchTemporal,
    pub(crate) client: Client,
}

pub(crate) async fn server() -> Server {
    let dev = stack::ScratchTemporal::start("wf").await.expect("the dev server starts (make setup installed it)");
    let connection = Connection::connect(ConnectionOptions::new(Url::parse(&dev.url()).unwrap()).build()).await.unwrap();
    let client = Client::new(connection, ClientOptions::new("default").build()).unwrap();
    Server { _dev: dev, client }
}
