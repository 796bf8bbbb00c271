//! `coffeeshop-bench`, what `make bench` runs: starts its own embedded stack (file-backed Temporal
//! as `make run` uses, automatic baristas brewing in 0 ms) and measures, in one go:
//! 1. end to end: final orders/s from POST to Completed at saturation;
//! 2. the ceiling: a bare workflow with as many no-op activities as an order, on the same server,
//!    started directly with the client: workflows/s (and the ratio 1 ÷ 2); what each Temporal
//!    feature adds to it (an update, a signal, an upsert, a local activity, a timer, an activity),
//!    workflows/s and server CPU; the prototype of the kitchen-owned shape decision 0008 proposes;
//!    and the peer, the same saga written the ordinary way with Temporal's Python SDK;
//! 3. POST /orders latency at half the saturation rate; at the counter at that rate with people
//!    instead of automatic baristas: placed → on the board, a barista's command → its answer; what
//!    a canceled Queued order and a rejected order cost Temporal;
//! 4. reads: GET /orders/<id> from the view vs the workflow's `status` query;
//! 5. footprint: peak RSS of the API and each worker;
//! 6. the cost of tracing: the saturation run again with every process exporting its spans to an
//!    OTLP collector (in this process), against the run without;
//! 7. the reads on a view of a million orders over fifty shops: a shop's dashboard, board and
//!    menu, a customer's MyPages, the owner's `GET /chain`;
//! 8. the chain: throughput with every order at one shop and spread over twenty (no hot spot).
//!
//! Then prints one table and the machine it ran on.

use std::time::Instant;

use bench::ceiling::{Feature, Shape};
use bench::{Percentiles, Plan, Report};
use clap::Parser;
use domain::{OrderId, order_workflow_id};
use e2e::history::Cost;
use stack::{Stack, WORKERS};
use temporalio_client::WorkflowQueryOptions;
use workflows::OrderWorkflow;

#[derive(Parser, Debug)]
#[command(about = "Benchmark CoffeeShop on its own embedded stack.")]
struct Args {
    /// Orders in the saturation run (and bare workflows in the ceiling run).
    #[arg(long, default_value_t = 400)]
    orders: usize,
    /// Orders in flight at once in the saturation run.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Automatic baristas in the kitchen worker.
    #[arg(long, default_value_t = 16)]
    baristas: usize,
    /// Reads of each kind in the read comparison.
    #[arg(long, default_value_t = 300)]
    reads: usize,
    /// Only the chain's steps: 8 (throughput with one shop and with twenty), then 7 (the reads on a
    /// million orders over fifty shops).
    #[arg(long)]
    only_chain: bool,
}

const PRODUCTS: [&str; 5] = ["Americano", "Latte", "Cappuccino", "Espresso", "Mocha"];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    bench::with_own_stack("bench", args.baristas, |stack| run(&args, stack)).await
}

fn plan(url: &str, orders: usize, concurrency: usize, wait: bool) -> Plan {
    Plan {
        url: url.to_owned(),
        orders,
        concurrency,
        rate: None,
        products: PRODUCTS.iter().map(|p| p.to_string()).collect(),
        cancel_ratio: 0.0,
        wait,
        progress: true,
        customers: bench::CUSTOMERS,
        shops: Vec::new(),
    }
}

