#!/usr/bin/env bash
# Proves that code written against the crate built from an older spec compiles, unchanged,
# against the crate built from a newer one: every `new` with the older build's parameters and
# every setter of every struct both builds have, and every field read back with its older
# type. What Plaid removed (a type or field of the older build that the newer one lacks) is
# left out, and listed: those are the breaking changes the change report names.
#
#   bash scripts/compat.sh OLD_SPEC [NEW_SPEC]     # NEW_SPEC defaults to the vendored spec
#
# Also left out, and listed in target/compat/summary.json, what Plaid changed in a way no SDK
# idiom can absorb: a field whose type changed (another schema), and a `new` whose request
# gained or lost a required field (for those, the setters and reads are still checked).
#
# Each build writes $OUT_DIR/inventory.json (every struct's `new` parameters and fields with
# their types, see codegen/src/postprocess.rs); this writes a crate of calls from the older
# one and checks it against the newer build.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
old=$(realpath "${1:?usage: scripts/compat.sh OLD_SPEC [NEW_SPEC]}")
new=${2:+$(realpath "$2")}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

# The command with PLAID_OPENAPI_SPEC set to the spec, or unset for the vendored one (set but
# empty means the same to build.rs, not to cargo, which would rebuild the crate for it).
with_spec() { # spec command...
  local spec=$1
  shift
  if [ -n "$spec" ]; then PLAID_OPENAPI_SPEC=$spec "$@"; else env -u PLAID_OPENAPI_SPEC "$@"; fi
}
inventory() { # spec (empty: vendored) -> path of that build's inventory.json
  # A build that fails fails this (pipefail, and the caller assigns the result before using
  # it), with the compiler's errors on stderr.
  with_spec "$1" cargo check -q -p plaid-sdk --lib --message-format=json | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-message" and m["message"]["level"] == "error":
        sys.stderr.write(m["message"]["rendered"])
    if m.get("reason") == "build-script-executed" and "#plaid-sdk@" in m.get("package_id", ""):
        print(m["out_dir"] + "/inventory.json")' | tail -n 1
}
work="$CARGO_TARGET_DIR/compat"
mkdir -p "$work/src"
cp "$root/Cargo.lock" "$work/Cargo.lock"
# Not `cp "$(inventory …)"`: a command's status inside another's arguments is lost. Each copied
# before the next build: both builds write to the same OUT_DIR.
old_inventory=$(inventory "$old")
cp "$old_inventory" "$work/old.json"
new_inventory=$(inventory "$new")
cp "$new_inventory" "$work/new.json"

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
old, new = json.load(open(f"{work}/old.json")), json.load(open(f"{work}/new.json"))
def rust(ty):
    # The generator's replacements name the SDK's own types by crate path (codegen's
    # REPLACEMENTS): the secret newtypes, ApiError and ErrorType, all re-exported at the root.
    return ty.replace("crate :: secret ::", "plaid_sdk ::").replace("crate ::", "plaid_sdk ::")
def ident(name):
    keywords = {"type", "ref", "match", "move", "fn", "impl", "use", "mod", "where", "loop",
                "return", "static", "struct", "enum", "trait", "self", "super", "crate", "as",
                "in", "for", "if", "else", "let", "mut", "pub", "const", "true", "false", "async",
                "await", "dyn", "box", "break", "continue", "extern", "override", "priv", "typeof",
                "unsafe", "unsized", "virtual", "yield", "try", "abstract", "become", "do", "final",
                "macro"}
    return f"r#{name}" if name in keywords else name
lines = ["#![allow(unused, clippy::all, non_snake_case, unreachable_code)]",
         "use plaid_sdk::types::*;", "fn any<T>() -> T { unreachable!() }", ""]
calls = setters = reads = 0
gone_types, gone_fields, changed_types, changed_new = [], [], [], []
for name, info in sorted(old.items()):
    if name not in new:
        gone_types.append(name)
        continue
    now = {f[0]: f for f in new[name]["fields"]}
    chain = ""
    reads_here = []
    for field, ty, inner in info["fields"]:
        if field not in now:
            gone_fields.append(f"{name}.{field}")
            continue
        if now[field][1] != ty:
            changed_types.append(f"{name}.{field}: {ty} -> {now[field][1]}")
            continue
        if field != "new":
            chain += f".{ident(field)}(any::<{rust(inner)}>())"
            setters += 1
        reads_here.append(f"let _: &{rust(ty)} = &x.{ident(field)};")
        reads += 1
    if info["new"] == new[name]["new"]:
        args = ", ".join(f"any::<{rust(t)}>()" for _, t in info["new"])
        lines.append(f"fn build_{name}() -> {name} {{ {name}::new({args}){chain} }}")
        calls += 1
    else:
        changed_new.append(f"{name}::new: {[n for n, _ in info['new']]} -> {[n for n, _ in new[name]['new']]}")
        lines.append(f"fn set_{name}(x: {name}) -> {name} {{ x{chain} }}")
    lines.append(f"fn read_{name}(x: &{name}) {{ {' '.join(reads_here)} }}")
open(f"{work}/src/lib.rs", "w").write("\n".join(lines) + "\n")
json.dump({"types": calls, "setters": setters, "reads": reads, "gone_types": gone_types,
           "gone_fields": gone_fields, "changed_types": changed_types, "changed_new": changed_new},
          open(f"{work}/summary.json", "w"), indent=1)
PY

cat >"$work/Cargo.toml" <<TOML
[package]
name = "plaid-sdk-compat"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
plaid-sdk = { path = "$root" }
chrono = { version = "0.4", default-features = false, features = ["serde"] }
serde_json = "1"
bytes = "1"
[workspace]
TOML

log="$work/check.log"
if ! (cd "$work" && with_spec "$new" cargo check --lib >"$log" 2>&1); then
  grep -E '^error' -A6 "$log" | head -80
  echo "code written against $(basename "$old") does NOT compile against ${new:-the vendored spec}"
  exit 1
fi
python3 - "$work" "$(basename "$old")" "$(basename "${new:-spec/plaid.json}")" <<'PY'
import json, sys
s = json.load(open(f"{sys.argv[1]}/summary.json"))
print(f"compat {sys.argv[2]} -> {sys.argv[3]}: {s['types']} types built with the older new(), "
      f"{s['setters']} setters, {s['reads']} fields read with their older types: all compile. "
      f"Left out, as Plaid changed them: {len(s['gone_types'])} types and {len(s['gone_fields'])} fields "
      f"removed, {len(s['changed_types'])} fields of another type, {len(s['changed_new'])} new() "
      f"with a required field added or removed (listed in {sys.argv[1]}/summary.json).")
PY
