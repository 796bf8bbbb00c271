//! Real headless Chromium, driven over WebDriver (Debian's `chromium` and `chromium-driver`, which
//! `make setup` installs): the web page as a person uses it. Each [`Page`] is its own browser (its
//! own profile, so its own cookies): a customer and a barista side by side.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::PATIENCE;

/// A `chromedriver` of this test's own, on a free loopback port, in a process group of its own
/// with every Chromium it starts: dropping it (a test that passed or panicked) kills the group, so
/// no browser outlives its test.
pub struct Browser {
    driver: tokio::process::Child,
    url: String,
}

/// Where the driver is: `CHROMEDRIVER`, or on the `PATH`.
fn chromedriver() -> PathBuf {
    std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("chromedriver"))
}

impl Browser {
    pub async fn start() -> Self {
        Self::try_start()
            .await
            .expect("chromedriver starts (`make setup` installs chromium and chromium-driver)")
    }

    async fn try_start() -> anyhow::Result<Self> {
        let port = stack::process::free_port()?;
        let driver = tokio::process::Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .context("running chromedriver")?;
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !stack::process::port_answers(port) {
            anyhow::ensure!(Instant::now() < deadline, "chromedriver did not start listening");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Self { driver, url })
    }

    /// A new browser window (a new profile) showing `url`, `width` × 900 pixels.
    pub async fn open(&self, url: &str, width: u32) -> Page {
        let mut options = json!({
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-gpu",
                "--no-first-run",
                "--disable-crash-reporter",
                "--disable-breakpad",
                format!("--window-size={width},900"),
            ]
        });
        if width < 500 {
            // A phone: desktop Chromium keeps windows at least 500 pixels wide.
            options["mobileEmulation"] = json!({"deviceMetrics": {"width": width, "height": 844, "pixelRatio": 2}});
        }
        if std::path::Path::new("/usr/bin/chromium").exists() {
            options["binary"] = json!("/usr/bin/chromium");
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        // Keep the console, so that a test can see what the browser refused (`csp_violations`).
        capabilities.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a Chromium session starts");
        client.goto(url).await.expect("the page loads");
        Page { client }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(pid) = self.driver.id() {
            let group = nix::unistd::Pid::from_raw(pid as i32);
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        }
        let _ = self.driver.start_kill();
    }
}

/// One browser window.
pub struct Page {
    pub client: Client,
}

impl Page {
    /// Waits until `css` matches a displayed element; returns it.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(found) = self.client.find(Locator::Css(css)).await
                && found.is_displayed().await.unwrap_or(false)
            {
                return found;
            }
            assert!(Instant::now() < deadline, "{css} never showed on the page");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Types `text` into the field `css` (after clearing it).
    pub async fn fill(&self, css: &str, text: &str) {
        self.on(css, "type into", |found| async move {
            found.clear().await?;
            found.send_keys(text).await
        })
        .await;
    }

    pub async fn click(&self, css: &str) {
        self.on(css, "click", |found| async move { found.click().await }).await;
    }

    /// Does `act` on the element `css`, finding it again if the page replaced it in between (as
    /// a live update may).
    async fn on<F, Fut>(&self, css: &str, what: &str, act: F)
    where
        F: Fn(fantoccini::elements::Element) -> Fut,
        Fut: std::future::Future<Output = Result<(), fantoccini::error::CmdError>>,
    {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let found = self.find(css).await;
            match act(found).await {
                Ok(()) => return,
                Err(e) if e.is_stale_element_reference() && Instant::now() < deadline => continue,
                Err(e) => panic!("could not {what} {css}: {e}"),
            }
        }
    }

    /// The visible text of `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("its text")
    }

    /// Waits until the text of `css` contains `wanted`; returns the whole text.
    pub async fn wait_text(&self, css: &str, wanted: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let now = match self.client.find(Locator::Css(css)).await {
                Ok(found) => found.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if now.contains(wanted) {
                return now;
            }
            assert!(
                Instant::now() < deadline,
                "{css} never said {wanted:?}; it says {now:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until nothing matches `css` (or nothing that is displayed).
    pub async fn wait_gone(&self, css: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let shown = match self.client.find(Locator::Css(css)).await {
                Ok(found) => found.is_displayed().await.unwrap_or(false),
                Err(_) => false,
            };
            if !shown {
                return;
            }
            assert!(Instant::now() < deadline, "{css} never went away");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs `script` in the page; returns what it returns.
    pub async fn run(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.expect("the script runs")
    }

    /// Saves a screenshot as `target/screenshots/<name>.png` (a test artifact; the README shows
    /// the ones copied into `docs/screenshots/`).
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
        std::fs::create_dir_all(&dir).expect("the screenshots folder");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("the screenshot is saved");
    }

    /// Signs in through the page's own form.
    pub async fn sign_in(&self, name: &str, password: &str) {
        self.fill("#signin-form [name=name]", name).await;
        self.fill("#signin-form [name=password]", password).await;
        self.click("#signin-form button").await;
        self.wait_text("#who-name", name).await;
    }

    /// Creates a customer account through the page's sign-up form (which signs in too).
    pub async fn sign_up(&self, name: &str, password: &str) {
        self.fill("#signup-form [name=name]", name).await;
        self.fill("#signup-form [name=password]", password).await;
        self.click("#signup-form button").await;
        self.wait_text("#who-name", name).await;
    }

    /// What the browser refused to do because of the page's Content-Security-Policy since the
    /// last look (an inline style, an inline script, a foreign source), as the console said it.
    pub async fn csp_violations(&self) -> Vec<String> {
        let log = self.client.issue_cmd(ReadConsole).await.expect("chromedriver gives the console");
        log.as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| entry["message"].as_str())
            .filter(|message| message.contains("Content Security Policy"))
            .map(str::to_owned)
            .collect()
    }

    /// Closes the window, after checking that the page broke none of its own rules: a style or
    /// script the Content-Security-Policy refused is a page that does not look or work as written.
    pub async fn close(self) {
        let refused = self.csp_violations().await;
        let _ = self.client.close().await;
        assert!(refused.is_empty(), "the page broke its Content-Security-Policy: {refused:#?}");
    }
}

/// Reads (and empties) the browser's console log: chromedriver's `POST /session/{id}/se/log`.
#[derive(Debug)]
struct ReadConsole;

impl fantoccini::wd::WebDriverCompatibleCommand for ReadConsole {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (reqwest::Method, Option<String>) {
        (reqwest::Method::POST, Some(json!({"type": "browser"}).to_string()))
    }
}
