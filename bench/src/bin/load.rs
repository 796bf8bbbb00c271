//! `coffeeshop-load`: a load generator for a running CoffeeShop (the embedded stack or any URL).
//!
//! ```text
//! coffeeshop-load --orders 200 --concurrency 32 --wait
//! coffeeshop-load --url http://api.example:8080 --orders 1000 --rate 20 --products Latte,Mocha --cancel-ratio 0.1
//! coffeeshop-load --shops 2 --products Americano,Latte --orders 200 --wait
//! ```

use clap::Parser;

#[derive(Parser, Debug)]
#[command(about = "Drive a running CoffeeShop through its REST API and report throughput and latency.")]
struct Args {
    /// The API's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// How many orders to place.
    #[arg(long, default_value_t = 100)]
    orders: usize,
    /// At most this many orders in progress at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Place orders at this rate (orders/s) instead of as fast as possible.
    #[arg(long)]
    rate: Option<f64>,
    /// Comma-separated product mix, used round-robin.
    #[arg(
        long,
        default_value = "Americano,Latte,Cappuccino,Espresso,Mocha",
        value_delimiter = ','
    )]
    products: Vec<String>,
    /// Share of orders to cancel right after placing them (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    cancel_ratio: f64,
    /// Follow every order until it is final and report end-to-end latency (needs baristas:
    /// KITCHEN_AUTO_BARISTAS > 0 on the stack).
    #[arg(long)]
    wait: bool,
    /// Place orders from this many customer accounts (`load-0`…, signed up if new).
    #[arg(long, default_value_t = bench::CUSTOMERS)]
    customers: usize,
    /// Spread the orders over the chain's first N shops (`GET /shops`, by id), round-robin; each
    /// must stock the products. Absent: orders name no shop (`main`).
    #[arg(long)]
    shops: Option<usize>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    anyhow::ensure!(
        (0.0..=1.0).contains(&a.cancel_ratio),
        "--cancel-ratio must be between 0 and 1"
    );
    let url = a.url.trim_end_matches('/').to_owned();
    let shops = match a.shops {
        Some(n) => bench::first_shops(&url, n).await?,
        None => Vec::new(),
    };
    let plan = bench::Plan {
        url,
        shops,
        orders: a.orders,
        concurrency: a.concurrency,
        rate: a.rate,
        products: a.products,
        cancel_ratio: a.cancel_ratio,
        wait: a.wait,
        progress: !a.json,
        customers: a.customers,
    };
    let report = bench::run(plan).await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        bench::print(&report);
    }
    Ok(())
}
