//! The load generator: drives a running CoffeeShop through its REST API, as customers would, and
//! reports throughput, latency percentiles and errors by kind. Used by `coffeeshop-load` (any URL)
//! and by `coffeeshop-bench` (`make bench`).

pub mod ceiling;
pub mod counter;
pub mod dashboard;
pub mod kitchen_owned;
pub mod peer;

/// A process's memory from `/proc/<pid>/status`, in MiB: `VmRSS` (now) or `VmHWM` (its peak); 0
/// if it is gone.
pub fn memory_mib(pid: u32, field: &str) -> f64 {
    workers::memory::mib(pid, field).unwrap_or(0.0)
}

/// The first `n` shops of the chain at `url` (`GET /shops`, by id); an error if it has fewer.
pub async fn first_shops(url: &str, n: usize) -> anyhow::Result<Vec<String>> {
    let shops: Vec<Value> = reqwest::get(format!("{url}/shops")).await?.error_for_status()?.json().await?;
    let ids: Vec<String> = shops.iter().filter_map(|s| s["shopId"].as_str().map(str::to_owned)).take(n).collect();
    anyhow::ensure!(ids.len() == n, "--shops {n}: the chain has {} shops (GET /shops); the owner opens more with POST /shops", ids.len());
    Ok(ids)
}

/// A client signed in as the stack's first manager (`admin`).
pub async fn manager(stack: &stack::Stack) -> anyhow::Result<reqwest::Client> {
    let password = stack.config.admin_password.expose();
    let token = stack::sign_in(&reqwest::Client::new(), &stack.api_url(), "admin", password).await?;
    stack::client_with(&token)
}

