//! Paginators against stateful fakes, one per pagination style: exact item counts across page
//! boundaries, short pages, resuming, page-size limits, and servers that stop advancing.

mod common;

use futures_util::{StreamExt, TryStreamExt};
use plaid_sdk::pagination::{Paginated, Position};
use plaid_sdk::types::{
    InstitutionsGetRequest, PaymentInitiationPaymentListRequest, TransactionsGetRequest,
    TransferEventListRequest, TransferEventSyncRequest, TransferListRequest, WalletListRequest,
};
use plaid_sdk::Error;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

#[derive(Clone, Copy)]
enum Fake {
    /// offset + count at `options` or top level, and a total field.
    OffsetTotal {
        in_options: bool,
        total: &'static str,
        short_by: usize,
    },
    /// offset + count, no total: the last page is short.
    Offset,
    /// cursor / next_cursor.
    Cursor,
    /// after_id over `event_id`.
    AfterId,
}

/// Serves `n` items in `list`, built from the spec example's first item, in the style given.
async fn serve(
    route: &'static str,
    list: &'static str,
    id_field: &'static str,
    n: usize,
    style: Fake,
) -> MockServer {
    let spec = common::load_spec();
    let example = common::example_for(&spec, route);
    let template = example[list][0].clone();
    let items: Vec<Value> = (0..n)
        .map(|i| {
            let mut item = template.clone();
            item[id_field] = if id_field == "event_id" {
                json!(i + 1)
            } else {
                json!(format!("id-{i:05}"))
            };
            item
        })
        .collect();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(move |req: &Request| {
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            let mut reply = example.clone();
            let (page, extra): (Vec<Value>, Vec<(&str, Value)>) = match style {
                Fake::OffsetTotal {
                    in_options,
                    total,
                    short_by,
                } => {
                    let at = if in_options { &body["options"] } else { &body };
                    let (offset, count) = (
                        at["offset"].as_u64().unwrap_or(0) as usize,
                        at["count"].as_u64().unwrap() as usize,
                    );
                    let end = (offset + count.saturating_sub(short_by)).min(n);
                    (items[offset.min(n)..end].to_vec(), vec![(total, json!(n))])
                }
                Fake::Offset => {
                    let (offset, count) = (
                        body["offset"].as_u64().unwrap_or(0) as usize,
                        body["count"].as_u64().unwrap() as usize,
                    );
                    (
                        items[offset.min(n)..(offset + count).min(n)].to_vec(),
                        vec![],
                    )
                }
                Fake::Cursor => {
                    let start: usize = body
                        .get("cursor")
                        .and_then(Value::as_str)
                        .map(|c| c.parse().unwrap())
                        .unwrap_or(0);
                    let count = body["count"].as_u64().unwrap_or(10) as usize;
                    let end = (start + count).min(n);
                    let next = if end < n {
                        json!(end.to_string())
                    } else {
                        Value::Null
                    };
                    (items[start..end].to_vec(), vec![("next_cursor", next)])
                }
                Fake::AfterId => {
                    let after = body["after_id"].as_u64().unwrap_or(0) as usize;
                    let count = body["count"].as_u64().unwrap() as usize;
                    (items[after.min(n)..(after + count).min(n)].to_vec(), vec![])
                }
            };
            let served = page.len();
            reply[list] = Value::Array(page);
            if reply.get("has_more").is_some() {
                // Newer specs send has_more on some lists: keep it truthful.
                let consumed = match style {
                    Fake::Cursor => 0,
                    _ => {
                        let at = match style {
                            Fake::OffsetTotal {
                                in_options: true, ..
                            } => &body["options"],
                            _ => &body,
                        };
                        at.get("offset")
                            .or(at.get("after_id"))
                            .and_then(Value::as_u64)
                            .unwrap_or(0) as usize
                    }
                };
                reply["has_more"] = json!(consumed + served < n);
            }
            for (k, v) in extra {
                reply[k] = v;
            }
            ResponseTemplate::new(200).set_body_json(reply)
        })
        .mount(&server)
        .await;
    server
}

fn request<T: serde::de::DeserializeOwned>(body: Value) -> T {
    serde_json::from_value(body).expect("request from JSON")
}

