//! Webhooks: made by the handlers, signed like Plaid's, recorded, and posted by a task of their
//! own, with the chaos a test asks for (duplicates, delays and so reordering, other targets):
//! Plaid delivers at least once, in no guaranteed order.

use crate::rng::Rng;
use crate::state::{lock, Item, State};
use crate::{SentWebhook, WebhookSigner};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A webhook to deliver once the state lock is released.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) url: String,
    pub(crate) body: Value,
}

/// Queues `body` for the Item's webhook URL, if it has one, and records it as the Item's last
/// webhook (`/item/get`'s `status.last_webhook`).
pub(crate) fn queue(
    item: &mut Item,
    outgoing: &mut Vec<Outgoing>,
    body: Value,
    now: DateTime<Utc>,
) {
    if let Some(url) = &item.webhook {
        let code = body
            .get("webhook_code")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        item.last_webhook = Some((now, code));
        outgoing.push(Outgoing {
            url: url.clone(),
            body,
        });
    }
}

/// `SYNC_UPDATES_AVAILABLE`, which Plaid sends once `/transactions/sync` has been called on the
/// Item.
pub(crate) fn sync_updates(item: &mut Item, outgoing: &mut Vec<Outgoing>, now: DateTime<Utc>) {
    // Not to an app that never synced, nor while the Item answers "not ready": its webhooks
    // come when it is ready ([`transactions_ready`]).
    if !item.synced || item.not_ready > 0 {
        return;
    }
    let body = sync_updates_body(item, true);
    queue(item, outgoing, body, now);
}

/// A `SYNC_UPDATES_AVAILABLE` body: the last 30 days ready, and the whole history when
/// `historical`.
pub(crate) fn sync_updates_body(item: &Item, historical: bool) -> Value {
    item.webhook_body(
        "TRANSACTIONS",
        "SYNC_UPDATES_AVAILABLE",
        &[
            ("initial_update_complete", Value::Bool(true)),
            ("historical_update_complete", Value::Bool(historical)),
        ],
    )
}

/// What Plaid sends once an Item's transactions are pulled (at its creation with
/// Transactions, or once Transactions is added by a first call): `INITIAL_UPDATE` (the last 30
/// days) and `HISTORICAL_UPDATE` (the whole history), which Plaid sends to every app, and, to an
/// app on `/transactions/sync` (an Item synced once), `SYNC_UPDATES_AVAILABLE` twice: the 30
/// days ready, then the whole history. Nothing while the Item still answers "not ready"
/// ([`SandboxBuilder::not_ready_syncs`](crate::SandboxBuilder::not_ready_syncs)): the call
/// that uses up the last of those answers sends them.
pub(crate) fn transactions_ready(
    item: &mut Item,
    outgoing: &mut Vec<Outgoing>,
    now: DateTime<Utc>,
) {
    if item.not_ready > 0 {
        return;
    }
    let all = item.ledger.current();
    let today = item.ledger.today();
    let since = today
        .checked_sub_days(chrono::Days::new(30))
        .unwrap_or(today);
    let recent = all.iter().filter(|t| t.date >= since).count();
    for (code, new) in [("INITIAL_UPDATE", recent), ("HISTORICAL_UPDATE", all.len())] {
        let body = item.webhook_body(
            "TRANSACTIONS",
            code,
            &[
                ("new_transactions", Value::from(new)),
                ("error", Value::Null),
            ],
        );
        queue(item, outgoing, body, now);
    }
    if item.synced {
        for historical in [false, true] {
            let body = sync_updates_body(item, historical);
            queue(item, outgoing, body, now);
        }
    }
}

/// What Plaid sends when an Item's first Investments extraction, run in the background
/// (`/investments/transactions/get` with `async_update`), is done: `HISTORICAL_UPDATE`.
pub(crate) fn investments_ready(item: &mut Item, outgoing: &mut Vec<Outgoing>, now: DateTime<Utc>) {
    let new = item.profile.investment_transactions.len();
    let body = item.webhook_body(
        "INVESTMENTS_TRANSACTIONS",
        "HISTORICAL_UPDATE",
        &[
            ("new_investments_transactions", Value::from(new)),
            ("cancelled_investments_transactions", Value::from(0)),
            ("error", Value::Null),
        ],
    );
    queue(item, outgoing, body, now);
}

/// One post to make: the index of its record, where, what, and after how long.
pub(crate) struct Delivery {
    /// The state's generation when it was made (see `State::generation`).
    generation: u64,
    index: usize,
    url: String,
    body: Vec<u8>,
    delay: Duration,
    /// Posts made so far (retries after the first).
    attempt: u32,
    /// When the first post was made: Plaid gives up 24 h after it.
    first: Option<std::time::Instant>,
}

