#!/usr/bin/env bash
# Builds the repository, incrementally:
#   1. the native addon of every workspace that has a "build:native" script (discovered, e.g.
#      plugins/gloo and plugins/nixl), each with `npm run build:native` in that workspace
#      (skipped when its sources are unchanged since its last successful build, see
#      lib/native-fingerprint.js; otherwise cmake-js reuses its CMake build directory);
#   2. all TypeScript projects with `tsc -b` at the root (incremental through .tsbuildinfo);
#   3. the workspaces' command-line tools linked into node_modules/.bin and made executable.
# A failing step does not stop the others (you see every error in one run); the script then
# exits 1 naming what failed, and records the failed steps in node_modules/.tensorwire-build-failed
# (removed by a clean build), which scripts/test.sh counts as failures.
# Needs node_modules (run scripts/setup.sh on a fresh clone).
# Environment: CMAKE_BUILD_PARALLEL_LEVEL (default: the number of CPUs);
#              TENSORWIRE_FORCE_NATIVE=1 runs every build:native even when nothing changed.
set -euo pipefail
TW_PREFIX="tensorwire build"
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
exec 1>&2 # progress only: keep stdout free for callers that parse it (see test.sh)
cd "$TW_ROOT"

[ $# -eq 0 ] || tw_die "usage: scripts/build.sh (no arguments)"
tw_require_node
[ -d node_modules ] || tw_die "node_modules is missing: run 'bash scripts/setup.sh' first"
build_start=$SECONDS
failed=()

export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}"
mapfile -t native_workspaces < <(node "$TW_LIB/workspaces.js" --script build:native)
if [ ${#native_workspaces[@]} -eq 0 ]; then
  tw_log "no workspace has a build:native script"
fi
for ws in "${native_workspaces[@]}"; do
  step_start=$SECONDS
  if [ "${TENSORWIRE_FORCE_NATIVE:-}" != 1 ] && node "$TW_LIB/native-fingerprint.js" check "$ws"; then
    tw_log "native addon: $ws is up to date (sources unchanged since its last build)"
    continue
  fi
  tw_log "native addon: $ws (npm run build:native)"
  if (cd "$ws" && npm run --silent build:native); then
    node "$TW_LIB/native-fingerprint.js" write "$ws"
    tw_log "native addon: $ws built in $(tw_elapsed "$step_start")"
  else
    node "$TW_LIB/native-fingerprint.js" clear "$ws"
    tw_warn "native addon: $ws FAILED (see the compiler/CMake output above)"
    failed+=("native addon of $ws")
  fi
done

step_start=$SECONDS
tw_log "TypeScript: tsc -b"
# packages/cuda is built first, on its own: in one `tsc -b` from a clean tree, the projects that
# import the bare '@tensorwire/cuda' (cuda-ipc, nccl, benchmarks) failed to resolve it although
# it was built before them (tsc -b shares its resolution caches between projects, and one made
# before cuda's dist existed was reused). Two invocations give each its own caches.
if "$(tw_bin tsc)" -b packages/cuda && "$(tw_bin tsc)" -b; then
  tw_log "TypeScript: built in $(tw_elapsed "$step_start")"
else
  tw_warn "TypeScript: tsc -b FAILED (see the errors above)"
  failed+=("TypeScript (tsc -b)")
fi

node "$TW_LIB/link-bins.js" || failed+=("linking the workspaces' command-line tools")

status_file="$TW_ROOT/node_modules/.tensorwire-build-failed"
if [ ${#failed[@]} -gt 0 ]; then
  printf '%s\n' "${failed[@]}" >"$status_file"
  tw_die "build failed after $(tw_elapsed "$build_start"): $(IFS=';'; echo "${failed[*]}" | sed 's/;/; /g')"
fi
rm -f "$status_file"
tw_log "build done in $(tw_elapsed "$build_start")"
