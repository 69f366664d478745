#!/usr/bin/env bash
# Runs the ava tests of every workspace that has a "test" script and an "ava" config in its
# package.json (discovered: packages/core, plugins/*, conformance, ...), or only of the
# workspace directories given as arguments:
#   bash scripts/test.sh [WORKSPACE_DIR...]
# Each runs `npx ava --tap` in its own directory; the TAP output streams to stdout as it comes,
# and the results are counted from its `ok` / `not ok` lines (see lib/tap-tally.js). A run that
# exits non-zero without a failing line (no test files, ava crashed) counts as one failure, and
# so does a TAP stream cut off before ava's summary (ava 7's TAP reporter dies on a timeout or
# a test file's process.exit()). The very last line on stdout is always
#   N passed, N failed, N skipped
# (skipped includes test.todo). Exit status 1 when anything failed or no test ran. Without
# arguments it also runs scripts/check-imports.js (import cycles, layers), counted as one test.
# Assumes a built checkout (scripts/setup.sh or scripts/build.sh); each step that the last
# build.sh run recorded as failed (node_modules/.tensorwire-build-failed) counts as one failure.
# Environment: TENSORWIRE_TEST_TIMEOUT  seconds per workspace before its run is killed (1800);
#              TENSORWIRE_SUMMARY_FILE  also write the summary line to this file (used by .ci/run).
set -uo pipefail
TW_PREFIX="tensorwire test"
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

limit="${TENSORWIRE_TEST_TIMEOUT:-1800}"
total_passed=0
total_failed=0
total_skipped=0
report=()
run_pid=""
workdir=""

# The summary line is printed on every exit path, after all other output, as stdout's last line.
finish() {
  local status=$1
  local line="$total_passed passed, $total_failed failed, $total_skipped skipped"
  [ -z "$workdir" ] || rm -rf "$workdir"
  [ -z "${TENSORWIRE_SUMMARY_FILE:-}" ] || printf '%s\n' "$line" >"$TENSORWIRE_SUMMARY_FILE" 2>/dev/null || true
  printf '%s\n' "$line"
  exit "$status"
}

# Ctrl-C / SIGTERM: the test run lives in its own process group (below), so stop it explicitly.
interrupted() {
  [ -z "$run_pid" ] || kill -TERM -- "-$run_pid" 2>/dev/null
  tw_log "interrupted"
  total_failed=$((total_failed + 1))
  finish 130
}
trap interrupted INT TERM

# A problem of this script itself (not of a test): one failure, and still the summary line.
fatal() {
  tw_log "error: $*"
  total_failed=$((total_failed + 1))
  finish 1
}

workdir="$(mktemp -d "${TMPDIR:-/tmp}/tensorwire-test.XXXXXX")" || fatal "cannot create a temporary directory"

