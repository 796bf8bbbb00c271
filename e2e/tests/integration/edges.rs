//! The edges a stranger can touch: the workers' internal route refuses anyone without the
//! internal key, and the API bounds every phase of a request from a slow, stalled, oversized or
//! crowding client (raw sockets, so nothing in between is polite on the client's behalf).

use std::time::{Duration, Instant};

use domain::OrderStatus;
use e2e::TestApp;
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn the_ingest_route_refuses_callers_without_the_key_and_nothing_changes() {
    let app = TestApp::spawn_with(|c| {
        c.baristas = 1;
        c.brew_ms = 10;
        // For log shippers (checked at the end).
        c.extra_env.push(("COFFEESHOP_LOG_FORMAT".to_owned(), "json".to_owned()));
    })
    .await;
    let product = app.stocked_product(5).await;
    let id = app.place_order(&product, 1, "c-edge").await;
    let completed = app.wait_for_status(&id, OrderStatus::Completed).await;

    // A forged projection that would win over everything the workflow sent: the order canceled.
    let mut order = app.query(&id).await.unwrap();
    order.status = OrderStatus::Canceled;
    order.reason = Some("forged".to_owned());
    let forged = domain::OrderProjection {
        order,
        stock: None,
        at_event: u64::MAX / 2,
    };
    let customercenter = app.stack.config.health_ports[2];
    let ingest = format!("http://127.0.0.1:{customercenter}{}", activities::customercenter::INGEST_ROUTE);
    let http = reqwest::Client::new();
    let wrong_key = "w".repeat(64);
    for authorization in [None, Some(format!("Bearer {wrong_key}")), Some(wrong_key.clone())] {
        let mut request = http.post(&ingest).json(&forged);
        if let Some(value) = &authorization {
            request = request.header("Authorization", value);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "authorization {authorization:?}");
    }
    let now = app.order_view(&id).await;
    assert_eq!(now.status, OrderStatus::Completed, "the view is unchanged");
    assert_eq!(now.updated_at, completed.updated_at);

    // The other workers' ports carry their probes and nothing else.
    for (i, worker) in stack::WORKERS.iter().enumerate() {
        let port = app.stack.config.health_ports[i];
        let ready = http.get(format!("http://127.0.0.1:{port}/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), StatusCode::OK, "{worker}'s readiness probe is open");
        for route in ["/ingest/reservation", "/ingest/ticket", "/ingest/move"] {
            let r = http.post(format!("http://127.0.0.1:{port}{route}")).json(&json!({})).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{worker} has no {route}");
        }
    }
    // They listen on this machine's loopback only (the default `COFFEESHOP_BIND`).
    for port in app.stack.config.health_ports.iter().chain([&app.stack.config.api_port]) {
        assert_eq!(listening_address(*port).as_deref(), Some("127.0.0.1"), "port {port}");
    }

    // With COFFEESHOP_LOG_FORMAT=json every line is a JSON object, and the cafe and the
    // customercenter name the order in the steps they took part in.
    for service in ["api", "cafe", "customercenter", "warehouse", "kitchen"] {
        let log = std::fs::read_to_string(app.stack.config.logs().join(format!("{service}.log"))).unwrap();
        let lines: Vec<serde_json::Value> = log
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{service}: not JSON ({e}): {l}")))
            .collect();
        assert!(!lines.is_empty(), "{service} logged");
        if matches!(service, "cafe" | "customercenter") {
            assert!(
                lines.iter().any(|l| l["fields"]["order_id"] == id.to_string().as_str()),
                "{service} names order {id}"
            );
        }
    }
}

/// The API's read timeout and whole-request timeout in this test's stack.
const READ: Duration = Duration::from_secs(2);
const REQUEST: Duration = Duration::from_secs(4);
/// How much later than its bound an answer or a close may come on a busy machine.
const SLACK: Duration = Duration::from_secs(3);

#[tokio::test]
async fn slow_stalled_oversized_and_crowding_clients_are_bounded() {
    let app = TestApp::spawn_with(|c| {
        c.extra_env.push(("COFFEESHOP_READ_TIMEOUT".to_owned(), "2s".to_owned()));
        c.extra_env.push(("COFFEESHOP_REQUEST_TIMEOUT".to_owned(), "4s".to_owned()));
    })
    .await;
    let api = app.api.trim_start_matches("http://").to_owned();
    let token = app.manager_token.clone();

    // Headers that stop halfway: the connection is closed.
    let (answer, took) = send_and_read(&api, b"GET /stocks HTTP/1.1\r\nHost: shop\r\nX-Half: ").await;
    assert!(took < READ + SLACK, "closed after {took:?}: {answer:?}");

    // Bodies that stop after 11 of 1,000 announced bytes: 408.
    for (path, auth) in [("/auth/signin", String::new()), ("/orders", format!("Authorization: Bearer {token}\r\n"))] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: shop\r\n{auth}Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"name\":\"a"
        );
        let (answer, took) = send_and_read(&api, head.as_bytes()).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer}");
        assert!(took < READ + SLACK, "{path}: answered after {took:?}");
    }

    // A body that trickles in, a byte a second (never a read timeout): 408 at the request's bound.
    let mut trickle = connect(&api).await;
    let started = Instant::now();
    trickle
        .write_all(b"POST /auth/signin HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    while started.elapsed() < REQUEST + SLACK {
        if trickle.write_all(b" ").await.is_err() {
            break;
        }
        let mut buf = [0u8; 1024];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(1), trickle.read(&mut buf)).await {
            answer = String::from_utf8_lossy(&buf[..n]).into_owned();
            break;
        }
    }
    assert!(answer.starts_with("HTTP/1.1 408"), "a trickled body: {answer:?} after {:?}", started.elapsed());

    // A 420 KiB header: 431.
    let huge = format!("GET /stocks HTTP/1.1\r\nHost: shop\r\nX-Huge: {}\r\n\r\n", "h".repeat(420 * 1024));
    let (answer, _) = send_and_read(&api, huge.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");

    // An idle keep-alive connection is closed after the read timeout.
    let (answer, took) = send_and_read(&api, b"GET /healthz HTTP/1.1\r\nHost: shop\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(took < READ + SLACK, "idle connection closed after {took:?}");

    // A thousand clients connecting at once are all answered; none is reset.
    // (This test process holds those thousand sockets: let it open as many files as it may.)
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
    let burst: Vec<_> = (0..1000)
        .map(|_| {
            let api = api.clone();
            tokio::spawn(async move {
                let mut s = TcpStream::connect(&api).await?;
                s.write_all(b"GET /healthz HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n").await?;
                let mut answer = Vec::new();
                s.read_to_end(&mut answer).await?;
                Ok::<_, std::io::Error>(String::from_utf8_lossy(&answer).into_owned())
            })
        })
        .collect();
    let mut answered = 0;
    for client in burst {
        let answer = tokio::time::timeout(Duration::from_secs(60), client)
            .await
            .expect("each client is answered within a minute")
            .unwrap()
            .expect("no connection is reset");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        answered += 1;
    }
    assert_eq!(answered, 1000);

    // Nothing was held: the API serves as before.
    assert_eq!(app.get("/stocks").await.status(), StatusCode::OK);

    // Its log is a file, not a terminal: plain text, no colour codes.
    let log = std::fs::read_to_string(app.stack.config.logs().join("api.log")).unwrap();
    assert!(log.contains("api listening"), "{log}");
    assert!(!log.contains('\u{1b}'), "no terminal escape codes in a log file");
}

async fn connect(api: &str) -> TcpStream {
    TcpStream::connect(api).await.expect("the API accepts a connection")
}

/// Sends `bytes` and reads until the server closes the connection (or a minute passes: a
/// failure); returns what it answered and when it closed.
async fn send_and_read(api: &str, bytes: &[u8]) -> (String, Duration) {
    let mut s = connect(api).await;
    let started = Instant::now();
    // A server may answer (431) and close before it has read everything.
    let _ = s.write_all(bytes).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server held the connection for a minute");
    (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
}

/// The IPv4 address a listener on `port` is bound to, from the kernel's table of sockets.
fn listening_address(port: u16) -> Option<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (local, state) = (fields[1], fields[3]);
        let (ip, p) = local.split_once(':')?;
        // State 0A: listening; the address is little-endian hex.
        (state == "0A" && u16::from_str_radix(p, 16).ok()? == port).then(|| {
            let ip = u32::from_str_radix(ip, 16).unwrap().to_le_bytes();
            std::net::Ipv4Addr::from(ip).to_string()
        })
    })
}
