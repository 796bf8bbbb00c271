//! At the counter, as people do it: a customer places an order and watches it reach the kitchen
//! board (`Queued` in the view); a barista starts it and hands it over through the REST API. Run
//! at a fixed rate (half the saturation rate in `make bench`) with no automatic baristas, it gives
//! the two latencies a person notices: placed → on the board, and a barista's command → its answer.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Percentiles;

/// What the counter measured, in milliseconds.
#[derive(Debug, Clone, Default)]
pub struct Counter {
    pub orders: usize,
    /// From sending `POST /orders` to the first read of the order that shows it `Queued`.
    pub placed_to_queued: Percentiles,
    /// `POST /kitchen/tickets/<id>/start` and `/complete`, each answered.
    pub barista: Percentiles,
    /// Orders that did not go through (refused, or not on the board in time).
    pub failures: usize,
}

/// How often the customer's page looks at a new order while it waits for the board.
const LOOK_EVERY: Duration = Duration::from_millis(5);

/// Places `orders` orders at `rate` per second from `customer`; `barista` starts and completes
/// each one once it is Queued in the view.
pub async fn run(
    url: &str,
    customer: &reqwest::Client,
    barista: &reqwest::Client,
    product: &str,
    orders: usize,
    rate: f64,
) -> anyhow::Result<Counter> {
    let samples = Arc::new(Mutex::new((Vec::new(), Vec::new(), 0usize)));
    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.001)));
    let mut people = tokio::task::JoinSet::new();
    for _ in 0..orders {
        pace.tick().await;
        let (url, customer, barista, product, samples) = (
            url.to_owned(),
            customer.clone(),
            barista.clone(),
            product.to_owned(),
            samples.clone(),
        );
        people.spawn(async move {
            let outcome = one(&url, &customer, &barista, &product).await;
            let mut s = samples.lock().unwrap();
            match outcome {
                Ok((queued, commands)) => {
                    s.0.push(queued);
                    s.1.extend(commands);
                }
                Err(_) => s.2 += 1,
            }
        });
    }
    while people.join_next().await.is_some() {}
    let mut s = samples.lock().unwrap();
    Ok(Counter {
        orders,
        placed_to_queued: Percentiles::of(&mut s.0),
        barista: Percentiles::of(&mut s.1),
        failures: s.2,
    })
}

async fn one(
    url: &str,
    customer: &reqwest::Client,
    barista: &reqwest::Client,
    product: &str,
) -> anyhow::Result<(f64, [f64; 2])> {
    let sent = Instant::now();
    let id = place_and_follow(url, customer, product, "Queued", LOOK_EVERY).await?;
    let queued = ms(sent);
    let mut commands = [0.0; 2];
    for (i, step) in ["start", "complete"].into_iter().enumerate() {
        let asked = Instant::now();
        barista
            .post(format!("{url}/kitchen/tickets/{id}/{step}"))
            .json(&json!({}))
            .send()
            .await?
            .error_for_status()?;
        commands[i] = ms(asked);
    }
    Ok((queued, commands))
}

/// Places one order of `product` as `customer` and reads it back every `every` until the view
/// shows it `status` (at most 30 s); returns its id.
pub async fn place_and_follow(
    url: &str,
    customer: &reqwest::Client,
    product: &str,
    status: &str,
    every: Duration,
) -> anyhow::Result<String> {
    let placed: Value = customer
        .post(format!("{url}/orders"))
        .json(&json!({"productName": product, "qty": 1}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = placed["orderId"].as_str().unwrap_or_default().to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let order: Value = customer.get(format!("{url}/orders/{id}")).send().await?.json().await?;
        if order["status"] == status {
            return Ok(id);
        }
        anyhow::ensure!(Instant::now() < deadline, "order {id} not {status} within 30 s");
        tokio::time::sleep(every).await;
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}