/// Plaid retries a webhook the receiver did not answer 200 to within 10 s: 30 s after, then
/// each wait four times the last, for 24 hours.
const RETRY_FOR: Duration = Duration::from_secs(24 * 3600);

/// The webhook sender's queue.
pub(crate) type Outbox = tokio::sync::mpsc::UnboundedSender<Delivery>;

/// Starts the task that posts queued webhooks and records each receiver's answer. Webhooks
/// without a delay go out one at a time per receiver URL, in the order they were made;
/// receivers do not wait for each other, so one that hangs holds up only its own webhooks
/// (review round 10: three webhooks to a receiver that never answered held a healthy
/// receiver's webhook back 30 s, and other tests' waits ran out). Delayed ones go on their
/// own, so they overtake and are overtaken.
pub(crate) fn start_outbox(
    state: Arc<Mutex<State>>,
    http: reqwest::Client,
    signer: Arc<WebhookSigner>,
) -> Outbox {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Delivery>();
    // Weak: a sender of its own queue would keep this task waiting for ever, and the state
    // with it (review round 21). It ends once the sandbox and its server let go of theirs.
    let retries = tx.downgrade();
    let generations = lock(&state).generations.subscribe();
    tokio::spawn(async move {
        let mut queues: HashMap<String, Outbox> = HashMap::new();
        while let Some(delivery) = rx.recv().await {
            let context = (Arc::clone(&state), http.clone(), Arc::clone(&signer));
            let retries = retries.clone();
            if !delivery.delay.is_zero() {
                // A reset ends the wait (review round 15: waits outlived resets, and their
                // bodies with them, for as long as a chaos delay or Plaid's retries said).
                let mut generations = generations.clone();
                tokio::spawn(async move {
                    let made = delivery.generation;
                    tokio::select! {
                        () = tokio::time::sleep(delivery.delay) => {
                            post(&context, &retries, delivery).await;
                        }
                        true = async { generations.wait_for(|now| *now != made).await.is_ok() } => {}
                    }
                });
                continue;
            }
            let delivery = match queues.get(&delivery.url) {
                Some(queue) => match queue.send(delivery) {
                    Ok(()) => continue,
                    Err(closed) => closed.0, // its queue ended, idle: a new one
                },
                None => delivery,
            };
            queues.retain(|_, queue| !queue.is_closed());
            let (queue, waiting) = tokio::sync::mpsc::unbounded_channel();
            let url = delivery.url.clone();
            let _ = queue.send(delivery);
            queues.insert(url, queue);
            tokio::spawn(receiver_queue(context, retries, waiting));
        }
    });
    tx
}

/// How long a receiver's queue waits for more before it ends.
const QUEUE_IDLE: Duration = Duration::from_secs(60);

/// Posts one receiver's webhooks, one at a time, in order; ends once idle.
async fn receiver_queue(
    context: Context,
    retries: Retries,
    mut waiting: tokio::sync::mpsc::UnboundedReceiver<Delivery>,
) {
    loop {
        match tokio::time::timeout(QUEUE_IDLE, waiting.recv()).await {
            Ok(Some(delivery)) => post(&context, &retries, delivery).await,
            Ok(None) => return,
            Err(_) => {
                // No more taken from now on; what came in meanwhile still goes.
                waiting.close();
                while let Ok(delivery) = waiting.try_recv() {
                    post(&context, &retries, delivery).await;
                }
                return;
            }
        }
    }
}

type Context = (Arc<Mutex<State>>, reqwest::Client, Arc<WebhookSigner>);

/// Where a retry is queued: the webhook sender's own queue, while the sandbox is there.
type Retries = tokio::sync::mpsc::WeakUnboundedSender<Delivery>;