/// A stack of the benchmark's own in a fresh directory (removed afterwards, whatever `body`
/// returns): file-backed Temporal as `make run` uses, `baristas` automatic baristas brewing in
/// 0 ms, quiet logs. `body` gets the started stack; dropping it stops every process.
pub async fn with_own_stack<F, Fut>(name: &str, baristas: usize, body: F) -> anyhow::Result<()>
where
    F: FnOnce(stack::Stack) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let dir = std::env::temp_dir().join(format!("coffeeshop-{name}-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir)?;
    let run = async {
        let tools = stack::Tools::locate(&stack::tools::stack_dir())?;
        let mut config = stack::StackConfig::ephemeral(&dir, tools)?;
        config.temporal_on_disk();
        config.baristas = baristas;
        config.brew_ms = 0;
        config.rust_log = "warn".to_owned();
        println!("• starting the embedded stack ({baristas} automatic baristas, brew time 0)");
        body(stack::Stack::start(config).await?).await
    };
    let result = run.await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Waits until `count` has not changed for a second (at most 30 s in all); returns its last value.
pub async fn settled(count: impl Fn() -> usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = count();
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = count();
        if now == last || Instant::now() > deadline {
            return now;
        }
        last = now;
    }
}

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

/// What to send.
#[derive(Debug, Clone)]
pub struct Plan {
    pub url: String,
    pub orders: usize,
    /// At most this many orders in progress at once (closed loop).
    pub concurrency: usize,
    /// If set, start orders at this rate (orders/s) instead of as fast as the concurrency allows.
    pub rate: Option<f64>,
    /// Product mix, used round-robin.
    pub products: Vec<String>,
    /// Share of orders canceled right after they are accepted (0.0..=1.0).
    pub cancel_ratio: f64,
    /// Follow each order until it is final, measuring end-to-end completion.
    pub wait: bool,
    pub progress: bool,
    /// Orders are placed by this many customer accounts (`load-0`, `load-1`, …; signed up with
    /// the password `load-<n>-password` if they do not exist yet), round-robin.
    pub customers: usize,
    /// The shops orders are placed at, round-robin; empty: none named (`main`).
    pub shops: Vec<String>,
}

/// The default number of customer accounts a load run places its orders from.
pub const CUSTOMERS: usize = 16;

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of(samples: &mut [f64]) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
        Self {
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: samples[samples.len() - 1],
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub orders: usize,
    pub accepted: usize,
    pub seconds: f64,
    /// Accepted orders per second.
    pub post_throughput: f64,
    pub post_latency_ms: Percentiles,
    /// Orders that reached a final status, by status (with `wait`).
    pub finished: BTreeMap<String, usize>,
    /// Final orders per second, from the first POST to the last order finishing (with `wait`).
    pub e2e_throughput: Option<f64>,
    /// From placed to final, by the workflow's own clock (with `wait`).
    pub e2e_latency_ms: Option<Percentiles>,
    pub errors: BTreeMap<String, usize>,
}

#[derive(Default)]
struct Tally {
    post_ms: Vec<f64>,
    e2e_ms: Vec<f64>,
    accepted: usize,
    finished: BTreeMap<String, usize>,
    errors: BTreeMap<String, usize>,
    last_final: Option<Instant>,
}

/// Runs `plan` to the end and reports.
pub async fn run(plan: Plan) -> anyhow::Result<Report> {
    anyhow::ensure!(!plan.products.is_empty(), "give at least one product");
    let anonymous = reqwest::Client::new();
    let mut clients = Vec::new();
    for k in 0..plan.customers.max(1) {
        let name = format!("load-{k}");
        let token = stack::customer_token(&anonymous, &plan.url, &name, &format!("{name}-password")).await?;
        clients.push(stack::client_with(&token)?);
    }
    let tally = Arc::new(Mutex::new(Tally::default()));
    let permits = Arc::new(Semaphore::new(plan.concurrency.max(1)));
    let bar = if plan.progress {
        ProgressBar::new(plan.orders as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} orders ({per_sec}) {msg}")
            .expect("a valid template"),
    );
    let mut pace = plan
        .rate
        .map(|r| tokio::time::interval(Duration::from_secs_f64(1.0 / r.max(0.001))));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..plan.orders {
        if let Some(p) = pace.as_mut() {
            p.tick().await;
        }
        let permit = permits.clone().acquire_owned().await?;
        let (http, tally, bar, plan) = (
            clients[i % clients.len()].clone(),
            tally.clone(),
            bar.clone(),
            plan.clone(),
        );
        tasks.spawn(async move {
            one_order(&http, &plan, i, &tally).await;
            bar.inc(1);
            let errors: usize = tally.lock().unwrap().errors.values().sum();
            if errors > 0 {
                bar.set_message(format!("{errors} errors"));
            }
            drop(permit);
        });
    }
    while tasks.join_next().await.is_some() {}
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let mut t = tally.lock().unwrap();
    let done: usize = t.finished.values().sum();
    let e2e_seconds = t.last_final.map(|l| (l - started).as_secs_f64());
    Ok(Report {
        orders: plan.orders,
        accepted: t.accepted,
        seconds,
        post_throughput: t.accepted as f64 / seconds,
        post_latency_ms: Percentiles::of(&mut t.post_ms),
        finished: t.finished.clone(),
        e2e_throughput: plan.wait.then(|| done as f64 / e2e_seconds.unwrap_or(seconds)),
        e2e_latency_ms: plan.wait.then(|| Percentiles::of(&mut t.e2e_ms)),
        errors: t.errors.clone(),
    })
}

/// How a `POST /orders` answered with `status` is counted in [`Report::errors`].
fn refused_post(status: u16) -> String {
    format!("POST /orders {status}")
}

impl Report {
    /// How many `POST /orders` were answered with `status`.
    pub fn posts_refused(&self, status: u16) -> usize {
        self.errors.get(&refused_post(status)).copied().unwrap_or(0)
    }
}

fn error(tally: &Mutex<Tally>, kind: String) {
    *tally.lock().unwrap().errors.entry(kind).or_default() += 1;
}

async fn one_order(http: &reqwest::Client, plan: &Plan, i: usize, tally: &Mutex<Tally>) {
    let product = &plan.products[i % plan.products.len()];
    let mut body = json!({"productName": product, "qty": 1});
    if !plan.shops.is_empty() {
        body["shopId"] = plan.shops[i % plan.shops.len()].clone().into();
    }
    let key = uuid::Uuid::now_v7().to_string();
    let (response, ms) = loop {
        let sent = Instant::now();
        let response = http
            .post(format!("{}/orders", plan.url))
            .header("Idempotency-Key", &key)
            .json(&body)
            .send()
            .await;
        let ms = sent.elapsed().as_secs_f64() * 1000.0;
        match response {
            // The shop has had its share of new orders this second: sent again later.
            Ok(r) if r.status().as_u16() == 429 => {
                error(tally, refused_post(429));
                tokio::time::sleep(e2e::retry_wait(&r)).await;
            }
            response => break (response, ms),
        }
    };
    let id = match response {
        Ok(r) if r.status().as_u16() == 202 => {
            {
                let mut t = tally.lock().unwrap();
                t.post_ms.push(ms);
                t.accepted += 1;
            }
            match r.json::<Value>().await {
                Ok(v) => v["orderId"].as_str().unwrap_or_default().to_owned(),
                Err(e) => return error(tally, format!("bad body: {e}")),
            }
        }
        Ok(r) => return error(tally, refused_post(r.status().as_u16())),
        Err(e) => {
            return error(
                tally,
                if e.is_timeout() {
                    "POST /orders timeout".into()
                } else {
                    "POST /orders transport".into()
                },
            );
        }
    };
    // A deterministic share of orders is canceled: every n-th one.
    if plan.cancel_ratio > 0.0 && (i as f64 * plan.cancel_ratio).fract() + plan.cancel_ratio >= 1.0 {
        match http.post(format!("{}/orders/{id}/cancel", plan.url)).send().await {
            Ok(r) if r.status().is_success() || r.status().as_u16() == 409 => {}
            Ok(r) => error(tally, format!("cancel {}", r.status().as_u16())),
            Err(_) => error(tally, "cancel transport".into()),
        }
    }
    if plan.wait {
        follow(http, plan, &id, tally).await;
    }
}

/// How often a client reads its order while following it: twice a second, as a customer's page
/// would. (End-to-end latency comes from the order's own history, not from this clock.)
pub const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// Polls the order until it is final; its end-to-end time comes from its own history.
async fn follow(http: &reqwest::Client, plan: &Plan, id: &str, tally: &Mutex<Tally>) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        if let Ok(r) = http.get(format!("{}/orders/{id}", plan.url)).send().await
            && let Ok(order) = r.json::<Value>().await
            && let Some(status @ ("Completed" | "Rejected" | "Canceled")) = order["status"].as_str()
        {
            let mut t = tally.lock().unwrap();
            *t.finished.entry(status.to_owned()).or_default() += 1;
            t.last_final = Some(Instant::now());
            if let (Some(placed), Some(updated)) = (time(&order["placedAt"]), time(&order["updatedAt"])) {
                t.e2e_ms
                    .push(updated.duration_since(placed).unwrap_or_default().as_secs_f64() * 1000.0);
            }
            return;
        }
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
    error(tally, "order not final within 300 s".into());
}

