#!/usr/bin/env bash
# Refresh the vendored Plaid OpenAPI spec (spec/plaid.yml) and spec/README.md.
#
#   spec/refresh.sh                                  # the default package below
#   spec/refresh.sh npm:@opensdks/sdk-plaid@0.0.14   # a package from the npm registry
#   spec/refresh.sh /path/to/2020-09-14.yml          # a local file (JSON or YAML)
#
# The conversion to YAML is deterministic (PyYAML, pinned, keys in source order),
# so running this twice on the same input gives byte-identical output.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${1:-npm:@opensdks/sdk-plaid@0.0.14}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ $src == npm:* ]]; then
  pkg=${src#npm:}
  (cd "$work" && npm pack --silent "$pkg" >/dev/null)
  tarball=$(ls "$work"/*.tgz)
  tar -xzf "$tarball" -C "$work"
  input=$( (ls "$work"/package/*.oas.json "$work"/package/api/plaid.com.json 2>/dev/null || true) | head -n 1)
  [[ -n $input ]] || { echo "no Plaid spec found in $pkg" >&2; exit 1; }
  origin="npm package \`$pkg\`, file \`${input#"$work"/}\`"
  package_sha=$(sha256sum "$tarball" | cut -d' ' -f1)
  licence_file=$( (ls "$work"/package/LICENSE* 2>/dev/null || true) | head -n 1)
  licence=$(head -n 1 "${licence_file:-/dev/null}" 2>/dev/null || true)
  licence=${licence:-unknown (no licence file in the package)}
else
  input=$(realpath "$src")
  origin="local file \`$(basename "$input")\`"
  package_sha="n/a"
  licence="MIT (Plaid publishes its OpenAPI spec under the MIT licence)"
fi

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check pyyaml==6.0.2
"$work/venv/bin/python" - "$input" "$here/plaid.yml" <<'PY'
import json, sys, yaml
src, dst = sys.argv[1], sys.argv[2]
with open(src, encoding="utf-8") as f:
    text = f.read()
doc = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
with open(dst, "w", encoding="utf-8") as f:
    yaml.safe_dump(doc, f, sort_keys=False, allow_unicode=True, width=100)
PY

version=$("$work/venv/bin/python" -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["info"]["version"])' "$here/plaid.yml")
input_sha=$(sha256sum "$input" | cut -d' ' -f1)
yml_sha=$(sha256sum "$here/plaid.yml" | cut -d' ' -f1)

cat >"$here/README.md" <<EOF
# The vendored Plaid OpenAPI spec

\`plaid.yml\` is the spec \`build.rs\` generates the SDK from. It is written by
\`spec/refresh.sh\`; never edit it by hand (the build normalizes it on the fly instead, see
\`build/normalize.rs\`).

| | |
|---|---|
| spec \`info.version\` | \`$version\` |
| source | $origin |
| source package sha256 | \`$package_sha\` |
| source file sha256 | \`$input_sha\` |
| \`plaid.yml\` sha256 | \`$yml_sha\` |
| licence | $licence |

## Refreshing

    spec/refresh.sh                                   # default: npm:@opensdks/sdk-plaid@0.0.14
    spec/refresh.sh npm:<package>@<version>           # another package that ships the spec
    spec/refresh.sh /path/to/2020-09-14.yml           # Plaid's own spec file, JSON or YAML

The script needs \`npm\` (for packages) and \`python3\`; it installs PyYAML 6.0.2 into a throwaway
virtualenv, converts JSON to YAML with keys in source order, and rewrites this file. Running it twice
on the same input gives byte-identical output.

## Building against a newer spec without refreshing

    PLAID_OPENAPI_SPEC=/path/to/2020-09-14.yml cargo build

\`build.rs\` reads that file instead of \`plaid.yml\` and reruns when the file or the variable changes.
EOF
echo "spec/plaid.yml <- $origin ($version)"
