//! Plaid Link in a real browser: the reference backend's page (`examples/backend/web/`) in
//! Debian's Chromium, driven over WebDriver (chromedriver, through fantoccini), with Link
//! served by the offline sandbox. Nothing loads from the internet: Chromium resolves every
//! host but 127.0.0.1 to nothing.
//!
//! Each test saves a screenshot of its last step under `target/tmp/screenshots/`. With
//! `UPDATE_SCREENSHOTS=1` the two the docs show are also written to `docs/images/`.
//!
//!     sudo apt-get install chromium chromium-driver     # .ci/run installs them
//!     cargo test -p plaid-examples --test browser -- --ignored
//!
//! `CHROMEDRIVER` and `CHROMIUM` name other binaries.

#[path = "../backend/app.rs"]
mod app;
// The page is served as the binary serves it: through its guard.
#[path = "../backend/guard.rs"]
mod guard;
#[path = "../backend/inbox.rs"]
mod inbox;
#[path = "../backend/jobs.rs"]
mod jobs;
// This test runs the backend on SQLite only (its PostgreSQL side is tested in backend.rs).
#[path = "../backend/store.rs"]
#[allow(dead_code)]
mod store;

mod support;

use fantoccini::{Client, ClientBuilder, Locator};
use plaid_sandbox::Sandbox;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LINK_PATH: &str = "/link/v2/stable/link-initialize.js";

/// The sandbox and the backend (its page included), in this process.
struct Stack {
    sandbox: Sandbox,
    url: String,
    server: tokio::task::JoinHandle<tokio::time::Instant>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn stack(link_script: Option<String>) -> Stack {
    let sandbox = Sandbox::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let db_path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("browser-{}.sqlite3", app::random_id()));
    let mut settings = app::Settings::new(format!("{url}/webhooks/plaid"), sandbox.uri());
    settings.link_script = link_script.unwrap_or_else(|| format!("{}{LINK_PATH}", sandbox.uri()));
    settings.offline = true;
    let application = app::App::start(
        sandbox.client(),
        store::Db::sqlite(&db_path).unwrap(),
        settings,
    )
    .await
    .unwrap();
    let local = listener.local_addr().unwrap();
    let deadline = Duration::from_secs(10);
    let router = guard::layer(
        app::router(application),
        guard::Guard::new(local, &url, deadline),
    );
    let server = tokio::spawn(guard::serve(
        listener,
        router,
        deadline,
        std::future::pending(),
    ));
    Stack {
        sandbox,
        url,
        server,
    }
}

/// Chromium under chromedriver, in a process group of their own (killed whatever happens),
/// with a fresh profile.
struct Browser {
    driver: Child,
    client: Option<Client>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Chromium's processes are the driver's children, in the group its shell leads.
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn binary(var: &str, candidates: &[&str]) -> String {
    if let Ok(path) = std::env::var(var) {
        return path;
    }
    candidates
        .iter()
        .find(|c| std::path::Path::new(c).exists())
        .unwrap_or_else(|| {
            panic!(
                "{} not found: install Debian's chromium and chromium-driver, or set {var}",
                candidates[0]
            )
        })
        .to_string()
}

/// `host_rules` adds to Chromium's host resolver rules, before the rule that resolves every
/// other host (but 127.0.0.1) to nothing.
async fn browser(host_rules: &str) -> Browser {
    use std::os::unix::process::CommandExt;
    let chromedriver = binary("CHROMEDRIVER", &["/usr/bin/chromedriver"]);
    let chromium = binary(
        "CHROMIUM",
        &["/usr/lib/chromium/chromium", "/usr/bin/chromium"],
    );
    let port = free_port();
    // chromedriver runs in a process group of its own with Chromium, for `Drop` to end them
    // all at once; so no signal meant for this test's group (a Ctrl-C, CI's kill) reaches
    // them. A shell leads the group instead and holds a pipe from this process: when this
    // process ends, however it ends (a SIGKILL runs no `Drop`), the pipe closes, `read`
    // returns, and the shell kills its group.
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(r#""$@" & read -r _; kill -s KILL 0"#)
        .arg("chromedriver")
        .arg(chromedriver)
        .arg(format!("--port={port}"));
    // CHROMEDRIVER_LOG=<file>: chromedriver's verbose log, to see what Chromium did.
    if let Some(log) = std::env::var_os("CHROMEDRIVER_LOG") {
        command
            .arg("--verbose")
            .arg(format!("--log-path={}", log.to_string_lossy()));
    }
    let driver = command
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("chromedriver starts");
    let mut browser = Browser {
        driver,
        client: None,
    };
    let profile = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("chromium-profile-{}", app::random_id()));
    let rules = format!("{host_rules}MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost");
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert("acceptInsecureCerts".into(), json!(!host_rules.is_empty()));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-default-apps",
                "--window-size=1000,800",
                format!("--user-data-dir={}", profile.display()),
                format!("--host-resolver-rules={rules}"),
            ],
        }),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => break client,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("no WebDriver session: {e}"),
        }
    };
    // A page that never finishes loading fails the test in seconds, not WebDriver's 300 s.
    client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(Duration::from_secs(20)),
            Some(Duration::from_secs(20)),
            Some(Duration::ZERO),
        ))
        .await
        .unwrap();
    browser.client = Some(client);
    browser
}

