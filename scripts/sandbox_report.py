"""Judges what Prism's validating proxy saw in front of the offline sandbox.

    python3 scripts/sandbox_report.py REPORT SPEC_VERSION

REPORT is the file the sandbox appends to when PLAID_SANDBOX_PRISM_REPORT names it (see
sandbox/src/proxy.rs): `answer <path> <status>` and `violation <severity> <path> <where> <message>`
lines. Fails when an answer of the sandbox breaks the spec (a response violation of severity
error) that tests/sandbox_proxy_artefacts.json does not list, when a listed artefact was not seen
(so the list cannot rot), or when an operation of the spec (every one: the sandbox answers them
all) was not seen answering both a success and an error. Request violations are the tests' own deliberately bad requests; warnings
that the spec documents no answer for a status are the spec's gaps (errors on operations that
document only their success); both are counted, not failed. A success (2xx) the spec does not
document for its operation fails: Prism only warns about it and cannot check its body.
"""
import json
import os
import re
import sys
from collections import Counter, defaultdict

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
report, version = sys.argv[1], sys.argv[2]
spec = json.load(open(os.path.join(root, "spec/plaid.json")))
served = sorted(p for p, item in spec["paths"].items()
                if any(m in item for m in ("get", "post", "put", "delete", "patch")))
# A templated path (`/fdx/recipients/{recipientId}`) matches the paths called with a value.
patterns = {p: re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(p)) + "$") for p in served}
# The statuses each operation documents.
responses = {p: next(item[m].get("responses", {}) for m in ("get", "post", "put", "delete", "patch") if m in item)
             for p, item in spec["paths"].items() if p in served}
artefacts = [a for a in json.load(open(os.path.join(root, "tests/sandbox_proxy_artefacts.json"))) if a["spec"] in ("*", version)]

answers = defaultdict(Counter)
problems, seen_artefacts = [], Counter()
requests = gaps = 0
for line in open(report, encoding="utf-8", errors="replace"):
    kind, _, rest = line.rstrip("\n").partition(" ")
    if kind == "answer":
        path, status = rest.rsplit(" ", 1)
        answers[path][status[0] + "xx"] += 1
        # A success the spec does not document: Prism only warns, and has no schema to check it
        # by, so it is judged here.
        documented = next((responses[p] for p in served if patterns[p].match(path)), None)
        if status.startswith("2") and documented is not None and status not in documented:
            problems.append(f"{path}: answered {status}, which the spec does not document")
    elif kind == "violation":
        severity, path, what = rest.split(" ", 2)
        if what.startswith("request"):
            requests += 1
        elif severity != "error":
            gaps += 1
        else:
            match = next((a for a in artefacts if a["path"] == path and a["contains"] in what), None)
            if match:
                seen_artefacts[json.dumps(match, sort_keys=True)] += 1
            else:
                problems.append(f"{path}: {what}")
for a in artefacts:
    if json.dumps(a, sort_keys=True) not in seen_artefacts:
        problems.append(f"listed artefact not seen (take it off tests/sandbox_proxy_artefacts.json): {a['path']}: {a['contains']}")
for path in served:
    seen = Counter()
    for called, counts in answers.items():
        if called == path or patterns[path].match(called):
            seen.update(counts)
    if not seen["2xx"] or not seen["4xx"]:
        problems.append(f"{path}: not seen answering both a success and an error through Prism ({dict(seen)})")

total = sum(sum(c.values()) for c in answers.values())
print(f"sandbox behind prism proxy {version}: {total} answers on {len(answers)} paths, "
      f"every one of the spec's {len(served)} operations' paths with a success and an error; "
      f"{len(problems)} failed, {sum(seen_artefacts.values())} listed spec artefacts, "
      f"{gaps} answers to statuses the spec does not document, {requests} deliberately bad requests")
for problem in sorted(set(problems)):
    print(f"  {problem}")
sys.exit(1 if problems else 0)