fn time(v: &Value) -> Option<SystemTime> {
    humantime::parse_rfc3339(v.as_str()?).ok()
}

/// The report as a human reads it.
pub fn print(report: &Report) {
    let p = |x: &Percentiles| {
        format!(
            "p50 {:.1}  p95 {:.1}  p99 {:.1}  max {:.1} ms",
            x.p50, x.p95, x.p99, x.max
        )
    };
    println!(
        "orders        {} sent, {} accepted in {:.1} s ({:.1}/s)",
        report.orders, report.accepted, report.seconds, report.post_throughput
    );
    println!("POST /orders  {}", p(&report.post_latency_ms));
    if let (Some(tp), Some(lat)) = (report.e2e_throughput, &report.e2e_latency_ms) {
        let finished: Vec<String> = report.finished.iter().map(|(k, v)| format!("{v} {k}")).collect();
        println!("end to end    {} ({tp:.1} final orders/s)", finished.join(", "));
        println!("              {}", p(lat));
    }
    if report.errors.is_empty() {
        println!("errors        none");
    } else {
        for (kind, n) in &report.errors {
            println!("error         {n} × {kind}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Percentiles;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let mut samples: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = Percentiles::of(&mut samples);
        assert_eq!((p.p50, p.p95, p.p99, p.max), (50.0, 95.0, 99.0, 100.0));
        assert_eq!(Percentiles::of(&mut []).max, 0.0);
    }
}
