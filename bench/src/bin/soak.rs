//! `coffeeshop-soak`, what `make soak` runs: a long stream of orders through one embedded stack
//! (file-backed Temporal as `make run` uses, automatic baristas), reporting after every stretch
//! each process's resident memory and how long the restock log and MyPages take to read, so that
//! anything growing with the number of orders served shows as a trend, and how many workflow runs
//! the cafe worker holds (its `workflow_runs_live`; at most its cache of 1,000 runs). After
//! warm-up nothing may grow: the table at the end says how much each process gained from a third
//! of the run (10,000 of the default 30,000 orders) to its end, and whether any process restarted.

use std::time::Instant;

use clap::Parser;
use stack::{Stack, WORKERS};

#[derive(Parser, Debug)]
#[command(about = "Soak CoffeeShop: many orders through one stack, memory and read latency at intervals.")]
struct Args {
    /// Orders in all.
    #[arg(long, default_value_t = 30_000)]
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

async fn run(args: &Args, mut stack: Stack) -> anyhow::Result<()> {
    let dir = stack.config.dir.clone();
    let dir = dir.as_path();
    let url = stack.api_url();
    let manager = bench::manager(&stack).await?;
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
        "\n| orders | orders/s | {} (RSS, MiB) | cafe: runs held | restock log p50 | MyPages p50 |",
        names.join(" | ")
    );
    println!("|{}", "---|".repeat(names.len() + 5));
    let cafe_metrics = format!("http://127.0.0.1:{}/metrics", stack.health_port("cafe"));
    let customer = stack::customer_token(&reqwest::Client::new(), &url, "load-0", "load-0-password").await?;
    let customer = stack::client_with(&customer)?;
    let disk_before = (temporal_bytes(dir), bytes_under(&stack.config.pg_data));
    let mut served = 0;
    let mut rows: Vec<(usize, Vec<f64>, u64)> = Vec::new();
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
            shops: Vec::new(),
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
        let runs = runs_held(&manager, &cafe_metrics).await?;
        let shown: Vec<String> = rss.iter().map(|m| format!("{m:.1}")).collect();
        println!(
            "| {served} | {rate:.1} | {} | {runs} | {restocks:.1} ms | {my_pages:.1} ms |",
            shown.join(" | ")
        );
        rows.push((served, rss, runs));
    }
    // Growth from a third of the run to its end: in MiB and in bytes per order served meanwhile.
    if let (Some((third, from, _)), Some((end, to, runs))) =
        (rows.iter().find(|(n, _, _)| *n >= args.orders / 3), rows.last())
        && end > third
    {
        println!("\n| from {third} to {end} orders | RSS growth | per order | target |");
        println!("|---|---|---|---|");
        for (name, (a, b)) in names.iter().zip(from.iter().zip(to)) {
            if *name == "temporal" {
                continue;
            }
            let per_order = (b - a) * 1024.0 * 1024.0 / (end - third) as f64;
            let met = if b - a < 2.0 { "met" } else { "NOT met" };
            println!("| {name} | {:+.2} MiB | {per_order:+.0} bytes | < 2 MiB: {met} |", b - a);
        }
        let met = if *runs <= CAFE_CACHE { "met" } else { "NOT met" };
        println!("| cafe: workflow runs held at the end | {runs} | | ≤ {CAFE_CACHE} (its cache): {met} |");
    }
    let restarted: Vec<String> = stack
        .exited()
        .into_iter()
        .map(|(name, status)| format!("{name} ({status})"))
        .chain(
            processes
                .iter()
                .filter(|(name, pid)| stack.pids().iter().any(|(n, p)| n == name && p != pid))
                .map(|(name, _)| format!("{name} (a new process)")),
        )
        .collect();
    println!(
        "| restarts of any process | {} | | 0: {} |",
        restarted.len(),
        if restarted.is_empty() { "met".to_owned() } else { format!("NOT met: {}", restarted.join(", ")) }
    );
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

/// The cafe worker's sticky cache (the SDK's default, which the workers keep).
const CAFE_CACHE: u64 = 1000;

/// The workflow runs a worker holds: `workflow_runs_live` on its `GET /metrics`.
async fn runs_held(http: &reqwest::Client, metrics: &str) -> anyhow::Result<u64> {
    let page = http.get(metrics).send().await?.error_for_status()?.text().await?;
    page.lines()
        .find(|l| l.starts_with("workflow_runs_live"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.trim().parse::<f64>().ok())
        .map(|n| n as u64)
        .ok_or_else(|| anyhow::anyhow!("no workflow_runs_live on {metrics}"))
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