async fn sent(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

/// 1,234 transactions served by `/transactions/get`, its total in `options`.
async fn transactions_1234() -> MockServer {
    serve(
        "/transactions/get",
        "transactions",
        "transaction_id",
        1234,
        Fake::OffsetTotal {
            in_options: true,
            total: "total_transactions",
            short_by: 0,
        },
    )
    .await
}

fn token_and_dates() -> Value {
    json!({ "access_token": common::ACCESS_TOKEN, "start_date": "2024-01-01", "end_date": "2026-11-21" })
}

#[tokio::test]
async fn offset_with_a_total_in_options_gets_every_item_once() {
    let server = transactions_1234().await;
    let client = common::client(&server);
    let items = client
        .paginate(request::<TransactionsGetRequest>(token_and_dates()))
        .all()
        .await
        .unwrap();
    let ids: HashSet<String> = items.iter().map(|t| t.transaction_id.clone()).collect();
    assert_eq!((items.len(), ids.len()), (1234, 1234));
    let bodies = sent(&server).await;
    let offsets: Vec<u64> = bodies
        .iter()
        .map(|b| b["options"]["offset"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(offsets, [0, 500, 1000], "the endpoint's largest page, 500");
    assert!(bodies.iter().all(|b| b["options"]["count"] == 500));
}

#[tokio::test]
async fn short_pages_advance_by_what_came() {
    // /institutions/get may return fewer than `count`.
    let server = serve(
        "/institutions/get",
        "institutions",
        "institution_id",
        730,
        Fake::OffsetTotal {
            in_options: false,
            total: "total",
            short_by: 17,
        },
    )
    .await;
    let client = common::client(&server);
    let req: InstitutionsGetRequest =
        request(json!({ "count": 100, "offset": 0, "country_codes": ["US"] }));
    let pages: Vec<_> = client.paginate(req).pages().try_collect().await.unwrap();
    let items: Vec<_> = pages.iter().flat_map(|p| &p.items).collect();
    let ids: HashSet<&String> = items.iter().map(|i| &i.institution_id).collect();
    assert_eq!((items.len(), ids.len()), (730, 730));
    assert!(pages.iter().all(|p| p.total == Some(730)));
    assert!(pages.last().unwrap().next.is_none());
    assert_eq!(pages.len(), 730usize.div_ceil(83));
}

#[tokio::test]
async fn offset_without_a_total_ends_on_a_short_page() {
    let server = serve("/transfer/list", "transfers", "id", 60, Fake::Offset).await;
    let items = common::client(&server)
        .paginate(request::<TransferListRequest>(json!({})))
        .all()
        .await
        .unwrap();
    assert_eq!(items.len(), 60);
    let counts: Vec<u64> = sent(&server)
        .await
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [25, 25, 25], "max page 25: pages of 25, 25, 10");
}

#[tokio::test]
async fn an_exact_multiple_of_the_page_size_ends_on_an_empty_page() {
    let server = serve("/transfer/list", "transfers", "id", 50, Fake::Offset).await;
    let items = common::client(&server)
        .paginate(request::<TransferListRequest>(json!({})))
        .all()
        .await
        .unwrap();
    assert_eq!(items.len(), 50);
    assert_eq!(sent(&server).await.len(), 3);
}

#[tokio::test]
async fn cursors_are_followed_to_the_end() {
    let server = serve("/wallet/list", "wallets", "wallet_id", 47, Fake::Cursor).await;
    let items: Vec<_> = common::client(&server)
        .paginate(request::<WalletListRequest>(json!({})))
        .items()
        .try_collect()
        .await
        .unwrap();
    let ids: HashSet<String> = items.iter().map(|w| w.wallet_id.clone()).collect();
    assert_eq!((items.len(), ids.len()), (47, 47));
    let bodies = sent(&server).await;
    assert_eq!(bodies.len(), 3, "pages of 20 (the maximum): 20, 20, 7");
    assert_eq!(bodies[1]["cursor"], "20");
}

#[tokio::test]
async fn after_id_continues_after_the_last_event() {
    let server = serve(
        "/transfer/event/sync",
        "transfer_events",
        "event_id",
        61,
        Fake::AfterId,
    )
    .await;
    let req: TransferEventSyncRequest = request(json!({ "after_id": 0, "count": 25 }));
    let items = common::client(&server).paginate(req).all().await.unwrap();
    let ids: Vec<i64> = items.iter().map(|e| e.event_id).collect();
    assert_eq!(ids, (1..=61).collect::<Vec<_>>());
    let after: Vec<u64> = sent(&server)
        .await
        .iter()
        .map(|b| b["after_id"].as_u64().unwrap())
        .collect();
    assert_eq!(after, [0, 25, 50]);
    // Round 13: the last page says where the next poll starts (its `next` is `None`).
    let req: TransferEventSyncRequest = request(json!({ "after_id": 0, "count": 25 }));
    let pages: Vec<_> = common::client(&server)
        .paginate(req)
        .pages()
        .try_collect()
        .await
        .unwrap();
    let last = pages.last().unwrap();
    assert_eq!(last.next, None);
    assert_eq!(last.resume, Some(Position::AfterId("61".into())));
    let req: TransferEventSyncRequest = request(json!({ "after_id": 0, "count": 25 }));
    let since = common::client(&server)
        .paginate(req)
        .resume_from(last.resume.clone().unwrap())
        .pages()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert_eq!(since.len(), 1);
    assert!(since[0].items.is_empty());
    assert_eq!(since[0].resume, Some(Position::AfterId("61".into())));
}

#[tokio::test]
async fn a_listing_resumes_from_a_stored_position() {
    let server = transactions_1234().await;
    let client = common::client(&server);
    let req: TransactionsGetRequest = request(token_and_dates());
    let first: Vec<_> = client
        .paginate(req.clone())
        .pages()
        .take(1)
        .try_collect()
        .await
        .unwrap();
    let stored = serde_json::to_string(first[0].next.as_ref().unwrap()).unwrap();
    assert_eq!(stored, r#"{"offset":500}"#);
    let resumed = client
        .paginate(req)
        .resume_from(serde_json::from_str::<Position>(&stored).unwrap())
        .all()
        .await
        .unwrap();
    let mut ids: Vec<String> = first[0]
        .items
        .iter()
        .chain(&resumed)
        .map(|t| t.transaction_id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1234);
}

#[tokio::test]
async fn a_page_size_over_the_endpoint_maximum_is_refused_before_sending() {
    let server = MockServer::start().await;
    let req: TransferListRequest = request(json!({ "count": 100 }));
    assert_eq!(TransferListRequest::PAGINATION.max_page_size, Some(25));
    let e = common::client(&server)
        .paginate(req)
        .all()
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidRequest { message, .. } if message.contains("maximum of 25")),
        "{e}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_server_that_repeats_a_cursor_ends_the_stream_with_an_error() {
    let spec = common::load_spec();
    let mut reply = common::example_for(&spec, "/wallet/list");
    reply["next_cursor"] = json!("stuck");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(reply))
        .mount(&server)
        .await;
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        common::client(&server)
            .paginate(request::<WalletListRequest>(json!({})))
            .all(),
    )
    .await
    .expect("the stream ends instead of hanging");
    let e = result.unwrap_err();
    assert!(matches!(&e, Error::Pagination { .. }), "{e}");
    assert_eq!(sent(&server).await.len(), 2);
}

