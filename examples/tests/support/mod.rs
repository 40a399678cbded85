//! Running the reference backend's binary (the `backend` example) as a process, for the
//! tests that attack it or kill it: `BACKEND_BIN` picks another build of it.
#![allow(dead_code)] // each test file uses its share

use plaid_sandbox::Sandbox;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const CLIENT_ID: &str = "findings-client";
pub const SECRET: &str = "findings-secret";

/// The backend binary: `BACKEND_BIN`, or the example `cargo test` builds beside this test.
pub fn backend_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("BACKEND_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("the test's own path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .join("examples/backend");
    assert!(
        bin.exists(),
        "{} is missing: `cargo test` builds it (or `cargo build -p plaid-examples --example backend`)",
        bin.display()
    );
    bin
}

/// A running backend process.
pub struct Backend {
    pub child: Child,
    pub url: String,
    /// The replica name it prints (the owner of the jobs it claims).
    pub replica: String,
    pub http: reqwest::Client,
    /// Its output after the start line, stdout and stderr (the first 100,000 lines).
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// How to start one.
#[derive(Clone, Default)]
pub struct Start {
    env: Vec<(String, String)>,
    /// Against this sandbox's server (else offline, the backend's own sandbox).
    plaid: Option<String>,
}

impl Start {
    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.env.push((
            key.to_owned(),
            value.as_ref().to_string_lossy().into_owned(),
        ));
        self
    }
    pub fn plaid(mut self, sandbox: &Sandbox) -> Self {
        self.plaid = Some(sandbox.uri());
        self
    }

    /// Starts the backend; `Err(stderr)` if it exits before serving.
    pub fn spawn(&self) -> Result<Backend, String> {
        let mut command = Command::new(backend_bin());
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("PORT", "0")
            // What the tests read from the log includes `info` lines.
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(url) = &self.plaid {
            command
                .env("PLAID_ENV", url)
                .env("PLAID_CLIENT_ID", CLIENT_ID)
                .env("PLAID_SECRET", SECRET);
        }
        for (k, v) in &self.env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("the backend starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let (url, replica) = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(rest) = line.strip_prefix("Backend on ") {
                        let url = rest.split_whitespace().next().unwrap().to_owned();
                        let replica = rest
                            .split("replica ")
                            .nth(1)
                            .map(|r| r.trim_end_matches(')').to_owned())
                            .unwrap_or_default();
                        break (url, replica);
                    }
                }
                _ => {
                    let status = child.wait().unwrap();
                    let mut err = String::new();
                    use std::io::Read;
                    child.stderr.take().unwrap().read_to_string(&mut err).ok();
                    return Err(format!("exited ({status}): {err}"));
                }
            }
        };
        // Keep draining its output so it never blocks on a full pipe, and keep the start of it.
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = |log: std::sync::Arc<std::sync::Mutex<Vec<String>>>| {
            move |line: String| {
                let mut log = log.lock().unwrap();
                if log.len() < 100_000 {
                    log.push(line);
                }
            }
        };
        let out = keep(log.clone());
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(out));
        let stderr = child.stderr.take().unwrap();
        let err = keep(log.clone());
        std::thread::spawn(move || {
            BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
                .for_each(err)
        });
        Ok(Backend {
            child,
            url,
            replica,
            http: reqwest::Client::new(),
            log,
        })
    }
}

impl Backend {
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        user: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.url))
            .header("x-user-id", user);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    pub async fn link_token(&self, user: &str) -> String {
        let (status, body) = self.call("POST", "/api/link-token", user, None).await;
        assert_eq!(status, 200, "{body}");
        body["link_token"].as_str().unwrap().to_owned()
    }

    /// Links an Item at `institution` for `user` through `sandbox` (the user's part of Link
    /// played by the sandbox): the exchange's status and body.
    pub async fn link(&self, sandbox: &Sandbox, user: &str, institution: &str) -> (u16, Value) {
        let token = self.link_token(user).await;
        let public = sandbox.complete_link(&token, institution).unwrap();
        self.call(
            "POST",
            "/api/items",
            user,
            Some(json!({ "public_token": public.expose_secret() })),
        )
        .await
    }

    /// Offline: links through the backend's own `/dev/complete-link`.
    pub async fn link_offline(&self, user: &str) -> (u16, Value) {
        let token = self.link_token(user).await;
        let response = self
            .http
            .post(format!("{}/dev/complete-link", self.url))
            .json(&json!({ "link_token": token }))
            .send()
            .await
            .unwrap();
        // A public token is never kept by a cache (review round 11: it was, by default).
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .map(|v| v.as_bytes()),
            Some(&b"no-store"[..])
        );
        let public: Value = response.json().await.unwrap();
        self.call(
            "POST",
            "/api/items",
            user,
            Some(json!({ "public_token": public["public_token"] })),
        )
        .await
    }

    pub async fn post_webhook(&self, body: &[u8], jwt: &str) -> u16 {
        self.http
            .post(format!("{}/webhooks/plaid", self.url))
            .header("plaid-verification", jwt)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// The lines of its output so far that contain `text`.
    pub fn log_lines(&self, text: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(text))
            .count()
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }

    /// SIGTERM, as a deploy or Ctrl-C stops it, without waiting.
    pub fn terminate(&self) {
        let pid = self.child.id().to_string();
        assert!(std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
    }

    /// Waits for the process to exit by itself (at most `secs`).
    pub async fn wait_exit(&mut self, secs: u64) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the process did not stop"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs the test `name` of this test binary again, as a process of its own, with `var` set to
/// a file the test writes when it holds what it started (the file's text: an id for the
/// caller to watch). Returns that text and the process, still running: for tests that kill a
/// test process outright (SIGKILL: no `Drop` runs) and check what it started ends anyway.
pub async fn held_run(name: &str, var: &str) -> (String, Child) {
    let report = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("held-{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&report);
    let mut held = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", name])
        .env(var, &report)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(text) = std::fs::read_to_string(&report)
            .ok()
            .filter(|t| !t.is_empty())
        {
            let _ = std::fs::remove_file(&report);
            return (text, held);
        }
        if std::time::Instant::now() > deadline || !matches!(held.try_wait(), Ok(None)) {
            let _ = held.kill();
            panic!("the held run of {name} never reported");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Whether `gone` holds within 10 s: what a killed test process started has ended.
pub async fn ended_within_10s(mut gone: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !gone() {
        if std::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    true
}

/// The process group of process `pid` while it runs (`/proc/<pid>/stat`); `None` once it has
/// ended, a zombie included (only its parent has not read its status yet).
pub fn running_in_group(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command's name in parentheses: state, ppid, pgrp.
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?;
    let group = fields.nth(1)?.parse().ok()?;
    (state != "Z").then_some(group)
}
