//! The `plaid-sandbox` binary's command line: flags, environment, and the serving loop.

use crate::SandboxBuilder;
use std::net::SocketAddr;

/// What the binary prints for `--help`.
pub const USAGE: &str = "\
plaid-sandbox: an offline Plaid for tests, in any language.

USAGE:
    plaid-sandbox [OPTIONS]

OPTIONS:
    --listen IP:PORT         where to listen (default 127.0.0.1:0, a free port)
    --client-id ID           the client id it accepts (default offline-sandbox-client)
                             [env PLAID_SANDBOX_CLIENT_ID]
    --secret SECRET          the secret it accepts (default offline-sandbox-secret)
                             [env PLAID_SANDBOX_SECRET]; other keys get INVALID_API_KEYS
    --seed N                 the seed all data derives from (default 0) [env PLAID_SANDBOX_SEED]
    --allow-webhook-host H   also deliver webhooks to host H, a name or an IP address without
                             scheme or port (default: loopback only); repeatable
    --webhook-retry SECS     wait before a webhook the receiver did not answer 200 is sent
                             again, four times longer each time, for 24 h (default 30, as
                             Plaid; 0 sends each webhook once)
    --allow-host H           also answer requests addressed to host name H (default: IP
                             addresses, localhost, *.localhost, cdn.plaid.com and requests
                             without a Host header); repeatable
    --no-rate-limits         do not enforce Plaid's sandbox rate limits per Item (for load tests)
    --today YYYY-MM-DD       start the clock at noon UTC that day, standing still until moved
                             (POST /__sandbox/clock), so data is the same on every run; a
                             still clock never ends a rate limit's minute: move it, or add
                             --no-rate-limits
    --history-days N         days of transaction history a new user_good Item has (default
                             90, at most 3650)
    --not-ready-syncs N      transactions calls on a new Item answered \"not ready\" before its
                             data arrives, as at Plaid right after Link (default 0)
    -h, --help               this text

The first line on stdout is the base URL to point a Plaid client at. POST /__sandbox/reset
forgets every Item, token, fault and sent webhook, the clock's moves and the webhook chaos.
Stops on Ctrl-C or SIGTERM, after answering the requests in flight (at most 5 s).
";

/// The settings the command line asked for. Its `Debug` output leaves the secret out.
///
/// Made by [`parse`] only, so that a new flag is not a breaking change (review round 20:
/// `--webhook-retry` was one):
///
/// ```compile_fail
/// let parsed = plaid_sandbox::cli::parse(Vec::<String>::new(), |_| None).unwrap();
/// let _ = plaid_sandbox::cli::Options { seed: 7, ..parsed };
/// ```
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct Options {
    /// `--listen`.
    pub listen: SocketAddr,
    /// `--client-id`.
    pub client_id: Option<String>,
    /// `--secret`.
    pub secret: Option<String>,
    /// `--seed`.
    pub seed: u64,
    /// `--allow-webhook-host`.
    pub webhook_hosts: Vec<String>,
    /// `--allow-host`.
    pub hosts: Vec<String>,
    /// Not `--no-rate-limits`.
    pub rate_limits: bool,
    /// `--today`.
    pub today: Option<chrono::NaiveDate>,
    /// `--history-days`.
    pub history_days: Option<u64>,
    /// `--not-ready-syncs`.
    pub not_ready_syncs: u32,
    /// `--webhook-retry`.
    pub webhook_retry: Option<std::time::Duration>,
    /// `--help`.
    pub help: bool,
}

/// Every option but the secret, which is shown as `<redacted>` when set.
impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("listen", &self.listen)
            .field("client_id", &self.client_id)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("seed", &self.seed)
            .field("webhook_hosts", &self.webhook_hosts)
            .field("hosts", &self.hosts)
            .field("rate_limits", &self.rate_limits)
            .field("today", &self.today)
            .field("history_days", &self.history_days)
            .field("not_ready_syncs", &self.not_ready_syncs)
            .field("webhook_retry", &self.webhook_retry)
            .field("help", &self.help)
            .finish()
    }
}

