//! Sign-in storms: anyone can send sign-in attempts without an account, each worth an argon2id
//! hash (19 MiB, tens of milliseconds). The API hashes on a small fixed pool behind a bounded
//! queue and answers the rest `503` at once, so its memory stays bounded and signed-in customers
//! are still served; and it limits attempts per client address (`429`).

use std::time::{Duration, Instant};

use e2e::{TestApp, eventually};
use reqwest::StatusCode;
use serde_json::json;

/// The API process's resident memory, in MiB.
fn resident_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The `p`th percentile of `samples` (sorted here).
fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

#[tokio::test]
async fn a_thousand_sign_ins_for_unknown_names_at_once_leave_memory_bounded_and_customers_served() {
    // All from one address: the test stack's per-address limit is high (`StackConfig::ephemeral`);
    // this is about the hashing pool.
    let app = &mut TestApp::spawn().await;
    let product = app.stocked_product(10).await;
    let id = app.place_order(&product, 1, "c-storm").await;
    let customer = app.customer("c-storm").await;
    let order_url = format!("{}/orders/{id}", app.api);
    let pid = app.stack.process("api").pid().expect("the API runs");
    let idle = resident_mib(pid);

    // The storm: 1,000 attempts at once, each for a name nobody has.
    let signin = format!("{}/auth/signin", app.api);
    let storm = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let attempts = futures::future::join_all((0..1000).map(|i| {
        let (storm, signin) = (storm.clone(), signin.clone());
        async move {
            let answer = storm
                .post(signin)
                .json(&json!({"name": format!("nobody-{i}"), "password": "not-a-password"}))
                .send()
                .await
                .expect("every attempt is answered");
            (answer.status(), answer.headers().contains_key("retry-after"))
        }
    }));
    // Meanwhile: the API's memory, and a signed-in customer reading their order.
    let watch = async {
        let (mut peak, mut reads) = (idle, Vec::new());
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(3) {
            peak = peak.max(resident_mib(pid));
            let before = Instant::now();
            let read = customer.get(&order_url).send().await.expect("the read is answered");
            assert_eq!(read.status(), StatusCode::OK);
            reads.push(before.elapsed());
        }
        (peak, reads)
    };
    let (answers, (peak, mut reads)) = tokio::join!(attempts, watch);

    let count = |status: StatusCode| answers.iter().filter(|(s, _)| *s == status).count();
    let (refused, busy) = (count(StatusCode::UNAUTHORIZED), count(StatusCode::SERVICE_UNAVAILABLE));
    let p99 = percentile(&mut reads, 0.99);
    println!(
        "1,000 sign-ins at once: {refused} answered 401, {busy} 503; the API's memory {idle:.0} MiB idle, \
         {peak:.0} MiB at its peak; {} reads by a signed-in customer meanwhile, p99 {p99:?}",
        reads.len()
    );
    assert_eq!(refused + busy, 1000, "only 401 or 503: {answers:?}");
    assert!(refused > 0 && busy > 0, "some were checked, the rest refused at once");
    assert!(
        answers
            .iter()
            .all(|(s, retry)| *s != StatusCode::SERVICE_UNAVAILABLE || *retry),
        "every 503 says when to retry"
    );
    assert!(peak < 150.0, "the API's memory peaked at {peak:.0} MiB");
    assert!(p99 < Duration::from_millis(50), "reads p99 {p99:?} during the storm");
    let settled = eventually("the API's memory settles near its idle size", || async {
        let now = resident_mib(pid);
        (now < idle + 40.0).then_some(now)
    })
    .await;
    println!("settled at {settled:.0} MiB");
}

#[tokio::test]
async fn attempts_from_one_address_beyond_its_limit_are_429_while_another_address_signs_in() {
    let app = TestApp::spawn_with(|c| {
        c.extra_env.push(("COFFEESHOP_ANONYMOUS_PER_MINUTE".into(), "3".into()));
        // As behind a proxy that puts the client's address there.
        c.extra_env
            .push(("COFFEESHOP_CLIENT_ADDRESS_HEADER".into(), "X-Forwarded-For".into()));
    })
    .await;
    let http = reqwest::Client::new();
    let attempt = |from: &'static str, name: &'static str| {
        let (http, url) = (http.clone(), format!("{}/auth/signup", app.api));
        async move {
            http.post(url)
                .header("X-Forwarded-For", format!("203.0.113.9, {from}"))
                .json(&json!({"name": name, "password": "a-good-password"}))
                .send()
                .await
                .unwrap()
        }
    };
    for name in ["storm-a1", "storm-a2", "storm-a3"] {
        assert_eq!(attempt("198.51.100.1", name).await.status(), StatusCode::CREATED);
    }
    let refused = attempt("198.51.100.1", "storm-a4").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("from your address"),
        "{problem}"
    );
    // Another client (the proxy's last entry is what counts) is not held back by the first.
    assert_eq!(attempt("198.51.100.2", "storm-b1").await.status(), StatusCode::CREATED);
    let signin = http
        .post(format!("{}/auth/signin", app.api))
        .header("X-Forwarded-For", "198.51.100.1")
        .json(&json!({"name": "storm-a1", "password": "a-good-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signin.status(), StatusCode::TOO_MANY_REQUESTS, "sign-in counts too");
}