#[tokio::test]
async fn an_offset_that_stops_moving_is_an_error() {
    let spec = common::load_spec();
    let mut reply = common::example_for(&spec, "/transactions/get");
    reply["transactions"] = json!([]);
    reply["total_transactions"] = json!(10);
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(reply))
        .mount(&server)
        .await;
    let e = common::client(&server)
        .paginate(request::<TransactionsGetRequest>(token_and_dates()))
        .all()
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Pagination { reason, .. } if reason.contains("empty page")),
        "{e}"
    );
}

#[tokio::test]
async fn an_error_ends_the_stream_after_the_pages_before_it() {
    let server = MockServer::start().await;
    let spec = common::load_spec();
    let mut reply = common::example_for(&spec, "/wallet/list");
    reply["next_cursor"] = json!("2");
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(reply))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(400).set_body_json(json!({
        "error_type": "INVALID_INPUT", "error_code": "INVALID_CURSOR", "error_message": "m", "display_message": null, "request_id": "r",
    }))).mount(&server).await;
    let results: Vec<_> = common::client(&server)
        .paginate(request::<WalletListRequest>(json!({})))
        .pages()
        .collect()
        .await;
    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok() && results[1].is_err());
}

/// Review round 7: a listing whose request set its own `offset` started there, then went
/// back: the next offset was counted from 0 (`[2, 2, 4]` on `/institutions/get`, items 2
/// and 3 twice), and the first page's `next` said `Offset(2)`. Before the fix the first
/// page's `next` below was `Offset(500)`.
#[tokio::test]
async fn a_listing_starts_where_the_request_points() {
    let server = transactions_1234().await;
    let client = common::client(&server);
    let mut body = token_and_dates();
    body["options"] = json!({ "offset": 200 });
    let req: TransactionsGetRequest = request(body);
    assert_eq!(req.position(), Some(Position::Offset(200)));
    let pages: Vec<_> = client.paginate(req).pages().try_collect().await.unwrap();
    assert_eq!(pages[0].next, Some(Position::Offset(700)));
    let items: Vec<_> = pages.iter().flat_map(|p| &p.items).collect();
    let ids: HashSet<&String> = items.iter().map(|t| &t.transaction_id).collect();
    assert_eq!(
        (items.len(), ids.len()),
        (1034, 1034),
        "each item once, from 200 on"
    );
    let offsets: Vec<u64> = sent(&server)
        .await
        .iter()
        .map(|b| b["options"]["offset"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(offsets, [200, 700, 1200]);
}

/// Serves `n` transfer events on `route`, at most `cap` per call whatever `count` asks,
/// with a truthful `has_more` (Plaid's own example: one event and `has_more: true`); from
/// call `empty_from` on, an empty page that still says `has_more: true`.
async fn capped_events(route: &'static str, n: u64, cap: u64, empty_from: usize) -> MockServer {
    let spec = common::load_spec();
    let example = common::example_for(&spec, route);
    let template = example["transfer_events"][0].clone();
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(move |req: &Request| {
            let call = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            let start = body
                .get("after_id")
                .or(body.get("offset"))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let count = body["count"].as_u64().unwrap().min(cap);
            let end = if call >= empty_from {
                start
            } else {
                (start + count).min(n)
            };
            let events: Vec<Value> = (start + 1..=end)
                .map(|id| {
                    let mut event = template.clone();
                    event["event_id"] = json!(id);
                    event
                })
                .collect();
            let mut reply = example.clone();
            reply["transfer_events"] = Value::Array(events);
            reply["has_more"] = json!(call >= empty_from || end < n);
            ResponseTemplate::new(200).set_body_json(reply)
        })
        .mount(&server)
        .await;
    server
}

/// Review round 11: `/transfer/event/sync` answered a page shorter than asked with
/// `has_more: true` (Plaid serves fewer than `count` when it likes), and the paginator took
/// the short page for the last: 10 of 30 events, no error, `next: None`. Before the fix this
/// collected 10.
#[tokio::test]
async fn after_id_follows_has_more_past_a_short_page() {
    if !TransferEventSyncRequest::PAGINATION.has_more {
        // The older spec (1.482.3) has no `has_more` here: a short page is the only end.
        return;
    }
    let server = capped_events("/transfer/event/sync", 30, 10, usize::MAX).await;
    let req: TransferEventSyncRequest = request(json!({ "after_id": 0 }));
    let items = common::client(&server).paginate(req).all().await.unwrap();
    let ids: Vec<i64> = items.iter().map(|e| e.event_id).collect();
    assert_eq!(ids, (1..=30).collect::<Vec<_>>());
    let after: Vec<u64> = sent(&server)
        .await
        .iter()
        .map(|b| b["after_id"].as_u64().unwrap())
        .collect();
    assert_eq!(after, [0, 10, 20]);
}

/// Review round 11: an empty page that says more follow ended the listing as complete, on
/// offset listings without a total (`/transfer/event/list`) and `after_id` ones alike. It
/// is the server contradicting itself: an error, after the pages before it. Before the fix
/// both listings ended `Ok`.
#[tokio::test]
async fn an_empty_page_that_says_more_follow_is_an_error() {
    if !TransferEventSyncRequest::PAGINATION.has_more {
        return;
    }
    let server = capped_events("/transfer/event/list", 100, 25, 1).await;
    let req: TransferEventListRequest = request(json!({}));
    let pages: Vec<_> = common::client(&server)
        .paginate(req)
        .pages()
        .collect()
        .await;
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].as_ref().unwrap().items.len(), 25);
    assert!(
        matches!(&pages[1], Err(Error::Pagination { reason, .. }) if reason.contains("empty page")),
        "{:?}",
        pages[1]
    );

    let server = capped_events("/transfer/event/sync", 100, 25, 1).await;
    let req: TransferEventSyncRequest = request(json!({ "after_id": 0 }));
    let result = common::client(&server).paginate(req).all().await;
    assert!(
        matches!(&result, Err(Error::Pagination { reason, .. }) if reason.contains("empty page")),
        "{result:?}"
    );
}

