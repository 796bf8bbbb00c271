//! `coffeeshop-soak`, what `make soak` runs: a long stream of orders through one embedded stack
//! (file-backed Temporal as `make run` uses, automatic baristas), reporting after every stretch
//! each process's resident memory and how long the restock log and MyPages take to read, so that
//! anything growing with the number of orders served shows as a trend. After warm-up nothing may
//! grow: the last line says how much each process gained over the second half of the run.

use std::time::Instant;

use clap::Parser;
use stack::{Stack, WORKERS};

#[derive(Parser, Debug)]
#[command(about = "Soak CoffeeShop: many orders through one stack, memory and read latency at intervals.")]
struct Args {
    /// Orders in all.
    #[arg(long, default_value_t = 20_000)]
    orders: usize,
    /// Orders between two reports.
    #[arg(long, default_value_t = 2_000)]
    every: usize,
    /// Orders in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Automatic baristas in the kitchen worker.
    #[arg(long, default_value_t = 16)]
    baristas: usize,
}

const PRODUCTS: [&str; 5] = ["Americano", "Latte", "Cappuccino", "Espresso", "Mocha"];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    bench::with_own_stack("soak", args.baristas, |stack| run(&args, stack)).await
}

async fn run(args: &Args, stack: Stack) -> anyhow::Result<()> {
    let dir = stack.config.dir.clone();
    let dir = dir.as_path();
    let url = stack.api_url();
    let token = stack::sign_in(
        &reqwest::Client::new(),
        &url,
        "admin",
        stack.config.admin_password.expose(),
    )
    .await?;
    let manager = stack::client_with(&token)?;
    for product in PRODUCTS {
        manager
            .post(format!("{url}/stocks"))
            .json(&serde_json::json!({"productName": product, "qty": 1_000_000, "price": "3.00"}))
            .send()
            .await?
            .error_for_status()?;
    }
    let processes: Vec<(String, u32)> = stack
        .pids()
        .into_iter()
        .filter(|(name, _)| name == "api" || name == "temporal" || WORKERS.contains(&name.as_str()))
        .collect();
    let names: Vec<&str> = processes.iter().map(|(n, _)| n.as_str()).collect();
    println!(
        "\n| orders | orders/s | {} (RSS, MiB) | restock log p50 | MyPages p50 |",
        names.join(" | ")
    );
    println!("|{}", "---|".repeat(names.len() + 4));
    let customer = stack::customer_token(&reqwest::Client::new(), &url, "load-0", "load-0-password").await?;
    let customer = stack::client_with(&customer)?;
    let disk_before = (temporal_bytes(dir), bytes_under(&stack.config.pg_data));
    let mut served = 0;
    let mut rows: Vec<(usize, Vec<f64>)> = Vec::new();
    while served < args.orders {
        let stretch = args.every.min(args.orders - served);
        let started = Instant::now();
        bench::run(bench::Plan {
            url: url.clone(),
            orders: stretch,
            concurrency: args.concurrency,
            rate: None,
            products: PRODUCTS.iter().map(|p| p.to_string()).collect(),
            cancel_ratio: 0.0,
            wait: true,
            progress: false,
            customers: bench::CUSTOMERS,
        })
        .await?;
        served += stretch;
        let rate = stretch as f64 / started.elapsed().as_secs_f64();
        let rss: Vec<f64> = processes
            .iter()
            .map(|(_, pid)| bench::memory_mib(*pid, "VmRSS"))
            .collect();
        let restocks = p50(&manager, &format!("{url}/stocks/restocks")).await?;
        let my_pages = p50(&customer, &format!("{url}/orders?limit=20")).await?;
        let shown: Vec<String> = rss.iter().map(|m| format!("{m:.0}")).collect();
        println!(
            "| {served} | {rate:.1} | {} | {restocks:.1} ms | {my_pages:.1} ms |",
            shown.join(" | ")
        );
        rows.push((served, rss));
    }
    // Growth over the second half of the run, per 1,000 orders.
    if let (Some((half, from)), Some((end, to))) = (rows.iter().find(|(n, _)| *n >= args.orders / 2), rows.last())
        && end > half
    {
        let grown: Vec<String> = names
            .iter()
            .zip(from.iter().zip(to))
            .map(|(name, (a, b))| format!("{name} {:+.1}", b - a))
            .collect();
        println!("\ngrowth from {half} to {end} orders (MiB): {}", grown.join(", "));
    }
    // What an order costs on disk: Temporal's database file (the dev server's SQLite; a cluster's
    // store differs) and PostgreSQL's data directory (every service's tables and the view).
    let (temporal, postgres) = (
        temporal_bytes(dir) - disk_before.0,
        bytes_under(&stack.config.pg_data) - disk_before.1,
    );
    println!(
        "disk per order: Temporal {:.1} KB, PostgreSQL {:.1} KB",
        temporal as f64 / served as f64 / 1000.0,
        postgres as f64 / served as f64 / 1000.0
    );
    drop(stack);
    Ok(())
}

/// The median of 20 reads of `url`, in milliseconds.
async fn p50(http: &reqwest::Client, url: &str) -> anyhow::Result<f64> {
    let mut samples = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        http.get(url).send().await?.error_for_status()?.bytes().await?;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    Ok(samples[samples.len() / 2])
}

/// The size of the dev server's database file (and its write-ahead log), in bytes.
fn temporal_bytes(dir: &std::path::Path) -> i64 {
    ["temporal.db", "temporal.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len() as i64)
        .sum()
}

/// The bytes of every file under `dir`.
fn bytes_under(dir: &std::path::Path) -> i64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => bytes_under(&e.path()),
            Ok(m) => m.len() as i64,
            Err(_) => 0,
        })
        .sum()
}
