//! `make run`'s launcher (`coffeeshop`): starts everything, prints where it is, keeps the data
//! across runs, stops everything on SIGTERM, and explains a taken port.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use e2e::eventually;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use reqwest::StatusCode;
use serde_json::{Value, json};
use stack::{Stack, free_port};
use tokio::io::{AsyncBufReadExt, BufReader};

struct Launch {
    child: tokio::process::Child,
    output: Vec<String>,
}

/// Starts `coffeeshop` with `env` and reads its output until it says it is running (or exits).
async fn launch(env: &[(&str, String)]) -> Launch {
    let mut child = tokio::process::Command::new(Stack::bin_dir().join("coffeeshop"))
        .envs(env.iter().map(|(k, v)| (*k, v.clone())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("coffeeshop starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut output = Vec::new();
    let ready = tokio::time::timeout(Duration::from_secs(120), async {
        while let Ok(Some(line)) = lines.next_line().await {
            output.push(line.clone());
            if line.starts_with("Press Ctrl-C") {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    if !ready {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            use tokio::io::AsyncReadExt;
            let _ = tokio::time::timeout(Duration::from_secs(5), e.read_to_string(&mut err)).await;
        }
        output.push(err);
    }
    Launch { child, output }
}

fn stack_env(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("COFFEESHOP_STACK_DIR", dir.display().to_string()),
        ("COFFEESHOP_API_PORT", free_port().unwrap().to_string()),
        ("COFFEESHOP_PG_PORT", free_port().unwrap().to_string()),
        ("TEMPORAL_ADDRESS", format!("127.0.0.1:{}", free_port().unwrap())),
        ("TEMPORAL_UI_PORT", free_port().unwrap().to_string()),
        ("COFFEESHOP_HEALTH_PORT_BASE", free_port().unwrap().to_string()),
        ("KITCHEN_AUTO_BARISTAS", "1".to_owned()),
        ("KITCHEN_BREW_MS", "10".to_owned()),
    ]
}

/// A fresh stack directory that borrows the installed venv.
fn stack_dir() -> tempdir::Dir {
    let dir = tempdir::Dir::new("coffeeshop-run");
    std::os::unix::fs::symlink(stack::tools::stack_dir().join("venv"), dir.path().join("venv")).unwrap();
    dir
}

mod tempdir {
    pub(crate) struct Dir(std::path::PathBuf);
    impl Dir {
        pub(crate) fn new(prefix: &str) -> Self {
            let p = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::now_v7().simple()));
            std::fs::create_dir_all(&p).unwrap();
            Self(p)
        }
        pub(crate) fn path(&self) -> &std::path::Path {
            &self.0
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// GET `url` and parse the body as JSON (panics on failure: the API must answer).
async fn get_json<T: serde::de::DeserializeOwned>(http: &reqwest::Client, url: &str) -> T {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

async fn stop(mut launch: Launch) -> std::process::ExitStatus {
    kill(Pid::from_raw(launch.child.id().unwrap() as i32), Signal::SIGTERM).unwrap();
    tokio::time::timeout(Duration::from_secs(90), launch.child.wait())
        .await
        .expect("it stops in time")
        .unwrap()
}

fn port_of(env: &[(&str, String)], name: &str) -> String {
    env.iter().find(|(k, _)| *k == name).unwrap().1.clone()
}

#[tokio::test]
async fn make_run_starts_everything_keeps_orders_across_runs_and_stops_cleanly() {
    let _turn = e2e::Turn::shared().await;
    let dir = stack_dir();
    let env = stack_env(dir.path());
    let api = format!("http://127.0.0.1:{}", port_of(&env, "COFFEESHOP_API_PORT"));

    let first = launch(&env).await;
    let printed = first.output.join("\n");
    assert!(printed.contains("CoffeeShop is running."), "{printed}");
    // The owner's password is generated, kept in the stack dir, and printed.
    let password = std::fs::read_to_string(dir.path().join("admin-password")).unwrap();
    assert!(
        printed.contains(&format!("owner         admin / {password}")),
        "{printed}"
    );
    stack::sign_in(&reqwest::Client::new(), &api, "admin", &password)
        .await
        .expect("the printed password signs in as admin");
    let http = e2e::customer_client(&api, "c-run").await;
    assert!(
        printed.contains(&format!(
            "Temporal UI   http://localhost:{}",
            port_of(&env, "TEMPORAL_UI_PORT")
        )),
        "{printed}"
    );
    let page_url = format!("http://localhost:{}/", port_of(&env, "COFFEESHOP_API_PORT"));
    assert!(printed.contains(&format!("web page      {page_url}")), "{printed}");
    let page = reqwest::get(&page_url).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "the printed page is served");
    assert!(page.text().await.unwrap().contains("<title>CoffeeShop</title>"));
    let stocks: Vec<Value> = get_json(&http, &format!("{api}/stocks")).await;
    assert_eq!(stocks.len(), 5, "a fresh shop opens with its menu: {stocks:?}");
    let gangnam: Vec<Value> = get_json(&http, &format!("{api}/stocks?shopId=gangnam")).await;
    let prices: Vec<(&str, &str)> =
        gangnam.iter().map(|s| (s["productName"].as_str().unwrap(), s["price"].as_str().unwrap())).collect();
    assert_eq!(
        prices,
        [("Americano", "3.20"), ("Latte", "3.80"), ("Matcha Latte", "4.50")],
        "and a second shop with its own menu and prices"
    );
    assert!(printed.contains("opened a second shop, gangnam (Gangnam)"), "{printed}");
    let placed: Value = http
        .post(format!("{api}/orders"))
        .json(&json!({"productName": "Latte", "qty": 1, "customerId": "c-run"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = placed["orderId"].as_str().unwrap().to_owned();
    eventually("the automatic barista completes the order", || async {
        let o: Value = http
            .get(format!("{api}/orders/{id}"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (o["status"] == "Completed").then_some(())
    })
    .await;
    let status = stop(first).await;
    assert!(status.success(), "coffeeshop exits cleanly on SIGTERM: {status}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port_of(&env, "COFFEESHOP_PG_PORT").parse::<u16>().unwrap()))
            .is_err(),
        "PostgreSQL is stopped"
    );
    assert!(
        reqwest::get(format!("{api}/healthz")).await.is_err(),
        "the API is stopped"
    );

    let second = launch(&env).await;
    let order: Value = get_json(&http, &format!("{api}/orders/{id}")).await;
    assert_eq!(
        order["status"], "Completed",
        "the second run keeps the first run's orders (and the customer's sign-in)"
    );
    let stocks: Vec<Value> = get_json(&http, &format!("{api}/stocks")).await;
    assert!(
        stocks.iter().any(|s| s["productName"] == "Latte" && s["qty"] == 99),
        "and its stock: {stocks:?}"
    );
    assert!(stop(second).await.success());
}

#[tokio::test]
async fn a_taken_port_is_named_with_the_variable_to_change() {
    let _turn = e2e::Turn::shared().await;
    let dir = stack_dir();
    let mut env = stack_env(dir.path());
    let taken = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    env.retain(|(k, _)| *k != "COFFEESHOP_API_PORT");
    env.push(("COFFEESHOP_API_PORT", port.to_string()));

    let mut launch = launch(&env).await;
    let status = tokio::time::timeout(Duration::from_secs(30), launch.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(!status.success());
    let said = launch.output.join("\n");
    assert!(
        said.contains(&format!("port {port} is taken")) && said.contains("set COFFEESHOP_API_PORT"),
        "{said}"
    );
}

#[tokio::test]
async fn a_second_make_run_on_the_same_directory_names_the_shop_already_running() {
    let _turn = e2e::Turn::shared().await;
    let dir = stack_dir();
    let env = stack_env(dir.path());
    let first = launch(&env).await;
    let pid = first.child.id().expect("the first launcher runs");

    let mut second = launch(&env).await;
    let status = tokio::time::timeout(Duration::from_secs(30), second.child.wait())
        .await
        .expect("the second launcher gives up at once")
        .unwrap();
    assert!(!status.success());
    let said = second.output.join("\n");
    assert!(said.contains(&format!("a shop is already running here (pid {pid}")), "{said}");
    assert!(!said.contains("using the Temporal server already"), "it joined nothing: {said}");

    // The first one still serves.
    let api = format!("http://127.0.0.1:{}", port_of(&env, "COFFEESHOP_API_PORT"));
    assert_eq!(reqwest::get(format!("{api}/healthz")).await.unwrap().status(), StatusCode::OK);
    assert!(stop(first).await.success());
}

/// The PIDs `coffeeshop` printed (`processes     temporal=1 postgres=2 ...`).
fn printed_pids(output: &[String]) -> Vec<(String, i32)> {
    let line = output
        .iter()
        .find(|l| l.trim_start().starts_with("processes"))
        .expect("the launcher prints its processes");
    line.split_whitespace()
        .skip(1)
        .filter_map(|pair| {
            let (name, pid) = pair.split_once('=')?;
            Some((name.to_owned(), pid.parse().ok()?))
        })
        .collect()
}

/// Places an order (retrying while the API or Temporal is coming back) and waits until the
/// automatic barista has completed it.
async fn an_order_completes(http: &reqwest::Client, api: &str, after: &str) {
    let id = eventually(&format!("an order is accepted after {after} was killed"), || async {
        let r = http
            .post(format!("{api}/orders"))
            .json(&json!({"productName": "Mocha", "qty": 1, "customerId": "c-heal"}))
            .send()
            .await
            .ok()?;
        if r.status() != reqwest::StatusCode::ACCEPTED {
            return None;
        }
        r.json::<Value>().await.ok()?["orderId"].as_str().map(str::to_owned)
    })
    .await;
    eventually(
        &format!("the order placed after {after} was killed completes"),
        || async {
            let o: Value = http
                .get(format!("{api}/orders/{id}"))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            (o["status"] == "Completed").then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn make_run_restarts_any_process_that_dies_and_the_shop_keeps_serving() {
    let _turn = e2e::Turn::shared().await;
    let dir = stack_dir();
    let env = stack_env(dir.path());
    let api = format!("http://127.0.0.1:{}", port_of(&env, "COFFEESHOP_API_PORT"));
    let launch = launch(&env).await;
    let http = e2e::customer_client(&api, "c-heal").await;
    let pids = printed_pids(&launch.output);
    let supervisor_log = dir.path().join("logs").join("supervisor.log");

    for name in [
        "cafe",
        "warehouse",
        "kitchen",
        "customercenter",
        "api",
        "postgres",
        "temporal",
    ] {
        let (_, pid) = pids
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no {name} in {pids:?}"));
        println!("killing {name} (pid {pid})");
        kill(Pid::from_raw(*pid), Signal::SIGKILL).unwrap();
        eventually(&format!("{name} is restarted"), || async {
            let log = std::fs::read_to_string(&supervisor_log).ok()?;
            log.contains(&format!("{name} restarted")).then_some(())
        })
        .await;
        let log = std::fs::read_to_string(&supervisor_log).unwrap();
        assert!(
            log.contains(&format!("{name} exited (signal: 9")),
            "the exit status is logged: {log}"
        );
        an_order_completes(&http, &api, name).await;
    }
    assert!(stop(launch).await.success(), "and Ctrl-C still stops everything");
}
