"""The /transactions/sync loop with the official plaid-python SDK, as Plaid's docs write it.

Usage: python sync_python.py <base-url>. Prints one JSON line: transactions, pages, seconds.
"""
import json
import sys
import time

import plaid
from plaid.api import plaid_api
from plaid.model.transactions_sync_request import TransactionsSyncRequest

configuration = plaid.Configuration(
    host=sys.argv[1],
    api_key={"clientId": "bench-client", "secret": "bench-secret"},
)
client = plaid_api.PlaidApi(plaid.ApiClient(configuration))

start = time.perf_counter()
cursor = None
added, pages, has_more = [], 0, True
while has_more:
    kwargs = {"access_token": "access-sandbox-bench", "count": 500}
    if cursor:
        kwargs["cursor"] = cursor
    response = client.transactions_sync(TransactionsSyncRequest(**kwargs))
    added.extend(response["added"])
    has_more = response["has_more"]
    cursor = response["next_cursor"]
    pages += 1
elapsed = time.perf_counter() - start
print(json.dumps({"transactions": len(added), "pages": pages, "seconds": round(elapsed, 4)}))