async fn post(context: &Context, retries: &Retries, mut delivery: Delivery) {
    let (state, http, signer) = context;
    {
        let mut s = lock(state);
        if s.generation() != delivery.generation {
            return; // made before a reset
        }
        // Checked at each post: a retry may go to another of the chaos targets.
        if !webhook_allowed(&delivery.url, &s.settings.webhook_hosts) {
            refused(&mut s, &delivery.url);
            if let Some(sent) = s.webhooks.get_mut(delivery.index) {
                sent.status = Some(0);
            }
            return;
        }
    }
    // Signed as it is sent, as Plaid signs each delivery (a retry too): a token signed when
    // the webhook was queued would arrive as old as its wait behind a slow receiver or a
    // chaos delay, and receivers refuse an `iat` over five minutes old.
    let status = match http
        .post(&delivery.url)
        .headers(signer.headers(&delivery.body))
        .body(delivery.body.clone())
        .timeout(Duration::from_secs(10))
        .send()
        .await
    {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    };
    let first = *delivery.first.get_or_insert_with(std::time::Instant::now);
    let retry_after = {
        let mut s = lock(state);
        if s.generation() != delivery.generation {
            return;
        }
        let wait = s
            .settings
            .webhook_retry
            .saturating_mul(4u32.saturating_pow(delivery.attempt));
        let again = status != 200
            && !s.settings.webhook_retry.is_zero()
            && first.elapsed().saturating_add(wait) < RETRY_FOR;
        if again && !s.chaos.targets.is_empty() {
            // A retry goes through the load balancer again.
            let mut rng = Rng::new(s.settings.seed, 0x7265_7472, delivery.index as u64);
            for _ in 0..=delivery.attempt {
                rng.next();
            }
            delivery.url =
                s.chaos.targets[rng.below(s.chaos.targets.len() as u64) as usize].clone();
        }
        if let Some(sent) = s.webhooks.get_mut(delivery.index) {
            sent.attempts = delivery.attempt + 1;
            // A retry to come is in flight again, perhaps to another target; the next post
            // checks the generation and the host anew.
            sent.status = (!again).then_some(status);
            sent.url = delivery.url.clone();
        }
        again.then_some(wait)
    };
    if let Some(wait) = retry_after {
        delivery.attempt += 1;
        delivery.delay = wait;
        if let Some(retries) = retries.upgrade() {
            let _ = retries.send(delivery);
        }
    }
}

/// Records webhooks (and their copies, under chaos) and queues them for sending, in the hold
/// of the lock that made them, in the order they were made; each post is signed as it is
/// sent. Recorded and queued in a later hold, two concurrent requests' webhooks could swap
/// places in the record and in a receiver's order, and chaos's draws, seeded by the record's
/// length, differ for one seed (review round 21). Queueing is a send on an unbounded channel:
/// it never waits.
pub(crate) fn send(s: &mut State, outbox: &Outbox, hooks: Vec<Outgoing>) {
    if s.webhooks_ended {
        return; // the sandbox was dropped: a request answered as its server stops
    }
    for hook in hooks {
        let bytes = serde_json::to_vec_pretty(&hook.body).unwrap_or_default();
        let chaos = s.chaos.clone();
        let mut rng = Rng::new(s.settings.seed, 0x6368_616f, s.webhooks.len() as u64);
        let copies =
            if chaos.max_copies > 1 && (rng.below(10_000) as f64) < chaos.duplicates * 10_000.0 {
                2 + rng.below(u64::from(chaos.max_copies - 1)) as u32
            } else {
                1
            };
        for copy in 0..copies {
            let url = if chaos.targets.is_empty() {
                hook.url.clone()
            } else {
                chaos.targets[rng.below(chaos.targets.len() as u64) as usize].clone()
            };
            let (low, high) = chaos.delay;
            // Saturating: the bounds are a caller's (up to `Duration::MAX`).
            let span = u64::try_from(high.saturating_sub(low).as_millis()).unwrap_or(u64::MAX);
            let delay = low.saturating_add(Duration::from_millis(if span == 0 {
                0
            } else {
                rng.below(span.saturating_add(1))
            }));
            let allowed = webhook_allowed(&url, &s.settings.webhook_hosts);
            s.webhooks.push(SentWebhook {
                url: url.clone(),
                body: hook.body.clone(),
                status: (!allowed).then_some(0),
                copy,
                attempts: 0,
            });
            let index = s.webhooks.len() - 1;
            if !allowed {
                refused(s, &url);
                continue;
            }
            let delivery = Delivery {
                generation: s.generation(),
                index,
                url,
                body: bytes.clone(),
                delay,
                attempt: 0,
                first: None,
            };
            if outbox.send(delivery).is_err() {
                // The runtime that started the sandbox is gone: nobody is left to receive it.
                s.webhooks[index].status = Some(0);
            }
        }
    }
}

/// An allowed webhook host (`--allow-webhook-host`, `allow_webhook_host`) as a webhook URL's
/// host is compared with it: an IP address as the address prints (`fd00::5`, with or without
/// brackets), a name as itself. `None` for anything with a scheme, a port or a path, which
/// would never match.
pub(crate) fn webhook_host(text: &str) -> Option<String> {
    let text = text.trim();
    let unbracketed = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    if let Ok(ip) = unbracketed.parse::<std::net::IpAddr>() {
        return Some(ip.to_string());
    }
    crate::server::host_of(text)
        .filter(|h| h.to_string().eq_ignore_ascii_case(text))
        .map(|_| text.to_owned())
}