/// Everything `make bench` measured, for the table.
struct Figures {
    saturation: Saturation,
    fixed_before: f64,
    fixed_after: f64,
    ceiling: f64,
    /// Each feature: the bare workflow measured just before, then with the feature.
    features: Vec<(Feature, Measured, Measured)>,
    peer: Measured,
    /// The kitchen-owned prototype (decision 0008): its figures and one workflow's history.
    kitchen_owned: (Measured, Cost),
    half: f64,
    post: Report,
    counter: bench::counter::Counter,
    canceled: Cost,
    rejected: Cost,
    view: Percentiles,
    query: Percentiles,
    rss: Vec<(&'static str, f64)>,
    traced: Saturation,
    spans_per_order: f64,
    dashboard: bench::dashboard::Figures,
    outage: Percentiles,
}

/// The saturation run (1): orders end to end, the CPU they cost, and the shape of one's history.
struct Saturation {
    e2e: Report,
    cpu_ours_ms: f64,
    cpu_server_ms: f64,
    breakdown: String,
    from_workflow: f64,
    shape: HistoryShape,
}

/// Workflows per second, and the Temporal server's CPU per workflow (ms), of one ceiling run.
#[derive(Debug, Clone, Copy)]
struct Measured {
    rate: f64,
    server_ms: f64,
}

async fn run(args: &Args, mut stack: Stack) -> anyhow::Result<()> {
    let url = stack.api_url();
    // The manager restocks and reads the kitchen board; orders come from customer accounts.
    let http = bench::manager(&stack).await?;
    for product in PRODUCTS {
        http.post(format!("{url}/stocks"))
            .json(&serde_json::json!({"productName": product, "qty": 1_000_000}))
            .send()
            .await?
            .error_for_status()?;
    }
    println!("• warming up");
    bench::run(plan(&url, 40, 8, true)).await?;
    if args.only_chain {
        let chain = chain(args, &mut stack, &http, &url).await?;
        println!("• 7/7 the reads on a view of a million orders over {} shops (seeding it first)", bench::dashboard::SHOPS);
        let reads = bench::dashboard::on_a_million(&stack.postgres, args.reads).await?;
        print_chain(&chain);
        print_reads(&reads);
        return Ok(());
    }
    // The fixed ceiling is measured before the orders and again after them, and the ratio is
    // taken to their mean: this machine's speed drifts over minutes, and one ceiling measured a
    // few minutes away from the orders moved the ratio by a third.
    let client =
        workers::temporal::try_connect(&format!("http://{}", stack.temporal_address).parse()?, "default").await?;
    println!("• the fixed ceiling first: bare workflows with {FIXED_CEILING_ACTIVITIES} no-op activities each");
    let fixed_before =
        bench::ceiling::measure(client.clone(), FIXED_CEILING_ACTIVITIES, args.orders, args.concurrency).await?;
    println!("  {fixed_before:.1} workflows/s");

    let saturation = saturation("1/7 end to end at saturation", args, &mut stack, &http, &url).await?;
    let activities = saturation.shape.activities;
    println!(
        "• 2/7 the ceilings: bare workflows with {FIXED_CEILING_ACTIVITIES} and with {activities} no-op activities each"
    );
    let fixed_after =
        bench::ceiling::measure(client.clone(), FIXED_CEILING_ACTIVITIES, args.orders, args.concurrency).await?;
    let ceiling = bench::ceiling::measure(client.clone(), activities, args.orders, args.concurrency).await?;
    println!("  {fixed_after:.1} and {ceiling:.1} workflows/s");
    let server = server_cpu(&stack);
    let measure = |feature| {
        let (client, server) = (client.clone(), &server);
        async move {
            let shape = Shape {
                activities: FIXED_CEILING_ACTIVITIES,
                feature,
                times: FEATURE_TIMES,
            };
            let count = args.orders / 2;
            let before = server();
            let rate = bench::ceiling::measure_shape(client, shape, count, args.concurrency).await?;
            anyhow::Ok(Measured {
                rate,
                server_ms: (server() - before) * 1000.0 / count as f64,
            })
        }
    };
    // Each feature measured right after the bare workflow it adds to, so that the machine's drift
    // over minutes falls on both alike; the cost is the difference of the pair.
    let mut features = Vec::new();
    for feature in Feature::PRICED {
        let (bare, with) = (measure(Feature::Nothing).await?, measure(feature).await?);
        println!(
            "  + {FEATURE_TIMES} × {}: {:.1} → {:.1} workflows/s, server {:.1} → {:.1} ms each",
            feature.name(),
            bare.rate,
            with.rate,
            bare.server_ms,
            with.server_ms
        );
        features.push((feature, bare, with));
    }
    println!("• the prototype decision 0008 proposes: the kitchen completes startProduction when the coffee is made");
    let before = server();
    let (rate, last) = bench::kitchen_owned::measure(client.clone(), args.orders, args.concurrency).await?;
    let kitchen_owned = (
        Measured {
            rate,
            server_ms: (server() - before) * 1000.0 / args.orders as f64,
        },
        Cost::of(&stack.history_events(&last).await?),
    );
    println!(
        "  {rate:.1} workflows/s, server {:.1} ms each",
        kitchen_owned.0.server_ms
    );
    println!("• the peer: the same saga with Temporal's Python SDK, written the ordinary way");
    let before = server();
    let rate = bench::peer::measure(
        &stack.config.tools.temporal,
        &stack.temporal_address,
        args.orders,
        args.concurrency,
    )
    .await?;
    let peer = Measured {
        rate,
        server_ms: (server() - before) * 1000.0 / args.orders as f64,
    };
    println!("  {rate:.1} orders/s, server {:.1} ms each", peer.server_ms);

    let half = (saturation.e2e.e2e_throughput.unwrap_or(0.0) / 2.0).max(1.0);
    let n = ((half * 20.0) as usize).clamp(40, 400);
    println!("• 3/7 POST /orders latency at half saturation: {n} orders at {half:.1}/s");
    let mut paced = plan(&url, n, args.concurrency.max(64), false);
    paced.rate = Some(half);
    let post: Report = bench::run(paced).await?;
    bench::print(&post);
    let (counter, canceled, rejected) = at_the_counter(&mut stack, &http, &url, half, n).await?;

    let (view, query) = reads(args.reads, &client, &http, &url).await?;

    println!("• 5/7 footprint");
    let rss = std::iter::once("api")
        .chain(WORKERS)
        .map(|name| {
            (
                name,
                bench::memory_mib(stack.process(name).pid().unwrap_or_default(), "VmHWM"),
            )
        })
        .collect();

    let chain = chain(args, &mut stack, &http, &url).await?;
    let (traced, spans_per_order) = traced(args, &mut stack, &http, &url).await?;
    println!("• 7/7 the reads on a view of a million orders over {} shops (seeding it first)", bench::dashboard::SHOPS);
    let dashboard = bench::dashboard::on_a_million(&stack.postgres, args.reads).await?;

    println!(
        "• and failing fast: POST /orders while Temporal is stopped, {} times",
        args.reads
    );
    let outage = fail_fast(&mut stack, &http, &url, args.reads).await?;
    stack.stop();

    print_table(
        args,
        &Figures {
            saturation,
            fixed_before,
            fixed_after,
            ceiling,
            features,
            peer,
            kitchen_owned,
            half,
            post,
            counter,
            canceled,
            rejected,
            view,
            query,
            rss,
            traced,
            spans_per_order,
            dashboard,
            outage,
        },
    );
    print_chain(&chain);
    Ok(())
}

/// The shops the chain's step opens, each stocked like `main`.
const CHAIN_SHOPS: usize = 20;

/// 8: the chain: the saturation run with every order at one shop, then spread over twenty; and a
/// quiet shop's placed → Queued alone and during a rush at another.
struct Chain {
    one: Report,
    twenty: Report,
    quiet_alone: f64,
    quiet_during_rush: f64,
}

/// The rush: orders at one shop, all sent at once; the quiet shop's trickle beside it (as in
/// `e2e/tests/integration/fairness.rs`).
const RUSH: usize = 300;
const TRICKLE: usize = 200;
const TRICKLE_PER_SECOND: f64 = 4.0;

async fn chain(args: &Args, stack: &mut Stack, http: &reqwest::Client, url: &str) -> anyhow::Result<Chain> {
    println!("• 8/8 the chain: {CHAIN_SHOPS} shops, each stocked like main");
    let shops: Vec<String> = (1..=CHAIN_SHOPS).map(|i| format!("bench-{i}")).collect();
    for shop in &shops {
        let opened = http
            .post(format!("{url}/shops"))
            .json(&serde_json::json!({"shopId": shop, "name": format!("Bench {shop}")}))
            .send()
            .await?;
        anyhow::ensure!(opened.status().is_success() || opened.status() == 409, "opening {shop}: {}", opened.status());
        for product in PRODUCTS {
            http.post(format!("{url}/stocks"))
                .json(&serde_json::json!({"shopId": shop, "productName": product, "qty": 1_000_000}))
                .send()
                .await?
                .error_for_status()?;
        }
    }
    let at = |shops: &[String]| Plan { shops: shops.to_vec(), ..plan(url, args.orders, args.concurrency, true) };
    println!("  every order at one shop");
    let one = bench::run(at(&shops[..1])).await?;
    bench::print(&one);
    println!("  orders spread over {CHAIN_SHOPS} shops");
    let twenty = bench::run(at(&shops)).await?;
    bench::print(&twenty);

    // The rush meets the API's own share of new orders per shop, which the bench's stack lifts
    // for the saturation runs.
    stack.config.extra_env.retain(|(k, _)| k != stack::ORDERS_PER_SHOP_PER_SECOND);
    stack.restart_api().await?;
    let trickle = |shop: &str| Plan {
        shops: vec![shop.to_owned()],
        rate: Some(TRICKLE_PER_SECOND),
        progress: false,
        ..plan(url, TRICKLE, 8, false)
    };
    println!("  a quiet shop alone: {TRICKLE} orders at {TRICKLE_PER_SECOND}/s");
    let since = domain::timestamp(std::time::SystemTime::now());
    bench::run(trickle(&shops[1])).await?;
    let quiet_alone = placed_to_queued_p99(stack, &shops[1], &since).await?;
    println!("  the same beside a rush of {RUSH} orders at another shop");
    let since = domain::timestamp(std::time::SystemTime::now());
    let rush = Plan { shops: vec![shops[0].clone()], progress: false, ..plan(url, RUSH, RUSH, false) };
    let (rushed, _) = tokio::try_join!(bench::run(rush), bench::run(trickle(&shops[2])))?;
    anyhow::ensure!(rushed.accepted == RUSH, "the rush was accepted: {:?}", rushed.errors);
    let quiet_during_rush = placed_to_queued_p99(stack, &shops[2], &since).await?;
    stack.config.extra_env.push((stack::ORDERS_PER_SHOP_PER_SECOND.to_owned(), "0".to_owned()));
    stack.restart_api().await?;
    println!("  placed → Queued p99 at the quiet shop: {quiet_alone:.0} ms alone, {quiet_during_rush:.0} ms beside the rush");
    Ok(Chain { one, twenty, quiet_alone, quiet_during_rush })
}

/// The p99 of placed → Queued of the orders placed at `shop` since `since`, from the view's
/// timelines (the workflow's clock), once each has reached the board.
async fn placed_to_queued_p99(stack: &Stack, shop: &str, since: &str) -> anyhow::Result<f64> {
    let view = sqlx::PgPool::connect(&stack.postgres.url("customercenter")).await?;
    let deadline = Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let (waiting, p99): (i64, Option<f64>) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE q.at IS NULL),
                    percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM q.at::timestamptz - o.placed_at::timestamptz) * 1000)
             FROM orders o LEFT JOIN order_history q ON q.order_id = o.order_id AND q.status = 'Queued'
             WHERE o.shop_id = $1 AND o.placed_at >= $2",
        )
        .bind(shop)
        .bind(since)
        .fetch_one(&view)
        .await?;
        if waiting == 0 && let Some(p99) = p99 {
            return Ok(p99);
        }
        anyhow::ensure!(Instant::now() < deadline, "{waiting} orders at {shop} never reached the board");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Step 7's rows: each read on the seeded view.
