#!/usr/bin/env bash
# Refresh the vendored Plaid OpenAPI spec (spec/plaid.json) and spec/README.md.
#
#   spec/refresh.sh                                  # the default package below
#   spec/refresh.sh npm:@opensdks/sdk-plaid@0.0.14   # a package from the npm registry
#   spec/refresh.sh /path/to/2020-09-14.yml          # a local file (JSON or YAML)
#
# A JSON source is copied byte for byte; a YAML one is converted to JSON deterministically
# (PyYAML, pinned, keys in source order), so running this twice gives identical output.
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

if head -c 4096 "$input" | grep -q '^[[:space:]]*{'; then
  # JSON, as the packages ship it: vendored byte for byte.
  cp "$input" "$work/plaid.json"
  conversion="copied byte for byte"
else
  # Plaid's own YAML: converted to JSON (keys in source order; YAML timestamps kept as the
  # strings they are in the file). JSON because the build parses it ~4x faster than YAML.
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install --quiet --disable-pip-version-check pyyaml==6.0.2
  "$work/venv/bin/python" - "$input" "$work/plaid.json" <<'PY'
import json, sys, yaml
class Loader(yaml.SafeLoader):
    pass
Loader.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
with open(sys.argv[1], encoding="utf-8") as f:
    doc = yaml.load(f, Loader=Loader)
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(doc, f, ensure_ascii=False, indent=2)
    f.write("\n")
PY
  conversion="converted from YAML to JSON with PyYAML 6.0.2"
fi
mv "$work/plaid.json" "$here/plaid.json"
rm -f "$here/plaid.yml"

version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["info"]["version"])' "$here/plaid.json")
input_sha=$(sha256sum "$input" | cut -d' ' -f1)
json_sha=$(sha256sum "$here/plaid.json" | cut -d' ' -f1)

cat >"$here/README.md" <<EOF
# The vendored Plaid OpenAPI spec

\`plaid.json\` is the spec \`build.rs\` generates the SDK from. It is written by
\`spec/refresh.sh\`; never edit it by hand (the build normalizes it on the fly instead, see
\`build/normalize.rs\`).

| | |
|---|---|
| spec \`info.version\` | \`$version\` |
| source | $origin |
| source package sha256 | \`$package_sha\` |
| source file sha256 | \`$input_sha\` |
| \`plaid.json\` | $conversion |
| \`plaid.json\` sha256 | \`$json_sha\` |
| licence | $licence |

## Refreshing

    spec/refresh.sh                                   # default: npm:@opensdks/sdk-plaid@0.0.14
    spec/refresh.sh npm:<package>@<version>           # another package that ships the spec
    spec/refresh.sh /path/to/2020-09-14.yml           # Plaid's own spec file, JSON or YAML

The script needs \`npm\` (for packages) and \`python3\`. A JSON spec (what the packages ship) is
copied unchanged; a YAML one (Plaid's own file) is converted to JSON with PyYAML 6.0.2 in a
throwaway virtualenv, keys in source order. The vendored file is JSON because the build script,
compiled without optimization, parses it in ~0.15 s against ~0.7 s for the same spec in YAML.
Running the script twice on the same input gives byte-identical output.

## Building against a newer spec without refreshing

    PLAID_OPENAPI_SPEC=/path/to/2020-09-14.yml cargo build

The file may be JSON or YAML. \`build.rs\` reads it instead of \`plaid.json\` and reruns when the file or the variable changes.
EOF
echo "spec/plaid.json <- $origin ($version)"