/// Review round 11: a stored position of another kind, or one its field cannot hold, was
/// dropped without a word: a cursor given to an offset listing restarted it at offset 0
/// (items repeated), and a cursor that is not a date-time on a listing whose cursor is one
/// sent `1970-01-01T00:00:00Z` (an empty listing, `Ok`). Both are the caller's mistake:
/// refused before sending. Before the fix both sent a request and ended `Ok`.
#[tokio::test]
async fn a_stored_position_the_listing_cannot_use_is_refused_before_sending() {
    let server = MockServer::start().await;
    let client = common::client(&server);
    let result = client
        .paginate(request::<TransferListRequest>(json!({})))
        .resume_from(Position::Cursor("abc".into()))
        .all()
        .await;
    assert!(
        matches!(&result, Err(Error::InvalidRequest { message, .. }) if message.contains("cursor") && message.contains("offset")),
        "{result:?}"
    );
    let result = client
        .paginate(request::<PaymentInitiationPaymentListRequest>(json!({})))
        .resume_from(Position::Cursor("yesterday at ten".into()))
        .all()
        .await;
    assert!(
        matches!(&result, Err(Error::InvalidRequest { message, .. }) if message.contains("date-time")),
        "{result:?}"
    );
    assert!(sent(&server).await.is_empty(), "nothing sent");
}