fn print_reads(d: &bench::dashboard::Figures) {
    let (orders, shops) = (bench::dashboard::ORDERS, bench::dashboard::SHOPS);
    for (read, p) in [
        ("a shop's dashboard (`GET /shop`)", d.reads),
        ("a shop's board (`GET /kitchen/tickets`)", d.board),
        ("a shop's menu (`GET /stocks`)", d.menu),
        ("a customer's MyPages (`GET /orders`)", d.my_pages),
        ("every shop's last hour (`GET /chain`)", d.chain),
    ] {
        println!(
            "| 7. {read} on a view of {orders} orders over {shops} shops | p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms |",
            p.p50, p.p95, p.p99
        );
    }
    println!("| 7. seeding that view | {:.0} s |", d.seeded_in.as_secs_f64());
}

fn print_chain(c: &Chain) {
    let row = |r: &Report| {
        let latency = r.e2e_latency_ms.unwrap_or_default();
        format!(
            "{:.1} orders/s (p50 {:.0} ms, p99 {:.0} ms from placed to completed)",
            r.e2e_throughput.unwrap_or(0.0),
            latency.p50,
            latency.p99
        )
    };
    println!("| 8. the chain at saturation: every order at one shop | {} |", row(&c.one));
    println!("| 8. the chain at saturation: orders spread over {CHAIN_SHOPS} shops | {} |", row(&c.twenty));
    println!(
        "| 8. a quiet shop ({TRICKLE} orders at {TRICKLE_PER_SECOND}/s): placed → Queued p99 alone; beside a rush of {RUSH} orders at another shop | {:.0} ms; {:.0} ms |",
        c.quiet_alone, c.quiet_during_rush
    );
}