impl Browser {
    fn page(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    async fn css(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .page()
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            // What the page (or Link's frame) showed instead, so that a failure in CI says
            // where the flow stopped.
            Err(e) => {
                let shown = self
                    .page()
                    .execute(
                        "return (document.body ? document.body.innerText : '').slice(0, 600)",
                        vec![],
                    )
                    .await
                    .unwrap_or_default();
                panic!("{css} never appeared: {e}; the page showed: {shown}")
            }
        }
    }

    async fn click(&self, css: &str) {
        self.css(css).await.click().await.unwrap();
    }

    /// Types `text` into the field, as a user does: a click, then the keys, until the field
    /// holds it. Link's frame in the CDN test is of another site than the page, so Chromium
    /// runs it in a process of its own, and on a loaded machine chromedriver's keys for it
    /// sometimes never arrive (about 1 run in 15 with both cores busy: the frame focused, the
    /// field focused, its value empty; the same with this round's and the previous round's
    /// pages). After three tries the value is set as an input event would, and the test says
    /// so on its output: what the tests check is the flow, not chromedriver's keyboard.
    async fn fill(&self, css: &str, text: &str) {
        for _ in 0..3 {
            let field = self.css(css).await;
            let _ = field.click().await;
            field.clear().await.unwrap();
            field.send_keys(text).await.unwrap();
            if field.prop("value").await.ok().flatten().as_deref() == Some(text) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        println!("{css}: chromedriver's keys did not arrive; the value set by script");
        self.page()
            .execute(
                "var f = document.querySelector(arguments[0]); f.focus(); f.value = arguments[1]; \
                 f.dispatchEvent(new Event('input', { bubbles: true })); return f.value",
                vec![json!(css), json!(text)],
            )
            .await
            .unwrap();
    }

    /// Waits until the page's `#status` line says `text` (part of it), and returns it.
    async fn status(&self, text: &str) -> String {
        self.wait_text("#status", text).await
    }

    async fn wait_text(&self, css: &str, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let now = self.css(css).await.text().await.unwrap_or_default();
            if now.contains(text) {
                return now;
            }
            assert!(
                Instant::now() < deadline,
                "{css} says {now:?}, never {text:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until keyboard focus is on `want`: `<data-action, else id, else tag>@<item's li
    /// id, if in one>`: a page that rebuilds its list must put focus back where the user was.
    async fn wait_focus(&self, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let now = self
                .page()
                .execute(
                    "var a = document.activeElement; if (!a) { return ''; } \
                     var li = a.closest('li.item'); \
                     return (a.getAttribute('data-action') || a.id || a.tagName.toLowerCase()) \
                       + '@' + (li ? li.id : '');",
                    vec![],
                )
                .await
                .unwrap();
            if now == want {
                return;
            }
            assert!(Instant::now() < deadline, "focus is on {now}, never {want}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a screenshot as `target/tmp/screenshots/<name>.png`, and as
    /// `docs/images/<name>.png` with `UPDATE_SCREENSHOTS=1` when `for_docs`.
    async fn screenshot(&self, name: &str, for_docs: bool) {
        let png = self.page().screenshot().await.unwrap();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
        if for_docs && std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
            let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/images");
            std::fs::create_dir_all(&docs).unwrap();
            std::fs::write(docs.join(format!("{name}.png")), &png).unwrap();
        }
    }

    async fn sign_in(&self, stack: &Stack, user: &str) {
        self.sign_in_at(&stack.url, user).await;
    }

    /// Signs in on the page at `url` (the backend answers `127.0.0.1` and `localhost`).
    async fn sign_in_at(&self, url: &str, user: &str) {
        self.page().goto(&format!("{url}/")).await.unwrap();
        self.css("body[data-ready=true]").await;
        self.fill("#user", user).await;
        self.click("#signin-submit").await;
        self.css("#connect").await;
    }

    /// Reloads the page until `css` is on it (what the backend learns from a webhook shows
    /// on the next load).
    async fn reload_until(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            self.page().refresh().await.unwrap();
            self.css("body[data-items]").await;
            if !self
                .page()
                .find_all(Locator::Css(css))
                .await
                .unwrap()
                .is_empty()
            {
                return;
            }
            assert!(Instant::now() < deadline, "the page never showed {css}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The page's `body.style.overflow` (Link stops the page scrolling while it is open).
    async fn body_overflow(&self) -> String {
        let answer = self
            .page()
            .execute("return document.body.style.overflow;", vec![])
            .await
            .unwrap();
        answer.as_str().unwrap_or_default().to_owned()
    }

    /// The page's own top elements (not Link's frames, not scripts): how many are inert, of
    /// how many.
    async fn page_elements_inert(&self) -> (u64, u64) {
        let answer = self
            .page()
            .execute(
                "var els = Array.prototype.filter.call(document.body.children, function (e) { \
                   return !/^plaid-link-iframe-/.test(e.id) && e.tagName !== 'SCRIPT'; }); \
                 var inert = els.filter(function (e) { return e.hasAttribute('inert'); }); \
                 return [inert.length, els.length];",
                vec![],
            )
            .await
            .unwrap();
        (answer[0].as_u64().unwrap(), answer[1].as_u64().unwrap())
    }

    /// Opens Link from the page and steps into its frame.
    async fn open_link(&self, button: &str) {
        self.click(button).await;
        let frame = self.css("iframe[id^=plaid-link-iframe-]").await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !frame.is_displayed().await.unwrap_or(false) {
            assert!(Instant::now() < deadline, "Link never opened");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        frame.enter_frame().await.unwrap();
    }

    /// In Link: consent, then the bank by search.
    async fn choose_bank(&self, search: &str, institution: &str) {
        self.css("[data-view=CONSENT]").await;
        self.click("#consent-continue").await;
        self.css("[data-view=SELECT_INSTITUTION]").await;
        self.fill("#search", search).await;
        self.click(&format!("#institution-{institution}")).await;
        self.css("[data-view=CREDENTIAL]").await;
    }

    async fn log_in(&self, username: &str, password: &str) {
        self.fill("#username", username).await;
        self.fill("#password", password).await;
        self.click("#credentials-submit").await;
    }

    /// In Link after a good login: keep the accounts, finish, and leave the frame.
    async fn finish_link(&self) {
        self.css("[data-view=SELECT_ACCOUNT]").await;
        self.click("#accounts-continue").await;
        self.css("[data-view=CONNECTED]").await;
        self.click("#success-continue").await;
        self.page().enter_parent_frame().await.unwrap();
    }

    /// In Link: the close button, then "Yes, exit" on the confirmation Link asks for. A click
    /// that lands while Link is still drawing its page is lost (seen once in CI), so the close
    /// is repeated until the confirmation shows.
    async fn exit_link(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(close) = self.page().find(Locator::Css("#close")).await {
                let _ = close.click().await;
            }
            let confirm = self
                .page()
                .wait()
                .at_most(Duration::from_secs(2))
                .for_element(Locator::Css("[data-view=EXIT] #exit-confirm"))
                .await;
            if let Ok(confirm) = confirm {
                confirm.click().await.unwrap();
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Link never asked to confirm the exit"
            );
        }
    }

    /// In Link's credentials step: Escape (Link asks to confirm the exit), then Escape again
    /// (back to the form).
    async fn escape_and_back(&self) {
        let escape = String::from(char::from(fantoccini::key::Key::Escape));
        self.css("#password")
            .await
            .send_keys(&escape)
            .await
            .unwrap();
        self.css("[data-view=EXIT]").await;
        let focused = self.page().active_element().await.unwrap();
        focused.send_keys(&escape).await.unwrap();
        self.css("[data-view=CREDENTIAL]").await;
    }

    /// The credentials form holds `user_good` / `pass_good` (put there `how`).
    async fn assert_credentials_shown(&self, how: &str) {
        for (field, want) in [("#username", "user_good"), ("#password", "pass_good")] {
            let value = self.css(field).await.prop("value").await.unwrap();
            assert_eq!(value.as_deref(), Some(want), "{field} {how}, kept");
        }
    }

    /// The Items the page shows: `data-items` on the body.
    async fn items_shown(&self) -> usize {
        let body = self.css("body[data-items]").await;
        body.attr("data-items")
            .await
            .unwrap()
            .unwrap_or_default()
            .parse()
            .unwrap()
    }

    async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
    }
}

/// Links a bank for `user` through the page, as a new user does; the Item id.
async fn link_through_the_page(b: &Browser, stack: &Stack, user: &str, shots: bool) -> String {
    b.sign_in(stack, user).await;
    b.open_link("#connect").await;
    b.choose_bank("platypus", "ins_109508").await;
    if shots {
        b.screenshot("link-emulator", true).await;
    }
    b.log_in("user_good", "pass_good").await;
    b.finish_link().await;
    b.status("Synced:").await;
    let li = b.css("#items li.item").await;
    let id = li.attr("id").await.unwrap().unwrap();
    id.trim_start_matches("item-").to_owned()
}

async fn api(stack: &Stack, user: &str, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}{path}", stack.url))
        .header("x-user-id", user)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and chromedriver (Debian's chromium, chromium-driver); .ci/run installs them"]
async fn a_new_user_links_a_bank_and_sees_transactions() {
    let stack = stack(None).await;
    let b = browser("").await;
    let item = link_through_the_page(&b, &stack, "alice", true).await;

    // What the page shows is what the backend stored, which is the bank's ledger.
    let truth = stack.sandbox.transactions(&item).unwrap().len();
    let facts = b
        .wait_text(&format!("#item-{item} .facts"), "12 accounts")
        .await;
    assert!(facts.contains(&format!("{truth} transactions")), "{facts}");
    b.click(&format!("#item-{item} [data-action=transactions]"))
        .await;
    let caption = b
        .wait_text(&format!("#item-{item} caption"), "transactions")
        .await;
    assert!(caption.starts_with(&truth.to_string()), "{caption}");
    assert_eq!(
        b.page()
            .find_all(Locator::Css(&format!("#item-{item} tbody tr")))
            .await
            .unwrap()
            .len(),
        50.min(truth)
    );

    // A sync by hand: 202, the page follows the job; a second while it runs: 409, shown.
    stack.sandbox.inject(
        Some("/transactions/sync"),
        plaid_sandbox::Fault::Slow(Duration::from_millis(1500)),
        1,
    );
    b.click(&format!("#item-{item} [data-action=sync]")).await;
    b.status("Sync started").await;
    let again = reqwest::Client::new()
        .post(format!("{}/api/items/{item}/sync", stack.url))
        .header("x-user-id", "alice")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(again.as_u16(), 409);
    b.status("Synced:").await;
    // Review round 14: the list was rebuilt under the user's feet and focus fell to <body>.
    b.wait_focus(&format!("sync@item-{item}")).await;
    b.click(&format!("#item-{item} [data-action=transactions]"))
        .await;
    b.wait_text(&format!("#item-{item} caption"), "transactions")
        .await;
    b.screenshot("backend-page", true).await;

    // Review round 17: signing out while the page followed a sync left alice's banks on
    // screen for the next user, and her loop went on under his id ("not found", in red).
    stack.sandbox.inject(
        Some("/transactions/sync"),
        plaid_sandbox::Fault::Slow(Duration::from_millis(1500)),
        1,
    );
    b.click(&format!("#item-{item} [data-action=sync]")).await;
    b.status("Sync started").await;
    b.click("#signout").await;
    assert_eq!(
        b.items_shown().await,
        0,
        "alice's banks after she signed out"
    );
    b.fill("#user", "bob").await;
    b.click("#signin-submit").await;
    b.css("body[data-items='0']").await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let shown = b.css("#status").await.text().await.unwrap();
    assert!(
        !shown.contains("not found") && !shown.contains("Synced"),
        "bob sees alice's sync: {shown:?}"
    );
    assert_eq!(b.items_shown().await, 0, "bob has no bank");
    b.click("#signout").await;
    b.fill("#user", "alice").await;
    b.click("#signin-submit").await;
    b.css(&format!("#item-{item}")).await;

    // Disconnect asks once more, then the Item stays listed as disconnected, focus on its name.
    b.click(&format!("#item-{item} [data-action=disconnect]"))
        .await;
    b.wait_text(&format!("#item-{item} [data-action=disconnect]"), "Really")
        .await;
    b.click(&format!("#item-{item} [data-action=disconnect]"))
        .await;
    b.status("Disconnected").await;
    b.wait_text(&format!("#item-{item} .facts"), "disconnected")
        .await;
    b.wait_focus(&format!("item-{item}-name@item-{item}")).await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and chromedriver (Debian's chromium, chromium-driver); .ci/run installs them"]
async fn a_wrong_password_shows_plaids_error_and_creates_nothing() {
    let stack = stack(None).await;
    let b = browser("").await;
    b.sign_in(&stack, "bob").await;
    b.open_link("#connect").await;
    b.choose_bank("platypus", "ins_109508").await;
    b.log_in("user_good", "not-the-password").await;
    let shown = b.wait_text("#error-message", "INVALID_CREDENTIALS").await;
    // Plaid's words for the user, and the error's type with its code.
    assert!(
        shown.contains("The provided credentials were not correct") && shown.contains("ITEM_ERROR"),
        "{shown:?}"
    );
    b.screenshot("wrong-password", false).await;
    // The user gives up: Link's onExit carries Plaid's error, and the page shows it.
    b.exit_link().await;
    b.page().enter_parent_frame().await.unwrap();
    b.status("INVALID_CREDENTIALS").await;
    assert_eq!(b.items_shown().await, 0);
    assert!(
        stack.sandbox.connected_items().is_empty(),
        "an Item was created"
    );
    assert_eq!(api(&stack, "bob", "/api/items").await["items"], json!([]));
    b.screenshot("wrong-password-exit", false).await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and chromedriver (Debian's chromium, chromium-driver); .ci/run installs them"]
async fn item_login_required_then_update_mode_then_repaired() {
    let stack = stack(None).await;
    let b = browser("").await;
    let item = link_through_the_page(&b, &stack, "carol", false).await;

    // The bank wants the user to log in again: Plaid's ITEM ERROR webhook reaches the
    // backend; the page shows it and offers Reconnect.
    stack.sandbox.require_login(&item).unwrap();
    b.reload_until(&format!("#item-{item} [data-error=ITEM_LOGIN_REQUIRED]"))
        .await;
    b.screenshot("login-required", false).await;

    // Update mode: Link opens on the Item's bank; the user logs in; the Item is repaired.
    b.open_link(&format!("#item-{item} [data-action=reconnect]"))
        .await;
    b.css("[data-view=CONSENT]").await;
    b.click("#consent-continue").await;
    b.css("[data-view=CREDENTIAL]").await;
    b.log_in("user_good", "pass_good").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(next) = b.page().find(Locator::Css("#accounts-continue")).await {
            let _ = next.click().await;
        }
        if let Ok(done) = b.page().find(Locator::Css("#success-continue")).await {
            done.click().await.unwrap();
            break;
        }
        assert!(Instant::now() < deadline, "update mode never finished");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.page().enter_parent_frame().await.unwrap();
    b.status("Reconnected First Platypus Bank.").await;
    assert!(b
        .page()
        .find_all(Locator::Css(&format!("#item-{item} [data-error]")))
        .await
        .unwrap()
        .is_empty());
    let items = api(&stack, "carol", "/api/items").await;
    assert_eq!(items["items"][0]["error"], Value::Null, "{items}");
    assert_eq!(
        items["items"].as_array().unwrap().len(),
        1,
        "repaired, not added"
    );
    b.screenshot("repaired", false).await;

    // The user takes back the app's access: the page says so and offers Reconnect, which
    // Plaid says restores it (update mode, as above).
    stack
        .sandbox
        .fire_webhook(&item, "USER_PERMISSION_REVOKED")
        .unwrap();
    b.reload_until(&format!(
        "#item-{item} [data-error=USER_PERMISSION_REVOKED]"
    ))
    .await;
    b.css(&format!("#item-{item} [data-action=reconnect]"))
        .await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and chromedriver (Debian's chromium, chromium-driver); .ci/run installs them"]
async fn the_user_closes_link_and_on_exit_is_handled() {
    let stack = stack(None).await;
    let b = browser("").await;
    b.sign_in(&stack, "dave").await;
    b.open_link("#connect").await;
    b.css("[data-view=CONSENT]").await;
    b.click("#consent-continue").await;
    b.css("[data-view=SELECT_INSTITUTION]").await;
    // As at Plaid, only OPEN has reached the page's onEvent while Link is open; the rest come
    // at the end of the flow (the page notes the last it got).
    b.page().enter_parent_frame().await.unwrap();
    b.css("body[data-link-event=OPEN]").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    b.css("body[data-link-event=OPEN]").await;
    // Link leaves the page behind it as Plaid's does: nothing made inert. An app's modal that
    // traps focus fights Plaid's Link for it (react-plaid-link #160, #293; heroui #3406), so
    // it must fight this one too, or a test passes that production fails (review round 21;
    // round 17 had made the page inert). Its scrolling stops while Link is open.
    let (inert, all) = b.page_elements_inert().await;
    assert!(all > 0 && inert == 0, "Link open: {inert} of {all} inert");
    assert_eq!(b.body_overflow().await, "hidden");
    b.css("iframe[id^=plaid-link-iframe-]")
        .await
        .enter_frame()
        .await
        .unwrap();
    b.exit_link().await;
    b.page().enter_parent_frame().await.unwrap();
    b.status("You closed Link; nothing was connected.").await;
    b.css("body[data-link-event=EXIT]").await;
    // Link's frame is gone (the page destroys the handler in onExit).
    let deadline = Instant::now() + Duration::from_secs(5);
    while !b
        .page()
        .find_all(Locator::Css("iframe[id^=plaid-link-iframe-]"))
        .await
        .unwrap()
        .is_empty()
    {
        assert!(Instant::now() < deadline, "Link's frame stayed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (inert, all) = b.page_elements_inert().await;
    assert_eq!(inert, 0, "Link closed: {inert} of {all} inert");
    assert_eq!(b.body_overflow().await, "");
    // Closed on the institution pane: Plaid's `institution_not_found`, whatever the user
    // did there (its current Link docs; review round 7).
    b.css("body[data-link-exit-status=institution_not_found]")
        .await;
    assert!(stack.sandbox.connected_items().is_empty());

    // Escape asks to confirm the exit; Escape again goes back to the form as it was typed.
    b.open_link("#connect").await;
    b.choose_bank("platypus", "ins_109508").await;
    b.fill("#username", "user_good").await;
    b.fill("#password", "pass_good").await;
    b.escape_and_back().await;
    b.assert_credentials_shown("typed").await;
    // The same for credentials the page's "Fill in" button put there.
    b.fill("#username", "someone_else").await;
    b.fill("#password", "not_this").await;
    b.click("button[aria-label='Fill in user_good with password pass_good']")
        .await;
    b.escape_and_back().await;
    b.assert_credentials_shown("filled in").await;
    b.exit_link().await;
    b.page().enter_parent_frame().await.unwrap();
    b.status("You closed Link at First Platypus Bank; nothing was connected.")
        .await;
    b.css("body[data-link-exit-status=requires_credentials]")
        .await;
    assert!(stack.sandbox.connected_items().is_empty());
    b.screenshot("link-closed", false).await;
    b.close().await;
}

/// Two handlers at once, as react-plaid-link makes when the token changes (it closes the
/// old one with `exit({force: true}, destroy)` while an app may open the new one), and a
/// handler destroyed right after a forced exit. Review round 21: each handler saved and gave
/// back the page's scrolling on its own, so the page stayed unscrollable after both closed;
/// and `destroy()` dropped the `onExit` a forced exit owed (Plaid: an exit calls `onExit`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and chromedriver (Debian's chromium, chromium-driver); .ci/run installs them"]
async fn two_handlers_and_forced_exits_leave_the_page_as_it_was() {
    let stack = stack(None).await;
    let b = browser("").await;
    b.sign_in(&stack, "erin").await;
    let answer = b
        .page()
        .execute_async(
            r#"var done = arguments[arguments.length - 1];
            (async function () {
              var log = [];
              var config = await (await fetch('/api/config')).json();
              await new Promise(function (loaded, failed) {
                var script = document.createElement('script');
                script.src = config.link_script;
                script.onload = loaded;
                script.onerror = failed;
                document.head.appendChild(script);
              });
              async function handler(name) {
                var r = await fetch('/api/link-token',
                  { method: 'POST', headers: { 'x-user-id': 'erin' } });
                var token = (await r.json()).link_token;
                var handler;
                await new Promise(function (loaded) {
                  handler = Plaid.create({ token: token, onLoad: loaded,
                    onSuccess: function () { log.push(name + ' success'); },
                    onExit: function () { log.push(name + ' exit'); } });
                });
                return handler;
              }
              var before = document.body.style.overflow;
              var a = await handler('a');
              var b = await handler('b');
              a.open();
              b.open();
              var open = document.body.style.overflow;
              a.exit({ force: true });
              a.destroy();
              await new Promise(function (closed) {
                b.exit({ force: true }, function () { b.destroy(); closed(); });
              });
              done({ before: before, open: open, after: document.body.style.overflow, log: log });
            })().catch(function (e) { done({ error: String(e) }); });"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(answer["error"], Value::Null, "{answer}");
    assert_eq!(answer["open"], "hidden", "{answer}");
    assert_eq!(
        answer["after"], answer["before"],
        "the page's scrolling: {answer}"
    );
    assert_eq!(answer["log"], json!(["a exit", "b exit"]), "{answer}");
    b.close().await;
}

/// Contrast ratios (WCAG 2.1) on the backend's page: the focus ring of the focused control
/// (focused by the keyboard) against the page and against a card, and the user id field's
/// edge against the page; and whether a ring is drawn at all.
const CONTRAST: &str = r#"
function rgb(c) { return c.match(/[\d.]+/g).slice(0, 3).map(Number); }
function lum(c) {
  return rgb(c).map(function (v) {
    v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  }).reduce(function (a, v, i) { return a + v * [0.2126, 0.7152, 0.0722][i]; }, 0);
}
function ratio(a, b) {
  var x = lum(a), y = lum(b);
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}
var focused = getComputedStyle(document.activeElement);
var ring = focused.outlineColor;
var page = getComputedStyle(document.body).backgroundColor;
var edge = getComputedStyle(document.getElementById('user')).borderTopColor;
return [ratio(ring, page), ratio(ring, 'rgb(255, 255, 255)'), ratio(edge, page),
        focused.outlineStyle !== 'none' && parseFloat(focused.outlineWidth) >= 2];
"#;

/// Whether the element `arguments[0]` names is what a click at its centre reaches: not
/// hidden under something else (Link's sticky banner), nor out of view.
const UNCOVERED: &str =
    "var e = document.querySelector(arguments[0]); var r = e.getBoundingClientRect(); \
     var x = r.left + r.width / 2, y = r.top + r.height / 2; \
     return y > 0 && y < window.innerHeight && document.elementFromPoint(x, y) === e;";

/// Review round 20, an audit with axe-core 4.14 over 39 states of the page and of Link: axe
/// found nothing, and these, which it does not look at, were barriers: focus fell to <body>
/// on signing in and out; the focus ring (2:1) and the fields' edges (1.4:1) were too faint;
/// at 320 px a bank's card scrolled sideways with its table; at 200 % zoom a field focused by
/// the keyboard sat under Link's sticky banner; going back from Link's exit confirmation put
/// focus on the first field, not where the user was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and chromedriver (Debian's chromium, chromium-driver); .ci/run installs them"]
async fn the_page_and_link_work_by_keyboard_zoomed_and_on_a_narrow_screen() {
    let stack = stack(None).await;
    let b = browser("").await;
    b.sign_in(&stack, "erin").await;
    b.wait_focus("account-heading@").await;
    b.click("#signout").await;
    b.wait_focus("user@").await;
    // Tab from the field to the form's button: focused by the keyboard, it shows its ring.
    let tab = String::from(char::from(fantoccini::key::Key::Tab));
    b.css("#user").await.send_keys(&tab).await.unwrap();
    b.wait_focus("signin-submit@").await;
    let measured = b.page().execute(CONTRAST, vec![]).await.unwrap();
    let measured = measured.as_array().unwrap();
    assert_eq!(measured[3], json!(true), "no focus ring drawn");
    for (what, ratio) in [
        "focus ring on the page",
        "focus ring on a card",
        "field edge",
    ]
    .iter()
    .zip(measured.iter().map(|r| r.as_f64().unwrap()))
    {
        assert!(ratio >= 3.0, "{what}: {ratio:.2}:1, under 3:1");
    }

    // 320 px wide (a phone, or 400 % zoom): the table scrolls in its own box.
    let item = link_through_the_page(&b, &stack, "erin", false).await;
    b.page().set_window_size(320, 700).await.unwrap();
    b.click(&format!("#item-{item} [data-action=transactions]"))
        .await;
    b.wait_text(&format!("#item-{item} caption"), "transactions")
        .await;
    let widths = b
        .page()
        .execute(
            "var li = document.querySelector('li.item'); \
             return [li.scrollWidth, li.clientWidth, document.documentElement.scrollWidth, \
                     document.documentElement.clientWidth];",
            vec![],
        )
        .await
        .unwrap();
    let w: Vec<u64> = widths
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert!(w[0] <= w[1], "the card scrolls sideways: {w:?}");
    assert!(w[2] <= w[3], "the page scrolls sideways: {w:?}");
    b.screenshot("backend-page-320px", false).await;

    // A field reached by Shift+Tab is in view, not under the banner: with the banner sticky
    // (a desktop window), at 640 × 450 (200 % zoom of 1280 × 900), and at 320 px.
    for (width, height) in [(1000, 800), (640, 450), (320, 560)] {
        b.page().set_window_size(width, height).await.unwrap();
        b.open_link("#connect").await;
        b.choose_bank("platypus", "ins_109508").await;
        b.fill("#username", "user_good").await;
        b.fill("#password", "pass_good").await;
        b.page()
            .execute(
                "var d = document.querySelector('.dialog'); \
                 document.getElementById('password').focus({ preventScroll: true }); \
                 var u = document.getElementById('username').getBoundingClientRect(); \
                 d.scrollTop += u.top - d.getBoundingClientRect().top + 10;",
                vec![],
            )
            .await
            .unwrap();
        let back = format!(
            "{}{}",
            char::from(fantoccini::key::Key::Shift),
            char::from(fantoccini::key::Key::Tab)
        );
        b.css("#password").await.send_keys(&back).await.unwrap();
        b.wait_focus("username@").await;
        let uncovered = b
            .page()
            .execute(UNCOVERED, vec![json!("#username")])
            .await
            .unwrap();
        assert_eq!(uncovered, json!(true), "at {width} × {height}");
        // Back from the exit confirmation, focus is where it was.
        b.css("#password").await.click().await.unwrap();
        b.escape_and_back().await;
        b.wait_focus("password@").await;
        b.screenshot(&format!("link-{width}x{height}"), false).await;
        b.exit_link().await;
        b.page().enter_parent_frame().await.unwrap();
        b.status("You closed Link").await;
    }
    b.close().await;
}

/// The user id travels in a header, so the backend takes plain ASCII only: the form says so
/// before sending (before, "José" was sent and answered "sign in first").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and chromedriver (Debian's chromium, chromium-driver); .ci/run installs them"]
async fn a_user_id_the_backend_cannot_take_is_refused_by_the_form() {
    let stack = stack(None).await;
    let b = browser("").await;
    b.page().goto(&format!("{}/", stack.url)).await.unwrap();
    b.css("body[data-ready=true]").await;
    b.fill("#user", "José").await;
    b.click("#signin-submit").await;
    let refused = b
        .page()
        .execute(
            "return document.getElementById('user').validity.patternMismatch \
               && document.getElementById('account').hidden",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        refused,
        json!(true),
        "a non-ASCII user id is refused by the form"
    );
    b.screenshot("user-id-refused", false).await;
    b.close().await;
}

/// Plaid documents `metadata.institution` in `onSuccess` as nullable. The page must exchange
/// the public token anyway: an unexchanged token leaves the bank connected at Plaid with no
/// record here. Link is wrapped in the page so that it hands over `institution: null`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and chromedriver (Debian's chromium, chromium-driver); .ci/run installs them"]
async fn a_success_without_an_institution_still_connects_the_bank() {
    let stack = stack(None).await;
    let b = browser("").await;
    b.sign_in(&stack, "frank").await;
    b.page()
        .execute(
            "var kept; Object.defineProperty(window, 'Plaid', { configurable: true, \
               get: function () { return kept; }, \
               set: function (plaid) { var create = plaid.create; \
                 plaid.create = function (config) { var done = config.onSuccess; \
                   config.onSuccess = function (token, metadata) { \
                     metadata.institution = null; return done(token, metadata); }; \
                   return create.call(plaid, config); }; \
                 kept = plaid; } });",
            vec![],
        )
        .await
        .unwrap();
    b.open_link("#connect").await;
    b.choose_bank("platypus", "ins_109508").await;
    b.log_in("user_good", "pass_good").await;
    b.finish_link().await;
    b.status("Synced:").await;
    assert_eq!(b.items_shown().await, 1);
    assert_eq!(stack.sandbox.connected_items().len(), 1);
    b.screenshot("no-institution", false).await;
    b.close().await;
}

/// A page that loads Link from Plaid's CDN URL, unchanged: the browser resolves
/// `cdn.plaid.com` to a local TLS server that hands every request to the sandbox (the recipe
/// for apps whose Link comes from `react-plaid-link`, which writes that URL itself).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and chromedriver (Debian's chromium, chromium-driver); .ci/run installs them"]
async fn a_page_loading_link_from_plaids_cdn_works_with_the_script_swapped() {
    let stack = stack(Some(app::PLAID_LINK_SCRIPT.to_owned())).await;
    let cdn = cdn_stand_in(&stack.sandbox.uri()).await;
    let b = browser(&format!("MAP cdn.plaid.com:443 127.0.0.1:{cdn}, ")).await;
    // As a dev server is usually opened: at `localhost`, which the resolver rules must let
    // through (the guide's recipe once sent it to ~NOTFOUND).
    b.sign_in_at(&stack.url.replace("127.0.0.1", "localhost"), "erin")
        .await;
    let src = b
        .page()
        .execute("return window.__linkSrc || document.querySelector('script[src*=link-initialize]') && document.querySelector('script[src*=link-initialize]').src", vec![])
        .await
        .unwrap();
    assert_eq!(src, Value::Null, "Link is not loaded before the user asks");
    b.open_link("#connect").await;
    b.choose_bank("tartan", "ins_109511").await;
    b.log_in("user_good", "pass_good").await;
    b.finish_link().await;
    b.status("Synced:").await;
    let src = b
        .page()
        .execute(
            "return document.querySelector('script[src*=link-initialize]').src",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(src, json!(app::PLAID_LINK_SCRIPT));
    assert_eq!(stack.sandbox.connected_items().len(), 1);
    b.screenshot("cdn-swapped", false).await;
    b.close().await;
}

/// A TLS server for `cdn.plaid.com` (the test certificate in `fixtures/`) that passes every
/// connection through to the sandbox: its port.
async fn cdn_stand_in(sandbox: &str) -> u16 {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls;
    let certs =
        vec![CertificateDer::from_pem_slice(include_bytes!("fixtures/cdn-test.crt")).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(include_bytes!("fixtures/cdn-test.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = sandbox.trim_start_matches("http://").to_owned();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    port
}

/// The running processes of a process group.
fn group_members(pgid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| entry.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|pid| support::running_in_group(*pid).is_some_and(|group| group == pgid))
        .collect()
}

/// chromedriver and Chromium end with the test process that started them, also one killed
/// outright (SIGKILL: no `Drop` runs). They run in a process group of their own, for `Drop`
/// to end them all at once, so a Ctrl-C or CI's kill does not reach them (review round 21:
/// they outlived the test for good).
#[tokio::test]
#[ignore = "needs Chromium and chromedriver (Debian's chromium, chromium-driver); .ci/run installs them"]
async fn the_browser_ends_with_a_test_process_killed_outright() {
    const NAME: &str = "the_browser_ends_with_a_test_process_killed_outright";
    const HOLD: &str = "BROWSER_TEST_HOLD";
    // The held run: starts a browser, says which group it is in, and waits to be killed.
    if let Some(report) = std::env::var_os(HOLD) {
        let browser = browser("").await;
        std::fs::write(report, browser.driver.id().to_string()).unwrap();
        tokio::time::sleep(Duration::from_secs(120)).await;
        return;
    }
    let (pgid, mut held) = support::held_run(NAME, HOLD).await;
    let pgid: u32 = pgid.parse().unwrap();
    assert!(!group_members(pgid).is_empty(), "no browser to watch");
    held.kill().unwrap();
    held.wait().unwrap();
    if !support::ended_within_10s(|| group_members(pgid).is_empty()).await {
        // Not left behind by this test either.
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{pgid}")])
            .status();
        panic!(
            "{} processes of the browser's group outlived the killed test",
            group_members(pgid).len()
        );
    }
}
