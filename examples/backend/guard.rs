//! What keeps a stranger from taking the server down or speaking for a user through a
//! browser: a cap on connections, deadlines on reading a request, a small body limit, the
//! host names it answers to, writes only from its own pages or from callers that are not
//! browsers, headers that keep API answers out of caches, and a bounded shutdown.
//!
//! The cap is for the whole server: behind the proxy that exposes it every client has the
//! proxy's address, so limits per client belong to that proxy.
//!
//! `axum::serve` sets none of the connection limits (no header deadline, no cap), so a
//! half-sent request head or a body sent a byte every few seconds held a connection, and its
//! memory, for as long as the sender liked, 20,000 of them used every file the process could
//! open, and one of them kept a process told to stop alive indefinitely. hyper's header
//! deadline does not run while it writes, so answers are written under a deadline of their
//! own ([`WriteDeadline`]): a client that sent requests and never read the answers held its
//! slot for good.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Connections served at once; the next waits in the kernel's queue (default 1,024).
pub const MAX_CONNECTIONS: usize = 1024;

/// The largest request body: every body this app takes (a public token, a webhook) is a few
/// kilobytes.
pub const MAX_BODY: usize = 64 * 1024;

/// How long a process told to stop waits for the requests in flight, and for the work of
/// those whose clients left, from the signal on. Longer than the Plaid calls of that work.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
const _: () = assert!(crate::app::UNRECORDED_WORST.as_secs() + 3 <= SHUTDOWN_GRACE.as_secs());

/// The guard's settings.
#[derive(Clone, Debug)]
pub struct Guard {
    /// The `Host` values this server answers to, as [`host_key`] writes them: its own address
    /// and `PUBLIC_URL`'s.
    pub hosts: Vec<String>,
    /// The origins of this server's own pages (scheme, host and port, as a browser sends them
    /// in `Origin`): `http://` on its own address and `localhost`, and `PUBLIC_URL`'s.
    pub origins: Vec<String>,
    /// The time a client has to send a request's head, and again its body; also the longest a
    /// kept-alive connection waits idle for its next request (hyper's header deadline starts
    /// when it waits for a head).
    pub read_deadline: Duration,
}