# Resolves a workspace argument to a path relative to the repo root. The argument is relative
# to the directory the command was typed in (INIT_CWD under `npm test -- DIR`, which runs
# scripts from the root), to the current directory, or to the repo root.
resolve_workspace() {
  local arg=$1 abs="" base
  for base in "${INIT_CWD:-.}" . "$TW_ROOT"; do
    case "$arg" in /*) base="" ;; esac
    if [ -f "${base:+$base/}$arg/package.json" ]; then
      abs="$(cd "${base:+$base/}$arg" && pwd)"
      break
    fi
  done
  [ -n "$abs" ] || return 1
  case "$abs" in
    "$TW_ROOT") echo . ;;
    "$TW_ROOT"/*) echo "${abs#"$TW_ROOT"/}" ;;
    *) echo "$abs" ;;
  esac
}

# Runs one workspace's tests; adds to the totals and to the report.
run_workspace() {
  local ws=$1 log="$workdir/tap.$2" fifo="$workdir/fifo.$2" rc tee_pid tally counts p f s complete extra=0 why=""
  local start=$SECONDS dir="$ws"
  [[ $ws == /* ]] || dir="$TW_ROOT/$ws"
  tw_log "=== $ws: npx ava --tap"
  mkfifo "$fifo" || fatal "mkfifo $fifo failed"
  tee "$log" <"$fifo" &
  tee_pid=$!
  # timeout makes itself a process-group leader: on expiry it kills ava and its workers, and
  # after a normal exit the group id lets us stop workers that a crashed ava left behind.
  (cd "$dir" && exec timeout -k 30 "$limit" npx --no -- ava --tap) >"$fifo" &
  run_pid=$!
  wait "$run_pid"
  rc=$?
  kill -TERM -- "-$run_pid" 2>/dev/null
  run_pid=""
  wait "$tee_pid"
  rm -f "$fifo"

  tally="$(node "$TW_LIB/tap-tally.js" "$log")" || tally="0 0 0 0"
  read -r p f s complete <<<"$(head -n1 <<<"$tally")"
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    extra=1 why="killed after ${limit}s (TENSORWIRE_TEST_TIMEOUT)"
  elif [ "$complete" -ne 1 ]; then
    extra=1 why="ava's TAP output stopped before its summary (a test timed out, a test file exited, or ava crashed: see stderr above; 'npx ava' in $ws shows more)"
  elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    if [ $((p + s)) -eq 0 ]; then
      why="ava found no tests (exit $rc): are the files in its \"files\" glob built?"
    else
      why="ava exited with status $rc without a failing test line"
    fi
    extra=1
  fi
  f=$((f + extra))
  total_passed=$((total_passed + p))
  total_failed=$((total_failed + f))
  total_skipped=$((total_skipped + s))
  tail -n +2 <<<"$tally" | while IFS= read -r title; do
    [ -z "$title" ] || tw_log "  FAILED $ws: $title"
  done
  [ -z "$why" ] || tw_log "  FAILED $ws: $why"
  report+=("$(printf '%-28s %4d passed, %3d failed, %3d skipped  (%s, exit %s)' "$ws" "$p" "$f" "$s" "$(tw_elapsed "$start")" "$rc")")
  tw_log "=== $ws: $p passed, $f failed, $s skipped in $(tw_elapsed "$start")"
}

command -v node >/dev/null 2>&1 || fatal "'node' is not on PATH"
[ -x "$TW_ROOT/node_modules/.bin/ava" ] || fatal "ava is not installed (run: bash scripts/setup.sh)"

workspaces=()
if [ $# -gt 0 ]; then
  for arg in "$@"; do
    if ! ws="$(resolve_workspace "$arg")"; then
      tw_log "error: '$arg' is not a workspace directory (no package.json)"
      total_failed=$((total_failed + 1))
      continue
    fi
    dir="$ws"
    [[ $ws == /* ]] || dir="$TW_ROOT/$ws"
    if ! node -e 'const p=require(process.argv[1]); process.exit(p.ava ? 0 : 1)' "$dir/package.json"; then
      tw_log "error: $ws has no \"ava\" config in its package.json"
      total_failed=$((total_failed + 1))
      continue
    fi
    workspaces+=("$ws")
  done
else
  mapfile -t workspaces < <(node "$TW_LIB/workspaces.js" --ava)
fi

build_failed_file="$TW_ROOT/node_modules/.tensorwire-build-failed"
if [ -s "$build_failed_file" ]; then
  while IFS= read -r step; do
    [ -n "$step" ] || continue
    tw_log "FAILED build: $step (recorded by the last scripts/build.sh run)"
    total_failed=$((total_failed + 1))
    report+=("$(printf '%-28s %s' "build" "FAILED: $step")")
  done <"$build_failed_file"
fi

# The import structure (scripts/check-imports.js): no cycles, layers kept. One test: passed or failed.
if [ $# -eq 0 ]; then
  tw_log "=== import structure: node scripts/check-imports.js"
  if node "$TW_ROOT/scripts/check-imports.js" --quiet; then
    total_passed=$((total_passed + 1))
    report+=("$(printf '%-28s %4d passed, %3d failed' "imports" 1 0)")
  else
    tw_log "  FAILED imports: import cycles or layer violations (listed above)"
    total_failed=$((total_failed + 1))
    report+=("$(printf '%-28s %4d passed, %3d failed' "imports" 0 1)")
  fi
fi

i=0
for ws in "${workspaces[@]}"; do
  i=$((i + 1))
  run_workspace "$ws" "$i"
done

tw_log "results by workspace:"
for line in "${report[@]}"; do tw_log "  $line"; done
status=0
if [ "$total_failed" -gt 0 ]; then
  status=1
elif [ $((total_passed + total_failed)) -eq 0 ]; then
  tw_log "error: no test ran"
  status=1
fi
finish "$status"