/// 6: every process restarted with `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at a collector in this
/// process, then the saturation run again; returns it and the spans exported per order.
async fn traced(
    args: &Args,
    stack: &mut Stack,
    http: &reqwest::Client,
    url: &str,
) -> anyhow::Result<(Saturation, f64)> {
    println!("• 6/7 tracing on: every process restarted exporting its spans over OTLP");
    let collector = e2e::collector::Collector::start().await;
    stack
        .config
        .extra_env
        .push(("OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(), collector.endpoint.clone()));
    for worker in WORKERS {
        stack.restart_gracefully(worker).await?;
    }
    stack.restart_api().await?;
    let traced = saturation("6/7 the saturation run again, traced", args, stack, http, url).await?;
    let completed = traced.e2e.finished.values().sum::<usize>().max(1) as f64;
    // The last batches are a moment behind the last order.
    let spans = bench::settled(|| collector.spans().len()).await;
    Ok((traced, spans as f64 / completed))
}

/// 1: orders through the API at saturation, followed to Completed, with the CPU every process
/// spent on them and how many reads the view could not answer.
async fn saturation(
    label: &str,
    args: &Args,
    stack: &mut Stack,
    http: &reqwest::Client,
    url: &str,
) -> anyhow::Result<Saturation> {
    println!("• {label}: {} orders, {} in flight", args.orders, args.concurrency);
    let ours: Vec<u32> = std::iter::once("api")
        .chain(WORKERS)
        .filter_map(|name| stack.process(name).pid())
        .collect();
    let temporal_pid: Vec<u32> = stack
        .pids()
        .into_iter()
        .filter(|(name, _)| name.as_str() == "temporal")
        .map(|(_, pid)| pid)
        .collect();
    // Every process on the two cores, PostgreSQL's backends included, for the breakdown.
    let everyone: Vec<(String, Vec<u32>)> = stack
        .pids()
        .into_iter()
        .map(|(name, pid)| (name, with_children(pid)))
        .collect();
    let each = || everyone.iter().map(|(_, pids)| cpu_seconds(pids)).collect::<Vec<_>>();
    let (ours_before, server_before, each_before) = (cpu_seconds(&ours), cpu_seconds(&temporal_pid), each());
    let from_workflow_before = metric(http, url, FROM_WORKFLOW).await?;
    let e2e = bench::run(plan(url, args.orders, args.concurrency, true)).await?;
    let completed = e2e.finished.values().sum::<usize>().max(1) as f64;
    let cpu_ours_ms = (cpu_seconds(&ours) - ours_before) * 1000.0 / completed;
    let cpu_server_ms = (cpu_seconds(&temporal_pid) - server_before) * 1000.0 / completed;
    bench::print(&e2e);
    let breakdown: Vec<String> = everyone
        .iter()
        .zip(each().into_iter().zip(each_before))
        .map(|((name, _), (after, before))| format!("{name} {:.1}", (after - before) * 1000.0 / completed))
        .collect();
    let breakdown = breakdown.join(", ");
    println!("  CPU ms per completed order, by process: {breakdown}");
    let from_workflow = (metric(http, url, FROM_WORKFLOW).await? - from_workflow_before) / completed;
    println!(
        "  reads answered by the workflow's query (the view had not got the order yet): {from_workflow:.2} per order"
    );
    let shape = history_of_an_order(stack, http, url).await?;
    println!(
        "  one completed order: {} history events, {} workflow tasks, {} billable actions ({})",
        shape.cost.events,
        shape.cost.workflow_tasks,
        shape.cost.billable(),
        shape.cost.by_type()
    );
    Ok(Saturation {
        e2e,
        cpu_ours_ms,
        cpu_server_ms,
        breakdown,
        from_workflow,
        shape,
    })
}

/// 4: `n` reads of completed orders from the view (`GET /orders/<id>`), and as many `status`
/// queries to their workflows.
async fn reads(
    n: usize,
    client: &temporalio_client::Client,
    http: &reqwest::Client,
    url: &str,
) -> anyhow::Result<(Percentiles, Percentiles)> {
    println!("• 4/7 reads: GET /orders/<id> (view) vs the `status` workflow query, {n} each");
    let ids = completed_orders(http, url).await?;
    anyhow::ensure!(!ids.is_empty(), "no completed orders to read");
    let view = time_each(n, |i| {
        let (http, url, id) = (http.clone(), url.to_owned(), ids[i % ids.len()].clone());
        async move {
            http.get(format!("{url}/orders/{id}"))
                .send()
                .await?
                .error_for_status()?;
            anyhow::Ok(())
        }
    })
    .await?;
    let query = time_each(n, |i| {
        let handle = client
            .get_workflow_handle::<OrderWorkflow>(order_workflow_id(&OrderId::parse(&ids[i % ids.len()]).unwrap()));
        async move {
            handle
                .query(OrderWorkflow::status, (), WorkflowQueryOptions::default())
                .await?;
            anyhow::Ok(())
        }
    })
    .await?;
    Ok((view, query))
}

/// The table the README shows, and the machine it was measured on.
fn print_table(args: &Args, f: &Figures) {
    let Saturation {
        e2e,
        cpu_ours_ms,
        cpu_server_ms,
        breakdown,
        from_workflow,
        shape,
    } = &f.saturation;
    let e2e_rate = e2e.e2e_throughput.unwrap_or(0.0);
    let fixed = (f.fixed_before + f.fixed_after) / 2.0;
    println!();
    println!("| measure | result |");
    println!("|---|---|");
    println!(
        "| 1. end to end at saturation ({} orders, {} in flight) | **{e2e_rate:.1} orders/s** (p50 {:.0} ms, p99 {:.0} ms from placed to completed) |",
        args.orders,
        args.concurrency,
        e2e.e2e_latency_ms.unwrap_or_default().p50,
        e2e.e2e_latency_ms.unwrap_or_default().p99
    );
    let shed = e2e.posts_refused(503);
    println!(
        "| 1. POST /orders at saturation | p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {shed} answered 503 |",
        e2e.post_latency_ms.p50, e2e.post_latency_ms.p95, e2e.post_latency_ms.p99, e2e.post_latency_ms.max
    );
    let cost = |c: &Cost| {
        format!(
            "**{} billable actions** ({}); {} events, {} workflow tasks",
            c.billable(),
            c.by_type(),
            c.events,
            c.workflow_tasks
        )
    };
    println!("| 1. one completed order's history | {} |", cost(&shape.cost));

    println!(
        "| 1. CPU per completed order | API + four workers {cpu_ours_ms:.1} ms (reads included); Temporal server {cpu_server_ms:.1} ms |"
    );
    println!("| 1. CPU per completed order, by process (ms) | {breakdown} |");
    println!(
        "| 1. reads answered by the workflow's `status` query | {from_workflow:.2} per order (queries are billable too; the rest by the view, or by the API that just placed the order) |"
    );
    println!(
        "| 2. fixed ceiling: bare workflow, {FIXED_CEILING_ACTIVITIES} no-op activities | **{fixed:.1} workflows/s** (mean of {:.1} before the orders and {:.1} after); ours is {:.2}× it |",
        f.fixed_before,
        f.fixed_after,
        e2e_rate / fixed
    );
    println!(
        "| 2. ceiling: bare workflow, {} no-op activities (as many as an order) | **{:.1} workflows/s**; ours is {:.0}% of it |",
        shape.activities,
        f.ceiling,
        100.0 * e2e_rate / f.ceiling
    );
    for (feature, bare, with) in &f.features {
        println!(
            "| 2. feature cost: {FIXED_CEILING_ACTIVITIES} no-op activities + {FEATURE_TIMES} × {} | {:.1} → {:.1} workflows/s; Temporal server {:.1} → {:.1} ms CPU per workflow: **{:+.1} ms per use** |",
            feature.name(),
            bare.rate,
            with.rate,
            bare.server_ms,
            with.server_ms,
            (with.server_ms - bare.server_ms) / f64::from(FEATURE_TIMES)
        );
    }
    println!(
        "| 2. the peer: the same saga with Temporal's Python SDK, the ordinary way | **{:.1} orders/s**, Temporal server {:.1} ms CPU each; ours is {:.2}× it |",
        f.peer.rate,
        f.peer.server_ms,
        e2e_rate / f.peer.rate.max(0.001)
    );
    let (prototype, prototype_cost) = &f.kitchen_owned;
    println!(
        "| 2. prototype, not adopted: the kitchen owns the barista's steps (decision 0008), no-op services | {:.1} workflows/s ({:.2}× the fixed ceiling), Temporal server {:.1} ms CPU each; {} |",
        prototype.rate,
        prototype.rate / fixed,
        prototype.server_ms,
        cost(prototype_cost)
    );
    let post = &f.post.post_latency_ms;
    println!(
        "| 3. POST /orders at {:.1}/s | p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms |",
        f.half, post.p50, post.p95, post.p99, post.max
    );
    let c = &f.counter;
    println!(
        "| 3. at the counter at {:.1}/s ({} orders, no automatic baristas): placed → Queued in the view | p50 {:.1} ms, p99 {:.1} ms |",
        f.half, c.orders, c.placed_to_queued.p50, c.placed_to_queued.p99
    );
    println!(
        "| 3. at the counter: a barista's command (start, complete) → its answer | p50 {:.1} ms, p99 {:.1} ms; {} orders failed |",
        c.barista.p50, c.barista.p99, c.failures
    );
    println!("| 3. one canceled Queued order's history | {} |", cost(&f.canceled));
    println!(
        "| 3. one rejected order's history (unknown product) | {} |",
        cost(&f.rejected)
    );
    println!(
        "| 4. GET /orders/<id> (view) | p50 {:.2} ms, p99 {:.2} ms |",
        f.view.p50, f.view.p99
    );
    println!(
        "| 4. `status` query (workflow) | p50 {:.2} ms, p99 {:.2} ms; the view is {:.0}× faster at p50 |",
        f.query.p50,
        f.query.p99,
        f.query.p50 / f.view.p50.max(0.001)
    );
    let footprint: Vec<String> = f.rss.iter().map(|(n, m)| format!("{n} {m:.0}")).collect();
    println!("| 5. peak RSS (MiB) | {} |", footprint.join(", "));
    let traced_rate = f.traced.e2e.e2e_throughput.unwrap_or(0.0);
    println!(
        "| 6. tracing on (every span exported over OTLP, {:.0} spans per order) | **{traced_rate:.1} orders/s** ({:.0}% of off); CPU per completed order: ours {:.1} ms (off {cpu_ours_ms:.1}), Temporal server {:.1} ms (off {cpu_server_ms:.1}); p50 {:.0} ms placed to completed |",
        f.spans_per_order,
        100.0 * traced_rate / e2e_rate.max(0.001),
        f.traced.cpu_ours_ms,
        f.traced.cpu_server_ms,
        f.traced.e2e.e2e_latency_ms.unwrap_or_default().p50
    );
    print_reads(&f.dashboard);
    println!(
        "| 503 while Temporal is down (breaker open) | p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms |",
        f.outage.p50, f.outage.p99, f.outage.max
    );
    let errors = if e2e.errors.is_empty() && f.post.errors.is_empty() {
        "none".to_owned()
    } else {
        format!("{:?} {:?}", e2e.errors, f.post.errors)
    };
    println!("| errors | {errors} |");
    println!();
    println!("machine: {}", machine());
}

/// Stops Temporal, waits for the API's breaker to open, and times `n` refused orders.
async fn fail_fast(stack: &mut Stack, http: &reqwest::Client, url: &str, n: usize) -> anyhow::Result<Percentiles> {
    let customer = stack::client_with(
        &stack::customer_token(&reqwest::Client::new(), url, "bench-outage", "bench-outage-password").await?,
    )?;
    stack.stop_temporal();
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let metrics = http.get(format!("{url}/metrics")).send().await?.text().await?;
        if metrics.contains("coffeeshop_temporal_circuit_open 1") {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "the breaker did not open");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let body = serde_json::json!({"productName": "Latte", "qty": 1});
    time_each(n, |_| {
        let (http, url, body) = (customer.clone(), url.to_owned(), body.clone());
        async move {
            let r = http.post(format!("{url}/orders")).json(&body).send().await?;
            anyhow::ensure!(r.status().as_u16() == 503, "expected 503, got {}", r.status());
            anyhow::Ok(())
        }
    })
    .await
}

/// How many times over the feature table adds each feature: its cost per use is the difference
/// over this.
const FEATURE_TIMES: u32 = 5;

/// The fixed ceiling's activities, so its ratio means the same across changes to the workflow.
const FIXED_CEILING_ACTIVITIES: u32 = 6;

/// CPU time (user + system) used so far by these processes, in seconds.
fn cpu_seconds(pids: &[u32]) -> f64 {
    let ticks = 100.0; // USER_HZ on Linux
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|stat| {
            // Fields after the command name (which may hold spaces) start after the last ')'.
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / ticks)
        })
        .sum()
}