/// Reads the flags, with the environment (`var`) as the fallback for credentials and seed.
pub fn parse(
    args: impl IntoIterator<Item = String>,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Options, String> {
    let mut options = Options {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        // Empty (or blank) counts as unset, as for any variable here.
        client_id: var("PLAID_SANDBOX_CLIENT_ID").filter(|v| !v.trim().is_empty()),
        secret: var("PLAID_SANDBOX_SECRET").filter(|v| !v.trim().is_empty()),
        seed: 0,
        webhook_hosts: Vec::new(),
        hosts: Vec::new(),
        rate_limits: true,
        today: None,
        history_days: None,
        not_ready_syncs: 0,
        webhook_retry: None,
        help: false,
    };
    let mut seed_given = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        // A switch given a value (`--no-rate-limits=false`) would do the opposite of what it
        // seems to say.
        let switch = |name: &str| match &inline {
            Some(v) => Err(format!("{name} takes no value, got {v:?}")),
            None => Ok(()),
        };
        match flag.as_str() {
            "-h" | "--help" => {
                switch(&flag)?;
                options.help = true;
            }
            "--listen" => {
                let text = value("--listen")?;
                options.listen = text
                    .parse()
                    .map_err(|_| {
                        format!(
                            "--listen takes an IP address and a port (127.0.0.1:4010; host names are not resolved), got {text:?}"
                        )
                    })?;
            }
            // An empty secret would be one anybody can send (and would open the admin API
            // to other machines); an empty client id, one nobody means.
            "--client-id" => {
                options.client_id = Some(non_empty("--client-id", value("--client-id")?)?)
            }
            "--secret" => options.secret = Some(non_empty("--secret", value("--secret")?)?),
            "--seed" => {
                let text = value("--seed")?;
                options.seed = text
                    .parse()
                    .map_err(|_| format!("--seed must be a number, got {text:?}"))?;
                seed_given = true;
            }
            "--allow-webhook-host" => {
                let text = value("--allow-webhook-host")?;
                options
                    .webhook_hosts
                    .push(crate::webhooks::webhook_host(&text).ok_or_else(|| {
                        format!(
                        "--allow-webhook-host takes a host name or IP address without scheme or \
                         port (app, 10.0.0.5 or fd00::5), got {text:?}"
                    )
                    })?);
            }
            "--webhook-retry" => {
                let text = value("--webhook-retry")?;
                let secs = text
                    .parse::<f64>()
                    .ok()
                    // A wait under a millisecond would read as 0 and turn retries off unasked.
                    .filter(|s| *s == 0.0 || (0.001..=86_400.0).contains(s))
                    .ok_or_else(|| {
                        format!(
                            "--webhook-retry takes 0 or seconds from 0.001 to 86400, got {text:?}"
                        )
                    })?;
                options.webhook_retry = Some(std::time::Duration::from_secs_f64(secs));
            }
            "--allow-host" => {
                let text = value("--allow-host")?;
                if crate::server::host_of(text.trim()).is_none() {
                    return Err(format!(
                        "--allow-host takes a host name (sandbox, or sandbox:4010), got {text:?}"
                    ));
                }
                options.hosts.push(text);
            }
            "--no-rate-limits" => {
                switch("--no-rate-limits")?;
                options.rate_limits = false;
            }
            "--today" => {
                let text = value("--today")?;
                let date = chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                    .ok()
                    // The clock's range: noon of any day in it (a date outside was taken as
                    // its end, at midnight).
                    .filter(|d| (1..9000).contains(&chrono::Datelike::year(d)))
                    .ok_or_else(|| {
                        format!(
                            "--today takes a date from 0001-01-01 to 8999-12-31 as 2026-12-01, got {text:?}"
                        )
                    })?;
                options.today = Some(date);
            }
            "--history-days" => {
                let text = value("--history-days")?;
                let days = text
                    .parse::<u64>()
                    .ok()
                    .filter(|d| (1..=3650).contains(d))
                    .ok_or_else(|| {
                        format!("--history-days takes a number from 1 to 3650, got {text:?}")
                    })?;
                options.history_days = Some(days);
            }
            "--not-ready-syncs" => {
                let text = value("--not-ready-syncs")?;
                options.not_ready_syncs = text.parse().map_err(|_| {
                    format!("--not-ready-syncs takes a number of calls, got {text:?}")
                })?;
            }
            other => return Err(format!("unknown argument {other:?}; see --help")),
        }
    }
    // The environment's seed only when no flag gave one (a bad value there is then an error).
    if !seed_given {
        if let Some(seed) = var("PLAID_SANDBOX_SEED").filter(|v| !v.is_empty()) {
            options.seed = seed
                .parse()
                .map_err(|_| format!("PLAID_SANDBOX_SEED must be a number, got {seed:?}"))?;
        }
    }
    Ok(options)
}