/// A `Host` value as one comparable text: the name in lower case (IPv6 in brackets) and the
/// port, left out when it is 80 (what a browser leaves out for `http://`).
fn host_key(authority: &str) -> Option<String> {
    if authority.is_empty() || authority.contains(['/', '@', '?', '#', '\\']) {
        return None;
    }
    let url = reqwest::Url::parse(&format!("http://{authority}/")).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

impl Guard {
    /// The hosts for a server listening on `local` (`127.0.0.1:PORT`) and reached at `public`
    /// (`PUBLIC_URL`: with or without its scheme's default port).
    pub fn new(local: std::net::SocketAddr, public: &str, read_deadline: Duration) -> Self {
        let port = local.port();
        let mut names = vec![local.to_string(), format!("localhost:{port}")];
        if let Ok(url) = reqwest::Url::parse(public) {
            if let Some(host) = url.host_str() {
                match url.port() {
                    Some(port) => names.push(format!("{host}:{port}")),
                    None => {
                        names.push(host.to_owned());
                        if let Some(default) = url.port_or_known_default() {
                            names.push(format!("{host}:{default}"));
                        }
                    }
                }
            }
        }
        let origins = [
            format!("http://{local}"),
            format!("http://localhost:{port}"),
            public.to_owned(),
        ]
        .iter()
        .filter_map(|url| origin_of(url))
        .collect();
        Guard {
            hosts: names.iter().filter_map(|n| host_key(n)).collect(),
            origins,
            read_deadline,
        }
    }

    fn allows(&self, host: &str) -> bool {
        host_key(host).is_some_and(|key| self.hosts.contains(&key))
    }

    /// Whether a request that changes something may be from a page of another site: its
    /// `Sec-Fetch-Site` says so, or its `Origin` is not one of this server's (`null` for a
    /// sandboxed frame or a redirect). Callers that are not browsers (Plaid's webhooks, a
    /// script) send neither. The defence does not depend on how the user is carried: the
    /// `x-user-id` stand-in needs a preflight this server never grants, a session cookie
    /// would not.
    fn sent_by_another_site(&self, headers: &axum::http::HeaderMap) -> bool {
        let text = |name| headers.get(name).map(|v| v.to_str().unwrap_or("?"));
        if let Some(site) = text("sec-fetch-site") {
            if !matches!(site, "same-origin" | "none") {
                return true;
            }
        }
        // The whole origin counts, scheme included: a page served over plain `http://` on
        // the public host (or any other scheme) is not this site's `https://` page.
        match text(header::ORIGIN.as_str()) {
            None => false,
            Some(origin) => !origin_of(origin).is_some_and(|o| self.origins.contains(&o)),
        }
    }
}

/// A URL's origin as one comparable text (`https://app.example`, the scheme's default port
/// left out, the host in lower case), for `http` and `https` only; `None` for anything else
/// (`null`, `file:`, not a URL).
fn origin_of(url: &str) -> Option<String> {
    let url = reqwest::Url::parse(url).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    Some(url.origin().ascii_serialization())
}

/// The router behind the checks of every request.
pub fn layer(router: Router, guard: Guard) -> Router {
    router.layer(axum::middleware::from_fn_with_state(Arc::new(guard), check))
}

/// Refuses a `Host` this server is not (a page whose name was re-pointed at 127.0.0.1, DNS
/// rebinding, would otherwise be same-origin with it), reads the body within the deadline and
/// the limit, and marks the answers.
async fn check(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !guard.allows(host) {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "not a host this server answers to",
        )
            .into_response();
    }
    let writes = !matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if writes && guard.sent_by_another_site(request.headers()) {
        return (StatusCode::FORBIDDEN, "a request from another site").into_response();
    }
    // The API's answers, and the offline mode's public tokens (`/dev/`).
    let api = ["/api/", "/dev/"]
        .iter()
        .any(|prefix| request.uri().path().starts_with(prefix));
    let (parts, body) = request.into_parts();
    let read = axum::body::to_bytes(body, MAX_BODY);
    let bytes = match tokio::time::timeout(guard.read_deadline, read).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body takes more than {MAX_BODY} bytes"),
            )
                .into_response()
        }
        Err(_) => {
            return (
                StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive in time",
            )
                .into_response()
        }
    };
    // Whatever a handler logs names the request it served (the path: ids, never a token).
    let span = tracing::info_span!("request", method = %parts.method, path = %parts.uri.path());
    let mut response = tracing::Instrument::instrument(
        next.run(Request::from_parts(parts, axum::body::Body::from(bytes))),
        span,
    )
    .await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if api {
        // Accounts, transactions, public tokens: never kept by a browser's or a proxy's cache.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A connection whose writes must make progress: a write the client has not made room for
/// within `deadline` fails the connection (`TimedOut`), so a client that stops reading its
/// answers gives its slot back. Each write that goes through starts the wait afresh.
pub struct WriteDeadline {
    stream: TcpStream,
    deadline: Duration,
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl WriteDeadline {
    /// `stream`, its writes bounded by `deadline`.
    pub fn new(stream: TcpStream, deadline: Duration) -> Self {
        Self {
            stream,
            deadline,
            stalled: None,
        }
    }

    /// A write's outcome: done, it clears the wait; pending, it starts or polls the wait.
    fn progress<T>(
        &mut self,
        cx: &mut Context<'_>,
        write: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if write.is_ready() {
            self.stalled = None;
            return write;
        }
        let deadline = self.deadline;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(deadline)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client has not read its answers",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for WriteDeadline {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteDeadline {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let write = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.progress(cx, write)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let write = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.progress(cx, write)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let flush = Pin::new(&mut this.stream).poll_flush(cx);
        this.progress(cx, flush)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let shutdown = Pin::new(&mut this.stream).poll_shutdown(cx);
        this.progress(cx, shutdown)
    }
}

/// Serves `router` on `listener` until `stop` completes, then lets the requests in flight
/// finish within [`SHUTDOWN_GRACE`]; returns when that grace ends, for the work the requests
/// left behind to have the rest of it.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    read_deadline: Duration,
    stop: impl Future<Output = ()>,
) -> tokio::time::Instant {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(read_deadline);
    tokio::pin!(stop);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut stop => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of files, say: wait a moment rather than spin.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let stream = WriteDeadline::new(stream, read_deadline);
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    let grace_ends = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    if tokio::time::timeout_at(grace_ends, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "stopping with requests still open after {} s",
            SHUTDOWN_GRACE.as_secs()
        );
    }
    grace_ends
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hosts_it_answers_to() {
        let local: std::net::SocketAddr = "127.0.0.1:8000".parse().unwrap();
        let guard = Guard::new(local, "https://App.Example/", Duration::from_secs(1));
        for host in [
            "127.0.0.1:8000",
            "localhost:8000",
            "LOCALHOST:8000",
            "app.example",
            "app.example:443",
        ] {
            assert!(guard.allows(host), "{host}");
        }
        for host in [
            "",
            "attacker.example:8000",
            "127.0.0.1",
            "app.example:8443",
            "user@127.0.0.1:8000",
            "127.0.0.1:8000/x",
        ] {
            assert!(!guard.allows(host), "{host}");
        }
        let on_80 = Guard::new(
            "127.0.0.1:80".parse().unwrap(),
            "http://[::1]:9/",
            Duration::from_secs(1),
        );
        for host in ["127.0.0.1", "127.0.0.1:80", "localhost", "[::1]:9"] {
            assert!(on_80.allows(host), "{host}");
        }
    }

    #[test]
    fn writes_from_its_own_pages_and_from_non_browsers_only() {
        let local: std::net::SocketAddr = "127.0.0.1:8000".parse().unwrap();
        let guard = Guard::new(local, "https://app.example", Duration::from_secs(1));
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut map = axum::http::HeaderMap::new();
            for (k, v) in pairs {
                map.insert(*k, HeaderValue::from_str(v).unwrap());
            }
            map
        };
        for own in [
            vec![],
            vec![("origin", "http://127.0.0.1:8000")],
            vec![("origin", "https://app.example")],
            vec![("origin", "https://APP.example:443")],
            vec![
                ("origin", "http://localhost:8000"),
                ("sec-fetch-site", "same-origin"),
            ],
            vec![("sec-fetch-site", "none")],
        ] {
            assert!(!guard.sent_by_another_site(&headers(&own)), "{own:?}");
        }
        for foreign in [
            vec![("origin", "https://attacker.example")],
            vec![("origin", "http://127.0.0.1:8001")],
            // The public host's origin is https; the scheme counts, not only host and port.
            vec![("origin", "http://app.example")],
            vec![("origin", "http://app.example:443")],
            vec![("origin", "https://app.example:80")],
            vec![("origin", "ws://app.example")],
            vec![("origin", "https://127.0.0.1:8000")],
            vec![("origin", "null")],
            vec![("origin", "not a url")],
            vec![("sec-fetch-site", "same-site")],
            vec![
                ("origin", "https://app.example"),
                ("sec-fetch-site", "cross-site"),
            ],
        ] {
            assert!(
                guard.sent_by_another_site(&headers(&foreign)),
                "{foreign:?}"
            );
        }
    }
}
