//! What the client offers when it opens TLS to Plaid, read from the bytes it sends: a local
//! listener takes the ClientHello and parses it (RFC 8446 §4.1.2), so the check depends on the
//! wire, not on the TLS library's own account of itself.
//!
//! The point: access tokens live for years, so traffic recorded today must not be readable
//! by a quantum computer later. rustls on aws-lc-rs (reqwest's default, this crate's) offers
//! the hybrid X25519MLKEM768 key exchange first; rustls on `ring` cannot (rustls 0.23.48
//! deprecates ring's provider for it). This test fails if a dependency change swaps the
//! provider (benches/README.md says why this crate keeps aws-lc-rs).
#![cfg(feature = "rustls")]

use plaid_sdk::types::ItemGetRequest;
use plaid_sdk::{PlaidClient, RetryPolicy};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

/// X25519MLKEM768's code point in the TLS supported groups registry.
const X25519_MLKEM768: u16 = 0x11ec;
/// X25519's.
const X25519: u16 = 0x001d;

/// The groups of the `supported_groups` extension and those of the `key_share` extension's
/// shares, from a ClientHello handshake message; `None` if it is not one.
fn groups(hello: &[u8]) -> Option<(Vec<u16>, Vec<u16>)> {
    let mut r = Reader(hello);
    (r.u8()? == 1).then_some(())?; // client_hello
    let mut body = Reader(r.vec24()?);
    body.bytes(2 + 32)?; // legacy_version, random
    body.vec8()?; // legacy_session_id
    body.vec16()?; // cipher_suites
    body.vec8()?; // legacy_compression_methods
    let mut extensions = Reader(body.vec16()?);
    let (mut supported, mut shared) = (Vec::new(), Vec::new());
    while !extensions.0.is_empty() {
        let kind = extensions.u16()?;
        let mut data = Reader(extensions.vec16()?);
        match kind {
            0x000a => {
                let mut list = Reader(data.vec16()?);
                while !list.0.is_empty() {
                    supported.push(list.u16()?);
                }
            }
            0x0033 => {
                let mut shares = Reader(data.vec16()?);
                while !shares.0.is_empty() {
                    shared.push(shares.u16()?);
                    shares.vec16()?; // key_exchange
                }
            }
            _ => {}
        }
    }
    Some((supported, shared))
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.bytes(1)?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        let b = self.bytes(2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u24(&mut self) -> Option<usize> {
        let b = self.bytes(3)?;
        Some(usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
    }
    /// A vector with a one-, two- or three-byte length in front (RFC 8446 §3.4).
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.bytes(usize::from(n))
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.bytes(usize::from(n))
    }
    fn vec24(&mut self) -> Option<&'a [u8]> {
        let n = self.u24()?;
        self.bytes(n)
    }
}

/// The handshake bytes of the first TLS records a connection sends, up to one whole message.
async fn client_hello(listener: TcpListener) -> Vec<u8> {
    let (mut socket, _) = listener.accept().await.unwrap();
    let mut handshake = Vec::new();
    loop {
        let mut header = [0u8; 5];
        socket.read_exact(&mut header).await.unwrap();
        assert_eq!(header[0], 22, "a TLS handshake record");
        let mut record = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
        socket.read_exact(&mut record).await.unwrap();
        handshake.extend_from_slice(&record);
        if handshake.len() >= 4 {
            let length = usize::from(handshake[1]) << 16
                | usize::from(handshake[2]) << 8
                | usize::from(handshake[3]);
            if handshake.len() >= 4 + length {
                return handshake;
            }
        }
    }
}

#[tokio::test]
async fn the_client_offers_post_quantum_key_exchange_first() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hello = tokio::spawn(client_hello(listener));
    // reqwest's TLS set-up, the one the client builds its own HTTP client with, with the
    // environment's proxies off (an HTTPS_PROXY on the machine running the test would
    // otherwise receive the connection).
    let client = PlaidClient::builder()
        .client_id("client-id")
        .secret("secret")
        .base_url(format!("https://127.0.0.1:{port}"))
        .http_client(reqwest::Client::builder().no_proxy())
        .retry_policy(RetryPolicy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let call = tokio::spawn(async move {
        client
            .item_get(&ItemGetRequest::new("access-sandbox-tls"))
            .await
    });
    let hello = match tokio::time::timeout(Duration::from_secs(30), hello).await {
        Ok(hello) => hello.unwrap(),
        Err(_) => panic!(
            "no connection in 30 s; the call ended with {:?}",
            call.await.unwrap().err()
        ),
    };
    // The listener is gone and the handshake was never answered: the call fails.
    assert!(call.await.unwrap().is_err());

    let (supported, shared) = groups(&hello).expect("a ClientHello");
    assert_eq!(
        supported.first(),
        Some(&X25519_MLKEM768),
        "supported groups {supported:04x?}"
    );
    assert!(
        shared.contains(&X25519_MLKEM768),
        "key shares {shared:04x?}: no post-quantum share, so a server that supports it needs \
         an extra round trip or falls back to a classical group"
    );
    assert!(supported.contains(&X25519), "a classical fallback too");
    println!("supported groups {supported:04x?}, key shares {shared:04x?}");
}

#[test]
fn the_parser_reads_a_client_hello_and_refuses_anything_else() {
    // A minimal ClientHello: no session id, one suite, null compression, supported_groups
    // [X25519MLKEM768, X25519] and one key share for X25519.
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0u8; 32]);
    body.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
    let extensions: Vec<u8> = [
        &[0x00, 0x0a, 0, 6, 0, 4, 0x11, 0xec, 0x00, 0x1d][..],
        &[0x00, 0x33, 0, 8, 0, 6, 0x00, 0x1d, 0, 2, 0xaa, 0xbb][..],
    ]
    .concat();
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend_from_slice(&extensions);
    let mut hello = vec![1, 0, 0, body.len() as u8];
    hello.extend_from_slice(&body);
    assert_eq!(
        groups(&hello),
        Some((vec![X25519_MLKEM768, X25519], vec![X25519]))
    );
    assert_eq!(groups(&hello[..hello.len() - 1]), None, "truncated");
    hello[0] = 2;
    assert_eq!(groups(&hello), None, "a ServerHello");
}
