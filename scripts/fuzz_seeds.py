"""Writes seed inputs for the fuzz targets from the vendored spec's own examples.

parse_responses: one byte naming the operation (its index in the target's OPERATIONS), then
the spec's example response. webhook_verify: mode byte 1 (signed by the target), a newline,
then each webhook schema's example body; mode 0 with malformed tokens; mode 2 with hostile JWT
headers and claims (an iat of i64::MIN, crit), signed by the target.
"""
import json
import os
import sys


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = json.load(open(os.path.join(ROOT, "spec", "plaid.json"), encoding="utf-8"))
out = os.path.join(ROOT, "fuzz", "corpus")

# The order of OPERATIONS in fuzz/fuzz_targets/parse_responses.rs, with each one's path.
OPERATIONS = [
    "/transactions/sync", "/transactions/get", "/accounts/get",
    "/investments/transactions/get", "/investments/holdings/get", "/asset_report/get",
    "/liabilities/get", "/identity/get", "/auth/get", "/item/get", "/link/token/create",
    "/webhook_verification_key/get",
]


def example(media):
    if "example" in media:
        return media["example"]
    for ex in (media.get("examples") or {}).values():
        if "value" in ex:
            return ex["value"]
    return None


def write(target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)


count = 0
for i, path in enumerate(OPERATIONS):
    media = spec["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]
    ex = example(media)
    if ex is not None:
        write("parse_responses", f"seed-{i:02d}", bytes([i]) + json.dumps(ex, indent=2).encode())
        count += 1

for name, schema in spec["components"]["schemas"].items():
    if name.endswith("Webhook") and isinstance(schema.get("example"), dict):
        write("webhook_verify", f"seed-{name}", b"\x01\n" + json.dumps(schema["example"], indent=2).encode())
        count += 1
for i, token in enumerate([b"", b"a.b.c", b"eyJhbGciOiJub25lIn0.e30.", b"x" * 300]):
    write("webhook_verify", f"seed-token-{i}", b"\x00" + token + b'\n{"webhook_type":"ITEM"}')
    count += 1
# Mode 2: header and claims of any value, signed by the target.
body = b'{"webhook_type":"ITEM","webhook_code":"ERROR"}'
for i, (header, claims) in enumerate([
    (b'{"alg":"ES256","kid":"k","typ":"JWT"}', b'{"iat":-9223372036854775808,"request_body_sha256":"00"}'),
    (b'{"alg":"ES256","kid":"k","crit":["b64"],"b64":false}', b'{"iat":1700000000}'),
    (b'{"alg":"ES256","kid":""}', b'{"iat":9223372036854775807,"request_body_sha256":null}'),
    (b'[]', b'"claims"'),
]):
    write("webhook_verify", f"seed-claims-{i}", b"\x02" + header + b"\n" + claims + b"\n" + body)
    count += 1
print(f"{count} seeds in {out}")
