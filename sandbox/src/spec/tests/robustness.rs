//! No panic on any input: random bodies against every operation, and randomly damaged specs.

use crate::spec::SpecIndex;
use serde_json::{json, Map, Value};

/// xorshift64*: a small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn value(&mut self, keys: &[String], depth: usize) -> Value {
        let kinds = if depth > 3 { 6 } else { 8 };
        match self.below(kinds) {
            0 => Value::Null,
            1 => json!(self.below(2) == 0),
            2 => json!(self.below(1000) as i64 - 500),
            3 => json!((self.below(10_000) as f64) / 7.0),
            4 => json!(
                ["", "2024-02-30", "é\u{0}", "https://x.io", "US", "4.1"][self.below(6) as usize]
            ),
            5 => json!(self.below(u64::MAX)),
            6 => Value::Array(
                (0..self.below(4))
                    .map(|_| self.value(keys, depth + 1))
                    .collect(),
            ),
            _ => {
                let mut map = Map::new();
                for _ in 0..self.below(6) {
                    let key = keys
                        .get(self.below(keys.len() as u64 + 2) as usize)
                        .cloned()
                        .unwrap_or_else(|| "client_id".to_owned());
                    map.insert(key, self.value(keys, depth + 1));
                }
                Value::Object(map)
            }
        }
    }
}

fn keys_of(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                if !out.contains(k) {
                    out.push(k.clone());
                }
                keys_of(x, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|x| keys_of(x, out)),
        _ => {}
    }
}

#[test]
fn random_bodies_never_panic() {
    let index = super::common::index(super::common::VENDORED);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for op in index.operations() {
        let mut keys = Vec::new();
        keys_of(
            &index.synthesize_request(op, crate::spec::Fill::All, 0),
            &mut keys,
        );
        if let crate::spec::Answer::Json(b) = index.answer(op, &json!({}), "r", 0) {
            keys_of(&b, &mut keys);
        }
        for _ in 0..12 {
            let body = rng.value(&keys, 0);
            let _ = index.check_request(op, &body);
            let _ = index.check_response(op, &body);
            if let crate::spec::Answer::Json(b) = index.answer(op, &body, "r", rng.next()) {
                assert!(
                    index.check_response(op, &b).is_empty(),
                    "{}",
                    op.operation_id
                );
            }
        }
    }
}

/// Replaces a random node of `v` with `with`.
fn damage(v: &mut Value, rng: &mut Rng, with: Value) {
    let stop = rng.below(6) == 0;
    match v {
        Value::Object(map) if !map.is_empty() && !stop => {
            let i = rng.below(map.len() as u64) as usize;
            let key = map.keys().nth(i).cloned().unwrap();
            damage(map.get_mut(&key).unwrap(), rng, with);
        }
        Value::Array(items) if !items.is_empty() && !stop => {
            let i = rng.below(items.len() as u64) as usize;
            damage(&mut items[i], rng, with);
        }
        _ => *v = with,
    }
}

#[test]
fn damaged_specs_are_errors_or_work_but_never_panic() {
    let digest = SpecIndex::digest(super::common::spec(super::common::OLDEST));
    let mut rng = Rng(42);
    let (mut refused, mut built) = (0, 0);
    for round in 0..40 {
        let mut spec = digest.clone();
        for _ in 0..(1 + round % 5) {
            let with = rng.value(
                &[
                    "type".into(),
                    "$ref".into(),
                    "items".into(),
                    "allOf".into(),
                    "enum".into(),
                ],
                2,
            );
            // Keep the damage inside components now and then, where it reaches schemas.
            if rng.below(2) == 0 {
                damage(&mut spec["components"]["schemas"], &mut rng, with);
            } else {
                damage(&mut spec["paths"], &mut rng, with);
            }
        }
        match SpecIndex::new(spec) {
            Err(_) => refused += 1,
            Ok(index) => {
                built += 1;
                for op in index.operations() {
                    let _ = index.check_request(op, &json!({}));
                    let request = index.synthesize_request(op, crate::spec::Fill::All, 0);
                    let _ = index.check_request(op, &request);
                    let _ = index.answer(op, &request, "r", 0);
                }
            }
        }
    }
    println!("damaged specs: {refused} refused, {built} built");
}
