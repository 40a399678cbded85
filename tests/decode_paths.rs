//! Decode errors name the JSON path that failed. The client finds it from the error's position
//! in the body; this test checks it against `serde_path_to_error`, which tracks the path during
//! deserialization, on the spec's own examples with a value of the wrong type planted, or a
//! field removed, at random places.

mod common;

use plaid_sdk::types::{AccountsGetResponse, ItemGetResponse, TransactionsSyncResponse};
use plaid_sdk::{Error, RawResponse};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Every leaf of a document, as a list of pointer segments.
fn leaves(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, c)| {
            at.push(k.clone());
            leaves(c, at, out);
            at.pop();
        }),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, c)| {
            at.push(i.to_string());
            leaves(c, at, out);
            at.pop();
        }),
        _ => out.push(at.clone()),
    }
}

fn check<T: DeserializeOwned>(route: &str, seed: u64, pretty: bool) -> usize {
    let spec = common::load_spec();
    let example = common::example_for(&spec, route);
    let mut all = Vec::new();
    leaves(&example, &mut Vec::new(), &mut all);
    let mut rng = Rng(seed);
    let mut compared = 0;
    for _ in 0..200 {
        let mut doc = example.clone();
        let target = &all[rng.below(all.len())];
        let pointer = format!("/{}", target.join("/"));
        // Mostly a value of the wrong type; sometimes a required field removed instead.
        if rng.below(4) == 0 {
            let (parent, last) = pointer.rsplit_once('/').unwrap();
            if let Some(Value::Object(map)) =
                doc.pointer_mut(if parent.is_empty() { "" } else { parent })
            {
                map.remove(last);
            }
        } else {
            let replacement = match doc.pointer(&pointer) {
                Some(Value::String(_)) => serde_json::json!({ "not": "a string" }),
                Some(Value::Number(_)) => Value::String("not a number".into()),
                Some(Value::Bool(_)) => serde_json::json!([1]),
                _ => serde_json::json!(7),
            };
            *doc.pointer_mut(&pointer).unwrap() = replacement;
        }
        let body = if pretty {
            serde_json::to_vec_pretty(&doc)
        } else {
            serde_json::to_vec(&doc)
        }
        .unwrap();

        let reference = match serde_path_to_error::deserialize::<_, T>(
            &mut serde_json::Deserializer::from_slice(&body),
        ) {
            Ok(_) => continue, // the planted value was accepted (e.g. a free-form field)
            Err(e) => e.path().to_string(),
        };
        let ours = match RawResponse::new("test", 200, body.clone()).json::<T>() {
            Err(Error::Decode { path, .. }) => path,
            other => panic!(
                "expected a decode error for {pointer}, got {:?}",
                other.map(|_| ())
            ),
        };
        assert_eq!(
            ours, reference,
            "{route}: value at {pointer} (pretty: {pretty})"
        );
        compared += 1;
    }
    compared
}

#[test]
fn paths_match_serde_path_to_error_on_mutated_spec_examples() {
    let mut compared = 0;
    for (seed, pretty) in [(1, false), (2, true)] {
        compared += check::<AccountsGetResponse>("/accounts/get", seed, pretty);
        compared += check::<ItemGetResponse>("/item/get", seed + 10, pretty);
        compared += check::<TransactionsSyncResponse>("/transactions/sync", seed + 20, pretty);
    }
    assert!(
        compared > 500,
        "only {compared} mutations produced a decode error"
    );
}