/// `url` parsed, if it is an http(s) URL: the only kind a webhook goes to.
pub(crate) fn http_url(url: &str) -> Option<reqwest::Url> {
    reqwest::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// Says on stderr why a webhook to `url` is not delivered: once per reason (a host, a scheme)
/// for this sandbox until its next reset, as this runs under the state's lock and a harness
/// may pipe stderr without reading it, where a line per webhook filled the pipe and stopped
/// the whole server (review round 22). Each webhook's record has its status (`0`) whatever is
/// written. `eprintln!`, so that a Rust test's capture keeps it with the test.
fn refused(s: &mut State, url: &str) {
    /// Reasons remembered; past them, nothing more is written.
    const MOST: usize = 64;
    let reason = refusal(url);
    let said = &mut s.refusals_said;
    if said.len() >= MOST || said.contains(&reason) {
        return;
    }
    let last = said.len() + 1 == MOST;
    eprintln!(
        "plaid-sandbox: not delivering a webhook {reason}{}",
        if last {
            " (and no more such lines: the webhooks' records have their status)"
        } else {
            " (said once: the webhooks' records have each one's status)"
        }
    );
    said.push(reason);
}

/// Why a webhook to `url` is refused, naming what is wrong with it (never the whole URL,
/// which may carry a secret in its path or query).
fn refusal(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Err(_) => "to an unparsable URL".to_owned(),
        Ok(u) if !matches!(u.scheme(), "http" | "https") => {
            format!(
                "to a {}: URL: only http and https URLs receive webhooks",
                u.scheme()
            )
        }
        Ok(u) => format!(
            "to {}: only loopback hosts, and hosts allowed by name, receive webhooks",
            u.host_str().unwrap_or("a URL without a host")
        ),
    }
}

/// Whether a webhook may go to `url`: an http(s) URL to a loopback host, or to a host named in
/// `allowed`. The URL is read by the parser the sender connects with (a hand-split authority
/// once read `http://evil\@127.0.0.1/` as loopback, where the sender reached `evil`).
pub(crate) fn webhook_allowed(url: &str, allowed: &[String]) -> bool {
    let Some(url) = http_url(url) else {
        return false;
    };
    let named = |host: &str| allowed.iter().any(|h| h.eq_ignore_ascii_case(host));
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost") || named(name),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || named(&ip.to_string()),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback() || named(&ip.to_string()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Review round 22: each reason is said once per sandbox (a line per webhook filled an
    /// unread stderr and stopped the server), and again after a reset, for the next test.
    #[test]
    fn a_refusal_is_said_once_per_reason_until_a_reset() {
        let mut s = State::new(crate::state::Settings::for_tests());
        for _ in 0..3 {
            refused(&mut s, "https://example.com/a");
        }
        refused(&mut s, "https://example.org/b");
        assert_eq!(s.refusals_said.len(), 2);
        s.reset();
        assert!(s.refusals_said.is_empty());
        for i in 0..100 {
            refused(&mut s, &format!("https://h{i}.example/x"));
        }
        assert_eq!(s.refusals_said.len(), 64);
    }

    /// A refusal names what is wrong: a URL on another scheme was once said to be refused for
    /// its host (a loopback one).
    #[test]
    fn a_refusal_names_the_scheme_or_the_host() {
        assert_eq!(
            refusal("ftp://127.0.0.1/x?secret=1"),
            "to a ftp: URL: only http and https URLs receive webhooks"
        );
        assert!(refusal("http://example.com/h?k=s").starts_with("to example.com: only loopback"));
        assert_eq!(refusal("nonsense"), "to an unparsable URL");
    }

    #[test]
    fn webhooks_go_to_loopback_or_named_hosts_only() {
        for url in [
            "http://127.0.0.1:9/h",
            "http://localhost/x",
            "https://[::1]:8/h",
            "http://127.5.5.5",
        ] {
            assert!(webhook_allowed(url, &[]), "{url}");
        }
        for url in [
            "http://example.com/h",
            "ftp://127.0.0.1/",
            "http://10.0.0.1/",
            "http://user@evil.com/",
            "http://192.0.2.2:4790\\@127.0.0.1/bs",
            "http://127.0.0.1.evil.com/",
            "nonsense",
        ] {
            assert!(!webhook_allowed(url, &[]), "{url}");
        }
        assert!(webhook_allowed(
            "https://hooks.internal:8443/p",
            &["hooks.internal".into()]
        ));
        assert!(webhook_allowed("http://10.0.0.1/", &["10.0.0.1".into()]));
    }
}