/// `value`, unless it is empty: the flag's error then.
fn non_empty(flag: &str, value: String) -> Result<String, String> {
    if value.trim().is_empty() {
        Err(format!("{flag} takes a value that is not empty"))
    } else {
        Ok(value)
    }
}

impl Options {
    /// The sandbox these options describe.
    pub fn builder(&self) -> SandboxBuilder {
        let mut builder = SandboxBuilder::default()
            .listen(self.listen)
            .seed(self.seed)
            .rate_limits(self.rate_limits)
            .not_ready_syncs(self.not_ready_syncs);
        if let Some(today) = self.today {
            builder = builder.today(today);
        }
        if let Some(days) = self.history_days {
            builder = builder.history_days(days);
        }
        if let Some(wait) = self.webhook_retry {
            builder = builder.webhook_retry(wait);
        }
        if let Some(id) = &self.client_id {
            builder = builder.client_id(id.clone());
        }
        if let Some(secret) = &self.secret {
            builder = builder.secret(secret.clone());
        }
        for host in &self.webhook_hosts {
            builder = builder.allow_webhook_host(host.clone());
        }
        for host in &self.hosts {
            builder = builder.allow_host(host.clone());
        }
        builder
    }
}

/// Runs the binary: starts the sandbox, prints its base URL, serves until interrupted. The exit
/// code.
pub async fn run(args: impl IntoIterator<Item = String>) -> i32 {
    let options = match parse(args, |name| std::env::var(name).ok()) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("plaid-sandbox: {e}");
            return 2;
        }
    };
    if options.help {
        print!("{USAGE}");
        return 0;
    }
    let sandbox = match options.builder().try_start().await {
        Ok(sandbox) => sandbox,
        Err(e) => {
            eprintln!("plaid-sandbox: {e}");
            return 1;
        }
    };
    // Listening for SIGTERM and Ctrl-C before the URL is out: a harness may stop the server
    // the moment it has read it (review round 22: it was then killed outright).
    let stop = shutdown_signal();
    // The first line on stdout, flushed: scripts read it to find the server.
    println!("{}", sandbox.uri());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    eprintln!(
        "plaid-sandbox {} serving Plaid's API {} (client id {:?}); Ctrl-C to stop",
        env!("CARGO_PKG_VERSION"),
        plaid_sdk::SPEC_VERSION,
        sandbox.client_id(),
    );
    if !options.listen.ip().is_loopback() {
        let admin = if options
            .secret
            .as_deref()
            .is_some_and(|s| s != crate::SECRET)
        {
            "only with PLAID-CLIENT-ID and PLAID-SECRET"
        } else {
            "not at all (start it with --secret for that)"
        };
        eprintln!(
            "plaid-sandbox: listening on {}: other machines reach it, and its admin API \
             (/__sandbox/) answers them {admin}",
            options.listen
        );
    }
    stop.await;
    sandbox.stop_within(SHUTDOWN_GRACE).await;
    0
}

