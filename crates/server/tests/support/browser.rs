//! The browser the console's tests drive: a headless Chromium through a chromedriver of its own
//! (fantoccini over WebDriver), and the steps the tests take in it.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// Every console user of the tests logs in with this password.
pub fn password(username: &str) -> String {
    format!("{username}-correct-horse-battery")
}

/// Where screenshots go: the documentation's `docs/console/` when
/// `FENGCUN_UPDATE_SCREENSHOTS=1`, else `console-screenshots/` in the target directory.
pub fn screenshot_dir() -> std::path::PathBuf {
    if std::env::var("FENGCUN_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/console")
    } else {
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots")
    }
}

pub struct Browser {
    pub client: Client,
    driver: tokio::process::Child,
    pub base: String,
}

pub fn executable(variable: &str, default: &str) -> Option<String> {
    let path = std::env::var(variable).unwrap_or_else(|_| default.to_owned());
    std::path::Path::new(&path).exists().then_some(path)
}

impl Browser {
    /// Chromium, headless, through a chromedriver of its own on a free port; `None` (the test
    /// prints why) where either is missing.
    pub async fn start(base: &str) -> Option<Browser> {
        let (Some(chromium), Some(chromedriver)) = (
            executable("FENGCUN_CHROMIUM", "/usr/bin/chromium"),
            executable("FENGCUN_CHROMEDRIVER", "/usr/bin/chromedriver"),
        ) else {
            println!(
                "SKIPPED: the console's browser tests need chromium and chromedriver (apt-get install chromium chromium-driver fonts-noto-cjk)"
            );
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut driver = tokio::process::Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        // Ready once it says so on its standard output.
        let stdout = driver.stdout.take().unwrap();
        let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("started successfully") {
                break;
            }
        }
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({"binary": chromium, "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=zh-CN"]}),
        );
        let client = ClientBuilder::new(hyper_connector())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("connect to chromedriver");
        Some(Browser {
            client,
            driver,
            base: base.to_owned(),
        })
    }

    pub async fn go(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    pub async fn text(&self, css: &str) -> String {
        self.client
            .wait()
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    /// The text of `css` once it holds `needle` (a page submitted is still the old one for a
    /// moment): asked again until then, for ten seconds at most.
    pub async fn text_with(&self, css: &str, needle: &str) -> String {
        let asking = async {
            loop {
                if let Ok(element) = self.client.find(Locator::Css(css)).await {
                    if let Ok(text) = element.text().await {
                        if text.contains(needle) {
                            return text;
                        }
                    }
                }
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(10), asking)
            .await
            .unwrap_or_else(|_| panic!("{css} never showed {needle}"))
    }

    /// Waits until the page's address contains `part`: a form that navigates has answered, and
    /// what is read next is the new page, not the one the form was on.
    pub async fn wait_for_url(&self, part: &str) {
        let asking = async {
            loop {
                if let Ok(url) = self.client.current_url().await {
                    if url.as_str().contains(part) {
                        return;
                    }
                }
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(10), asking)
            .await
            .unwrap_or_else(|_| panic!("the address never held {part}"))
    }

    /// Waits until no element matches `css`: the page that showed it has been left.
    pub async fn wait_gone(&self, css: &str) {
        let asking = async { while self.client.find(Locator::Css(css)).await.is_ok() {} };
        tokio::time::timeout(std::time::Duration::from_secs(10), asking)
            .await
            .unwrap_or_else(|_| panic!("{css} is still shown"))
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    pub async fn select(&self, css: &str, value: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .select_by_value(value)
            .await
            .unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    pub async fn login(&self, username: &str) {
        self.go("/console/login").await;
        self.fill("#username", username).await;
        self.fill("#password", &password(username)).await;
        self.click("#login").await;
        self.text("#tasks").await;
    }

    /// Logs a person in: their first page is their own records, not the officials' dashboard.
    pub async fn login_person(&self, username: &str) {
        self.go("/console/login").await;
        self.fill("#username", username).await;
        self.fill("#password", &password(username)).await;
        self.click("#login").await;
        self.wait_for_url("/console/me").await;
    }

    pub async fn logout(&self) {
        self.click("#logout").await;
        self.text("#login-form").await;
    }

    /// A PNG of the window: into `docs/console/` when `FENGCUN_UPDATE_SCREENSHOTS=1` (to
    /// refresh the documentation's pictures), else into the target directory, so that a test
    /// run leaves the work tree as it was.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Scrolls the element `css` to the top of the window (for a screenshot of it).
    #[allow(dead_code)]
    pub async fn scroll_to(&self, css: &str) {
        self.client
            .execute(
                "document.querySelector(arguments[0]).scrollIntoView()",
                vec![serde_json::Value::String(css.to_owned())],
            )
            .await
            .unwrap();
    }

    pub async fn close(self) {
        self.client.close().await.unwrap();
        drop(self.driver);
    }
}

pub fn hyper_connector() -> hyper_util::client::legacy::connect::HttpConnector {
    hyper_util::client::legacy::connect::HttpConnector::new()
}
