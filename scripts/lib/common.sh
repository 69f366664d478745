# Shared helpers for the repo's bash scripts (sourced, not run).
# Every message goes to stderr with a prefix, so stdout stays clean for what a caller parses
# (test.sh's final summary line).

# The repository root: the parent of scripts/.
TW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TW_LIB="$TW_ROOT/scripts/lib"
: "${TW_PREFIX:=tensorwire}"

tw_log() { printf '[%s] %s\n' "$TW_PREFIX" "$*" >&2; }
tw_warn() { printf '[%s] warning: %s\n' "$TW_PREFIX" "$*" >&2; }
tw_die() {
  printf '[%s] error: %s\n' "$TW_PREFIX" "$*" >&2
  exit 1
}

# Seconds since the script started, for "done in Ns" messages.
tw_elapsed() { echo "$((SECONDS - ${1:-0}))s"; }

# Fail early, with the fix, when Node.js is missing or too old (everything else needs it).
tw_require_node() {
  command -v node >/dev/null 2>&1 ||
    tw_die "Node.js >= 20 is required and 'node' is not on PATH (install Node 20 LTS, e.g. from https://nodejs.org or nvm)"
  command -v npm >/dev/null 2>&1 || tw_die "'npm' is not on PATH (it ships with Node.js >= 20)"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')" || tw_die "'node' does not run"
  [ "$major" -ge 20 ] || tw_die "Node.js >= 20 is required, found $(node -v) (install Node 20 LTS)"
}

# A repo-local tool from node_modules/.bin, never fetched from the network (npx would).
tw_bin() {
  local tool="$TW_ROOT/node_modules/.bin/$1"
  [ -x "$tool" ] || tw_die "$1 is not installed in node_modules (run: bash scripts/setup.sh)"
  printf '%s\n' "$tool"
}