/// The API's count of order reads answered by the workflow's `status` query.
const FROM_WORKFLOW: &str = "coffeeshop_orders_read_from_workflow_total";

/// A counter's value on the API's `/metrics`.
async fn metric(http: &reqwest::Client, url: &str, name: &str) -> anyhow::Result<f64> {
    let text = http.get(format!("{url}/metrics")).send().await?.text().await?;
    Ok(text
        .lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(0.0))
}

/// `pid` and its children (PostgreSQL serves each connection from a child process).
fn with_children(pid: u32) -> Vec<u32> {
    let children = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|stat| stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse::<u32>().ok())
                == Some(pid)
        });
    std::iter::once(pid).chain(children).collect()
}

/// What one completed order cost Temporal, from its history.
struct HistoryShape {
    cost: Cost,
    activities: u32,
}

/// The history of one completed order, counted.
async fn history_of_an_order(stack: &Stack, http: &reqwest::Client, url: &str) -> anyhow::Result<HistoryShape> {
    let ids = completed_orders(http, url).await?;
    let id = ids.first().ok_or_else(|| anyhow::anyhow!("no completed order"))?;
    let events = stack.history_events(&format!("order-{id}")).await?;
    Ok(HistoryShape {
        cost: Cost::of(&events),
        activities: events
            .iter()
            .filter(|e| e.get("activityTaskScheduledEventAttributes").is_some())
            .count() as u32,
    })
}