/// How long the binary, told to stop, waits for the requests it is answering.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Ends at SIGTERM or Ctrl-C; both are caught from the call on, not from the first poll.
fn shutdown_signal() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let (Ok(mut term), Ok(mut interrupt)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            return Box::pin(async move {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = interrupt.recv() => {}
                }
            });
        }
    }
    Box::pin(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// Review round 22: `--no-rate-limits=false` turned rate limits off; `--help` named no
    /// default credentials, and anything else is refused with `INVALID_API_KEYS`.
    #[test]
    fn switches_take_no_value_and_the_help_names_the_default_keys() {
        for flag in ["--no-rate-limits=false", "--help=no", "--no-rate-limits="] {
            let e = parse(args(&[flag]), |_| None).unwrap_err();
            assert!(e.contains("takes no value"), "{flag}: {e}");
        }
        assert!(USAGE.contains(crate::CLIENT_ID), "{USAGE}");
        assert!(USAGE.contains(crate::SECRET), "{USAGE}");
    }

    #[test]
    fn flags_and_environment() {
        let env = |name: &str| match name {
            "PLAID_SANDBOX_CLIENT_ID" => Some("from-env".to_owned()),
            "PLAID_SANDBOX_SEED" => Some("7".to_owned()),
            _ => None,
        };
        let o = parse(args(&["--listen", "127.0.0.1:4010", "--secret=s"]), env).unwrap();
        assert_eq!(o.listen, "127.0.0.1:4010".parse().unwrap());
        assert_eq!(o.client_id.as_deref(), Some("from-env"));
        assert_eq!(o.secret.as_deref(), Some("s"));
        assert_eq!(o.seed, 7);
        assert!(parse(args(&[]), env).unwrap().rate_limits);
        assert!(!parse(args(&["--no-rate-limits"]), env).unwrap().rate_limits);
        let o = parse(args(&["--client-id", "flag", "--seed", "3"]), env).unwrap();
        assert_eq!((o.client_id.as_deref(), o.seed), (Some("flag"), 3));
        let o = parse(
            args(&["--allow-host", "sandbox", "--allow-host=app:8080"]),
            env,
        )
        .unwrap();
        assert_eq!(o.hosts, ["sandbox", "app:8080"]);
        let o = parse(
            args(&[
                "--today=2026-12-01",
                "--history-days",
                "30",
                "--not-ready-syncs",
                "2",
            ]),
            env,
        )
        .unwrap();
        assert_eq!(o.today, chrono::NaiveDate::from_ymd_opt(2026, 12, 1));
        assert_eq!((o.history_days, o.not_ready_syncs), (Some(30), 2));
        for bad in [
            &["--today", "12/01/2026"][..],
            &["--history-days", "0"],
            &["--history-days", "3651"],
            &["--not-ready-syncs", "-1"],
            &["--listen"][..],
            &["--listen", "nope"],
            &["--allow-host", "http://sandbox/"],
            &["--allow-host", ""],
            &["--seed", "x"],
            &["--what"],
        ] {
            assert!(parse(args(bad), |_| None).is_err(), "{bad:?}");
        }
        assert!(parse(args(&[]), |n| (n == "PLAID_SANDBOX_SEED")
            .then(|| "x".into()))
        .is_err());
    }

    /// Review round 19 (the binary tried as a Node or Python user would): an empty
    /// `--secret` was taken (a secret anybody can send); `--allow-webhook-host app:3000`
    /// started and then never matched a webhook's host; a bad `PLAID_SANDBOX_SEED` failed a
    /// start whose `--seed` overrode it; the webhook retry wait had no flag, so a receiver
    /// failing on purpose left its webhook unanswered for 30 s.
    #[test]
    fn values_that_cannot_work_are_refused_and_retries_can_be_set() {
        for bad in [
            &["--secret", ""][..],
            &["--secret="],
            &["--client-id", " "],
            &["--allow-webhook-host", "app:3000"],
            &["--allow-webhook-host", "http://app"],
            &["--allow-webhook-host", ""],
            &["--webhook-retry", "-1"],
            &["--webhook-retry", "x"],
            &["--webhook-retry", "86401"],
            &["--webhook-retry", "1e-12"],
            &["--allow-webhook-host", "[fd00::5]:9"],
            &["--today", "9999-12-31"],
            &["--today", "0000-01-01"],
        ] {
            assert!(parse(args(bad), |_| None).is_err(), "{bad:?}");
        }
        let o = parse(
            args(&[
                "--allow-webhook-host",
                "app",
                "--allow-webhook-host=10.0.0.5",
                "--allow-webhook-host=fd00::5",
                "--allow-webhook-host=[FD00::6]",
                "--webhook-retry",
                "0.5",
            ]),
            |_| None,
        )
        .unwrap();
        assert_eq!(o.webhook_hosts, ["app", "10.0.0.5", "fd00::5", "fd00::6"]);
        // As a webhook's host is compared with it.
        for (host, url) in [
            ("fd00::5", "http://[fd00::5]:9/h"),
            ("app", "http://app:3000/h"),
        ] {
            assert!(
                crate::webhooks::webhook_allowed(url, &[host.to_owned()]),
                "{host} {url}"
            );
        }
        assert_eq!(o.webhook_retry, Some(std::time::Duration::from_millis(500)));
        let seed_env = |n: &str| (n == "PLAID_SANDBOX_SEED").then(|| "x".to_owned());
        assert_eq!(parse(args(&["--seed", "3"]), seed_env).unwrap().seed, 3);
    }
}
