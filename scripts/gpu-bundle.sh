#!/usr/bin/env bash
# Builds the bundle that scripts/gpu-check.sh runs on a GPU machine that has no Node.js and no
# network: this machine's `node` binary (xz) and the built packages with what they need at run
# time (their dependencies and ava, the test runner; no TypeScript, no build tools), under
# 60 MiB in all. Assumes a built checkout (scripts/setup.sh).
#   bash scripts/gpu-bundle.sh [OUT_DIR]      (default: .carry/gpu-bundle, ignored by git)
# Prints the bundle's directory on stdout; fails when it is larger than the limit.
set -euo pipefail
TW_PREFIX="tensorwire gpu-bundle"
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$TW_ROOT"

LIMIT_BYTES=$((60 * 1024 * 1024))
out="${1:-$TW_ROOT/.carry/gpu-bundle}"
command -v xz >/dev/null 2>&1 || tw_die "xz is needed to compress the bundle (apt-get install xz-utils)"
[ -d packages/core/dist ] || tw_die "packages/core is not built: run bash scripts/setup.sh first"

mkdir -p "$out"
rm -f "$out/node.xz" "$out/tensorwire.tar.xz"

# The workspaces whose built files travel (benchmarks and examples are optional extras).
mapfile -t workspaces < <(node "$TW_LIB/workspaces.js" | grep -v '^examples$')
tw_log "workspaces: ${workspaces[*]}"

list="$(mktemp)"
{
  echo package.json
  echo scripts/gpu-check.sh
  echo scripts/lib/tap-tally.js
  for ws in "${workspaces[@]}"; do
    echo "$ws/package.json"
    [ -d "$ws/dist" ] && find "$ws/dist" -type f ! -name '*.map' ! -name '*.tsbuildinfo'
    # Native addons and shared libraries the packages load (a mock driver library, for one).
    [ -d "$ws/native/build" ] && find "$ws/native/build" -type f \( -name '*.node' -o -name '*.so' -o -name '*.so.*' \)
    [ -f "$ws/ava.conformance.config.cjs" ] && echo "$ws/ava.conformance.config.cjs"
  done
  # What the packages need at run time, and ava to run their tests; build tools stay behind.
  node "$TW_LIB/dep-closure.js" "${workspaces[@]}" --also ava --skip cmake-js node-addon-api
  echo node_modules/.bin/ava
} >"$list"

# The shared libraries the addons link (libgloo, UCX, ...) and UCX's transport modules: the GPU
# machine has other packages installed. glibc itself stays: the machine's is used.
stage="$(mktemp -d)"
trap 'rm -f "$list"; rm -rf "$stage"' EXIT
mkdir -p "$stage/lib/ucx"
mapfile -t addons < <(grep -E '\.node$' "$list" || true)
if [ ${#addons[@]} -gt 0 ]; then
  ldd "${addons[@]}" 2>/dev/null | awk '/=> \// {print $3}' | sort -u |
    grep -vE '/(libc|libm|libdl|libpthread|librt|libresolv|ld-linux[^/]*)\.so' |
    while read -r lib; do cp -L "$lib" "$stage/lib/"; done
fi
ucx_modules=/usr/lib/x86_64-linux-gnu/ucx
if [ -d "$ucx_modules" ]; then
  for m in "$ucx_modules"/*.so.0; do cp -L "$m" "$stage/lib/ucx/"; done
fi

tw_log "packing $(wc -l <"$list") paths and $(find "$stage/lib" -type f | wc -l) shared libraries"
tar -cf "$stage/payload.tar" --no-recursion -T <(grep -v '^node_modules/' "$list") \
  -T <(grep '^node_modules/' "$list" | while read -r p; do
    # Package directories go whole (minus nested node_modules, listed on their own).
    if [ -L "$p" ] || [ -f "$p" ]; then echo "$p"; else find "$p" -path "$p/node_modules" -prune -o -print; fi
  done)
tar -rf "$stage/payload.tar" -C "$stage" lib
xz -T0 -6 <"$stage/payload.tar" >"$out/tensorwire.tar.xz"
xz -T0 -9 -c "$(command -v node)" >"$out/node.xz"

total=$(($(stat -c %s "$out/node.xz") + $(stat -c %s "$out/tensorwire.tar.xz")))
tw_log "node.xz $(du -h "$out/node.xz" | cut -f1), tensorwire.tar.xz $(du -h "$out/tensorwire.tar.xz" | cut -f1), $((total / 1024 / 1024)) MiB in all (limit $((LIMIT_BYTES / 1024 / 1024)) MiB)"
[ "$total" -le "$LIMIT_BYTES" ] || tw_die "the bundle is $((total / 1024 / 1024)) MiB, over the $((LIMIT_BYTES / 1024 / 1024)) MiB limit"
echo "$out"