/// The Temporal server's CPU time so far, in seconds.
fn server_cpu(stack: &Stack) -> impl Fn() -> f64 + use<> {
    let pids: Vec<u32> = stack
        .pids()
        .into_iter()
        .filter(|(name, _)| name.as_str() == "temporal")
        .map(|(_, pid)| pid)
        .collect();
    move || cpu_seconds(&pids)
}

/// 3, at the counter: the kitchen restarted without automatic baristas, `n` orders at `rate`
/// placed, followed to the board and started and completed by the bench as a barista; then one
/// order canceled while Queued and one of a product nobody sells, and what each cost Temporal.
/// The automatic baristas are back afterwards.
async fn at_the_counter(
    stack: &mut Stack,
    manager: &reqwest::Client,
    url: &str,
    rate: f64,
    n: usize,
) -> anyhow::Result<(bench::counter::Counter, Cost, Cost)> {
    println!(
        "• 3/7 at the counter at {rate:.1}/s: {n} orders, each followed to the board, started and completed by a person"
    );
    let baristas = stack.config.baristas;
    stack.config.baristas = 0;
    stack.restart_gracefully("kitchen").await?;
    let customer = stack::client_with(
        &stack::customer_token(&reqwest::Client::new(), url, "bench-counter", "bench-counter-password").await?,
    )?;
    let counter = bench::counter::run(url, &customer, manager, PRODUCTS[0], n, rate).await?;
    println!(
        "  placed → Queued in the view p50 {:.1} ms, p99 {:.1} ms; a barista's command p50 {:.1} ms, p99 {:.1} ms; {} failed",
        counter.placed_to_queued.p50,
        counter.placed_to_queued.p99,
        counter.barista.p50,
        counter.barista.p99,
        counter.failures
    );
    let canceled = one_order(&customer, url, PRODUCTS[0], "Queued", Some("cancel")).await?;
    let rejected = one_order(&customer, url, "Nobody-Sells-This", "Rejected", None).await?;
    stack.config.baristas = baristas;
    stack.restart_gracefully("kitchen").await?;
    let (canceled, rejected) = (
        Cost::of(&closed(stack, &canceled).await?),
        Cost::of(&closed(stack, &rejected).await?),
    );
    println!(
        "  a canceled Queued order: {} events, {} billable actions ({})",
        canceled.events,
        canceled.billable(),
        canceled.by_type()
    );
    println!(
        "  a rejected order: {} events, {} billable actions ({})",
        rejected.events,
        rejected.billable(),
        rejected.by_type()
    );
    Ok((counter, canceled, rejected))
}

