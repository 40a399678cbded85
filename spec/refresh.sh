#!/usr/bin/env bash
# Vendors a Plaid OpenAPI spec as spec/plaid.json, records where it came from in
# spec/README.md, and prints what changed against the spec vendored before (the report that
# goes into CHANGELOG.md: operations, request and response fields, enum values; breaking
# changes marked).
#
#   spec/refresh.sh FILE [COMMIT [DATE]]
#
# FILE is Plaid's `2020-09-14.yml` from the public repository plaid/plaid-openapi (or any
# newer spec, JSON or YAML); COMMIT and DATE are that repository's commit the file was taken
# from, for the record. The file is converted to JSON with the build's own reader
# (`plaid-spec to-json`, serde_yaml_ng; keys sorted), so building from plaid.json and from
# FILE generate the same code; running this twice on one file gives identical output.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
src=${1:?usage: spec/refresh.sh FILE [COMMIT [DATE]]}
commit=${2:-unknown}
date=${3:-unknown}
input=$(realpath "$src")

tool() { cargo run -q -p plaid-sdk-codegen --bin plaid-spec -- "$@"; }
previous=$(mktemp)
trap 'rm -f "$previous"' EXIT
cp spec/plaid.json "$previous"
tool to-json "$input" spec/plaid.json

version=$(grep -m1 -oE '"version": "[^"]+"' spec/plaid.json | cut -d'"' -f4)
input_sha=$(sha256sum "$input" | cut -d' ' -f1)
json_sha=$(sha256sum spec/plaid.json | cut -d' ' -f1)
terms=$(grep -m1 -oE '"termsOfService": "[^"]+"' spec/plaid.json | cut -d'"' -f4)

cat >spec/README.md <<README
# The vendored Plaid OpenAPI spec

\`plaid.json\` is the spec \`build.rs\` generates the SDK from. It is written by
\`spec/refresh.sh\`; never edit it by hand (the build normalizes it on the fly instead, see
\`codegen/src/normalize.rs\`).

| | |
|---|---|
| spec \`info.version\` | \`$version\` |
| source | Plaid's public repository \`plaid/plaid-openapi\`, file \`2020-09-14.yml\`, commit \`$commit\` ($date) |
| source file sha256 | \`$input_sha\` |
| \`plaid.json\` | converted from YAML to JSON by \`plaid-spec to-json\` (the build's reader, serde_yaml_ng; keys sorted) |
| \`plaid.json\` sha256 | \`$json_sha\` |
| terms | \`plaid/plaid-openapi\` has no licence file. Plaid publishes the spec to document its API and to generate client libraries; the spec's \`info.termsOfService\` is \`$terms\`, Plaid's legal terms. No other licence is granted; this crate's own MIT OR Apache-2.0 licence does not cover it. |

## Refreshing

    spec/refresh.sh /path/to/2020-09-14.yml COMMIT DATE

takes Plaid's spec file (JSON or YAML) from \`plaid/plaid-openapi\` at COMMIT, writes
\`plaid.json\` and this file, and prints what changed since the spec vendored before:
operations added and removed; request fields added, removed, made required or optional;
response fields added, removed, made required or optional; enum values added and removed;
breaking changes marked. That report goes into \`CHANGELOG.md\`. It is also
\`cargo run -p plaid-sdk-codegen --bin plaid-spec -- diff OLD NEW\`.

The vendored file is JSON because the build script, compiled without optimization, parses it
several times faster than the same spec in YAML. \`tests/spec_file.rs\` checks this file's
hashes and version, and, where the source file is at hand (\`../shared/specs\` in CI), that
\`plaid.json\` holds exactly what the YAML says.

## Building against another spec without refreshing

    PLAID_OPENAPI_SPEC=/path/to/2020-09-14.yml cargo build

The file may be JSON or YAML. \`build.rs\` reads it instead of \`plaid.json\` and reruns when
the file or the variable changes. CI builds and tests every spec in \`../shared/specs\` this way.
README

echo "spec/plaid.json <- $(basename "$input") ($version)"
echo
tool diff "$previous" spec/plaid.json
