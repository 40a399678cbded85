//! The offline sandbox behind Stoplight Prism's validating proxy, for this project's own
//! conformance run (`scripts/conformance.sh`): a check, built on the spec and Prism, that every
//! answer the sandbox gives (its errors included) is one Plaid's spec allows.
//!
//! When `PLAID_SANDBOX_PRISM` names Prism's binary and `PLAID_SANDBOX_PRISM_SPEC` a spec file,
//! every sandbox starts `prism proxy` on a free loopback port in front of itself, and
//! [`OfflineSandbox::uri`](super::OfflineSandbox::uri) (so every client it hands out) points at
//! Prism. Prism forwards each call, checks the request and the answer against the spec, and
//! logs each violation. When the sandbox stops, what Prism saw is appended to the file
//! `PLAID_SANDBOX_PRISM_REPORT` names: one `answer <path> <status>` line per call, and one
//! `violation <severity> <path> <where> <message>` line per violation Prism logged
//! (`scripts/sandbox_report.py` judges them). Without those variables nothing of
//! this runs.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `prism proxy` in front of one sandbox; stopped, and its log reported, when dropped.
pub(crate) struct PrismProxy {
    child: Child,
    pub(crate) url: String,
    log: PathBuf,
    report: Option<PathBuf>,
}

/// Starts Prism in front of `upstream` if the environment asks for it (see the module docs).
/// When asked for and Prism cannot start, an error (the sandbox does not start: a conformance
/// run must not quietly test the sandbox without it), never a panic.
pub(crate) async fn start_if_configured(upstream: &str) -> Result<Option<PrismProxy>, String> {
    let Some(bin) = std::env::var_os("PLAID_SANDBOX_PRISM") else {
        return Ok(None);
    };
    let spec = std::env::var_os("PLAID_SANDBOX_PRISM_SPEC").ok_or(
        "PLAID_SANDBOX_PRISM is set (a conformance run): PLAID_SANDBOX_PRISM_SPEC must name the spec",
    )?;
    let report = std::env::var_os("PLAID_SANDBOX_PRISM_REPORT").map(PathBuf::from);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free loopback port for Prism: {e}"))?
        .port();
    let log = std::env::temp_dir().join(format!(
        "plaid-sandbox-prism-{}-{port}.log",
        std::process::id()
    ));
    let out = std::fs::File::create(&log)
        .map_err(|e| format!("cannot create Prism's log {}: {e}", log.display()))?;
    let err = out
        .try_clone()
        .map_err(|e| format!("cannot share Prism's log: {e}"))?;
    let child = Command::new(&bin)
        .args(["proxy", "-h", "127.0.0.1", "-p", &port.to_string()])
        .arg(&spec)
        .arg(upstream)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| {
            format!(
                "cannot start Prism (PLAID_SANDBOX_PRISM={}): {e}",
                bin.to_string_lossy()
            )
        })?;
    let mut proxy = PrismProxy {
        child,
        url: format!("http://127.0.0.1:{port}"),
        log,
        report,
    };
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = proxy.child.try_wait() {
            return Err(format!(
                "Prism exited with {status}; see {}",
                proxy.log.display()
            ));
        }
        if started.elapsed() > Duration::from_secs(180) {
            return Err(format!(
                "Prism did not start in 180 s; see {}",
                proxy.log.display()
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(Some(proxy))
}

/// What one Prism log says: the answers it forwarded and the violations it found, each with the
/// path of the call it belongs to.
pub(crate) fn summarize(log: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut path = String::from("?");
    for line in log.lines() {
        if let Some(rest) = line.split("[HTTP SERVER] ").nth(1) {
            // `post /accounts/get ℹ  info      Request received`
            if let Some(p) = rest.split_whitespace().nth(1) {
                path = p.to_owned();
            }
        } else if let Some(rest) = line.split("The upstream call to ").nth(1) {
            // `/accounts/get has returned 200`
            let mut words = rest.split_whitespace();
            if let (Some(p), Some(status)) = (words.next(), words.last()) {
                lines.push(format!("answer {p} {status}"));
            }
        } else if let Some((before, rest)) = line.split_once("Violation: ") {
            // `[VALIDATOR] ✖  error     Violation: …`, or `⚠  warning`: Prism's severity.
            let severity = before.split_whitespace().last().unwrap_or("error");
            lines.push(format!("violation {severity} {path} {}", rest.trim()));
        }
    }
    lines
}

impl Drop for PrismProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let Some(report) = &self.report else {
            return;
        };
        let log = std::fs::read(&self.log).unwrap_or_default();
        let mut out = Vec::new();
        for line in summarize(&String::from_utf8_lossy(&log)) {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(report)
        {
            let _ = file.write_all(&out);
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

#[cfg(test)]
mod tests {
    use super::summarize;

    #[test]
    fn a_prism_log_becomes_answers_and_violations_by_path() {
        let log = "\
[5:44:13 PM] › [HTTP SERVER] post /accounts/get ℹ  info      Request received
[5:44:13 PM] ›     [PROXY] ℹ  info      The upstream call to /accounts/get has returned 200
[5:44:13 PM] ›     [VALIDATOR] ✖  error     Violation: response.body.accounts Response body property accounts must be array
[5:44:14 PM] › [HTTP SERVER] post /item/get ℹ  info      Request received
[5:44:14 PM] ›     [PROXY] ℹ  info      The upstream call to /item/get has returned 400
[5:44:14 PM] ›     [VALIDATOR] ⚠  warning   Violation: response Unable to match the returned status code with those defined in the document: 200
";
        assert_eq!(
            summarize(log),
            [
                "answer /accounts/get 200",
                "violation error /accounts/get response.body.accounts Response body property accounts must be array",
                "answer /item/get 400",
                "violation warning /item/get response Unable to match the returned status code with those defined in the document: 200",
            ]
        );
    }
}