/// Places one order of `product`, waits for `status` in the view, and sends `command` if given.
async fn one_order(
    customer: &reqwest::Client,
    url: &str,
    product: &str,
    status: &str,
    command: Option<&str>,
) -> anyhow::Result<String> {
    let every = std::time::Duration::from_millis(20);
    let id = bench::counter::place_and_follow(url, customer, product, status, every).await?;
    if let Some(command) = command {
        customer
            .post(format!("{url}/orders/{id}/{command}"))
            .send()
            .await?
            .error_for_status()?;
    }
    Ok(id)
}

/// The history of an order once its workflow has closed.
async fn closed(stack: &Stack, id: &str) -> anyhow::Result<Vec<serde_json::Value>> {
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let events = stack.history_events(&format!("order-{id}")).await?;
        let done = events
            .iter()
            .any(|e| e["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED");
        if done {
            return Ok(events);
        }
        anyhow::ensure!(Instant::now() < deadline, "order {id} did not end within 30 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn completed_orders(http: &reqwest::Client, url: &str) -> anyhow::Result<Vec<String>> {
    let page: serde_json::Value = http
        .get(format!("{url}/kitchen/tickets?status=Completed&limit=200"))
        .send()
        .await?
        .json()
        .await?;
    Ok(page
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["orderId"].as_str().map(str::to_owned))
        .collect())
}

async fn time_each<F, Fut>(n: usize, mut call: F) -> anyhow::Result<Percentiles>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        call(i).await?;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(Percentiles::of(&mut samples))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:").map(|v| v.trim().to_owned()))
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!(
        "{cores} cores, {cpu}, {mem} memory, {} build",
        if cfg!(debug_assertions) {
            "dev-profile (dependencies optimised, as make run)"
        } else {
            "release"
        }
    )
}
