#!/usr/bin/env bash
# The GPU check: on a Linux machine with an NVIDIA GPU, no network and no Node.js, runs from the
# bundle that scripts/gpu-bundle.sh built (a node binary, the built packages, their run-time
# dependencies and shared libraries) the CUDA tests, the nccl plugin's tests (libnccl from the
# machine's Python: nvidia/nccl/lib), the conformance suite's CUDA variants, nixl's CUDA tests,
# the GPU section of the benchmarks, the NCCL benchmark and nixl's CUDA-vs-CPU read, and writes
# one report (markdown).
#   bash scripts/gpu-check.sh [--bundle DIR] [--out DIR]   on the GPU machine
#                                 (defaults: .carry/gpu-bundle next to scripts/, and $OUT or .)
#   bash scripts/gpu-check.sh --dry-run                   here: builds the bundle, checks its
#                                 size, and runs the whole report against the mock CUDA driver
#                                 and the mock NCCL
# Each step's tests are counted from ava's TAP output; the report ends with the totals and the
# script exits non-zero when a test failed. A step whose package is not in the bundle is
# reported as not run (e.g. before @tensorwire/cuda exists). Needs: bash, tar, xz.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bundle="$here/../.carry/gpu-bundle"
out="${OUT:-.}"
dry_run=0
step_timeout="${TENSORWIRE_GPU_STEP_TIMEOUT:-420}"
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) bundle="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    *) echo "usage: gpu-check.sh [--bundle DIR] [--out DIR] [--dry-run]" >&2; exit 2 ;;
  esac
done
log() { printf '[gpu-check] %s\n' "$*" >&2; }

if [ "$dry_run" = 1 ]; then
  bundle="$(bash "$here/gpu-bundle.sh")" || exit 1
fi
[ -f "$bundle/node.xz" ] && [ -f "$bundle/tensorwire.tar.xz" ] ||
  { log "no bundle in $bundle: build it with scripts/gpu-bundle.sh (on a machine with Node.js)"; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/tensorwire-gpu-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$out"
xz -dc "$bundle/node.xz" >"$work/bin/node" && chmod +x "$work/bin/node"
tar -xJf "$bundle/tensorwire.tar.xz" -C "$work"
export PATH="$work/bin:$PATH"
export LD_LIBRARY_PATH="$work/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export UCX_MODULE_DIR="$work/lib/ucx"
# libnccl from the machine's Python (nvidia-nccl-cu*, which PyTorch installs), when there is one
# (nvidia.nccl is a namespace package: its __path__, not __file__, says where it is).
nccl_dir="$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib"))' 2>/dev/null || true)"
if [ -n "$nccl_dir" ] && [ -f "$nccl_dir/libnccl.so.2" ]; then
  export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$nccl_dir"
  [ "$dry_run" = 1 ] || export TENSORWIRE_LIBNCCL="$nccl_dir/libnccl.so.2"
fi

report="$out/gpu-report.md"
mode="GPU machine"
# @tensorwire/cuda's and @tensorwire/nccl's tests use their bundled mocks unless told to use the
# machine's driver and NCCL. Two actors share the one GPU when only one is there: the nccl
# transport tells NCCL so (NCCL_MULTI_RANK_GPU_ENABLE=1 from 2.30, a NCCL_HOSTID per rank before).
[ "$dry_run" = 1 ] || export TENSORWIRE_CUDA_TEST_DRIVER=real TENSORWIRE_NCCL_TEST_LIBRARY=real
if [ "$dry_run" = 1 ]; then
  mode="dry run against the mock CUDA driver (proves the code paths, not the GPU)"
  mock="$(cd "$work" && node -e "process.stdout.write(require('@tensorwire/cuda/testing').mockLibraryPath)" 2>/dev/null || true)"
  if [ -n "$mock" ]; then export TENSORWIRE_LIBCUDA="$mock"; else log "no @tensorwire/cuda mock in the bundle"; fi
  # The mock's "device" is host memory: small sizes run every benchmark path without the 1 GiB wait.
  export BENCH_GPU_SIZES="${BENCH_GPU_SIZES:-1024,1048576,16777216}"
  mock_nccl="$(cd "$work" && node -e "process.stdout.write(require('@tensorwire/nccl/testing').mockLibraryPath)" 2>/dev/null || true)"
  if [ -n "$mock_nccl" ]; then export TENSORWIRE_LIBNCCL="$mock_nccl"; else log "no @tensorwire/nccl mock in the bundle"; fi
fi

{
  echo "# tensorwire GPU check"
  echo
  echo "- when: $(date -u '+%Y-%m-%dT%H:%M:%SZ'); mode: $mode"
  echo "- machine: $(uname -srm), $(nproc) CPUs"
  echo "- node: $(node -v 2>&1)"
  if command -v nvidia-smi >/dev/null 2>&1; then
    echo "- GPUs: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | paste -sd ';')"
  else
    echo "- GPUs: nvidia-smi not found"
  fi
  echo "- libnccl: ${TENSORWIRE_LIBNCCL:-${nccl_dir:-not found}}"
  echo "- bundle: $(du -ch "$bundle"/node.xz "$bundle"/tensorwire.tar.xz | tail -1 | cut -f1)"
  echo
  echo "| step | passed | failed | skipped | seconds |"
  echo "| --- | --- | --- | --- | --- |"
} >"$report"

total_passed=0 total_failed=0 total_skipped=0
# run_step TITLE DIR AVA_ARGS...: ava --tap in DIR (relative to the bundle), counted into the report.
run_step() {
  local title=$1 dir=$2 tap="$work/step.tap" start=$SECONDS rc p f s complete
  shift 2
  if [ ! -d "$work/$dir" ]; then
    echo "| $title | – | – | – | not run: $dir is not in the bundle |" >>"$report"
    return
  fi
  log "$title: ava $*"
  (cd "$work/$dir" && timeout -k 20 "$step_timeout" node "$work/node_modules/ava/entrypoints/cli.mjs" --tap "$@") >"$tap" 2>"$work/step.err"
  rc=$?
  read -r p f s complete <<<"$(node "$work/scripts/lib/tap-tally.js" "$tap" | head -n1)"
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  total_passed=$((total_passed + p)) total_failed=$((total_failed + f)) total_skipped=$((total_skipped + s))
  echo "| $title | $p | $f | $s | $((SECONDS - start))$( [ "$rc" -eq 0 ] || echo " (exit $rc)") |" >>"$report"
  cp "$tap" "$out/$(echo "$title" | tr -c 'A-Za-z0-9._-' '-' | sed 's/-*$//').tap" 2>/dev/null || true
  grep -E '^not ok' "$tap" | sed 's/^/    /' >>"$work/failures"
}

run_step "cuda package tests" packages/cuda
run_step "cuda-ipc plugin tests" plugins/cuda-ipc
run_step "nccl plugin tests" plugins/nccl
# Every transport's CUDA variants, nccl's included (conformance/dist/nccl.test.js).
run_step "conformance, CUDA variants" conformance --match '*cuda*'
run_step "nixl CUDA tests (staging path)" plugins/nixl dist/cuda.test.js
if [ -f "$work/benchmarks/dist/gpu/main.js" ]; then
  log "benchmarks: GPU section"
  (cd "$work" && timeout -k 20 "$step_timeout" node benchmarks/dist/gpu/main.js --out "$out") >>"$work/bench.txt" 2>&1 ||
    echo "benchmarks GPU section failed (exit $?)" >>"$work/bench.txt"
else
  echo "benchmarks GPU section: not in the bundle" >"$work/bench.txt"
fi
# NCCL: bare NCCL send/recv between two plain processes, the nccl GPU object actor to actor,
# torch.distributed NCCL when Python has torch (1 KiB .. 1 GiB; two sizes on the dry run).
if [ -f "$work/plugins/nccl/dist/bench/main.js" ]; then
  log "benchmarks: NCCL"
  nccl_sizes=1024,1048576,67108864,268435456,1073741824
  [ "$dry_run" = 1 ] && nccl_sizes=1024,1048576
  (cd "$work" && timeout -k 20 "$step_timeout" node plugins/nccl/dist/bench/main.js --sizes "$nccl_sizes" --out "$out") >>"$work/bench.txt" 2>&1 ||
    echo "NCCL benchmark failed (exit $?)" >>"$work/bench.txt"
else
  echo "NCCL benchmark: not in the bundle" >>"$work/bench.txt"
fi
# nixl: a CUDA tensor read (staged through pinned memory on the bundled UCX) against a CPU read
# of the same size (1 KiB .. 256 MiB; two sizes on the dry run).
if [ -f "$work/plugins/nixl/dist/bench/cuda-staging-main.js" ]; then
  log "benchmarks: nixl CUDA staging"
  nixl_sizes=1024,1048576,67108864,268435456
  [ "$dry_run" = 1 ] && nixl_sizes=1024,1048576
  echo >>"$work/bench.txt"
  (cd "$work" && timeout -k 20 "$step_timeout" node plugins/nixl/dist/bench/cuda-staging-main.js --sizes "$nixl_sizes" --out "$out") >>"$work/bench.txt" 2>&1 ||
    echo "nixl CUDA staging benchmark failed (exit $?)" >>"$work/bench.txt"
fi

{
  echo
  echo "## Benchmarks"
  echo
  sed 's/^/    /' "$work/bench.txt"
  if [ -s "$work/failures" ]; then
    echo
    echo "## Failed tests"
    echo
    cat "$work/failures"
  fi
  echo
  echo "$total_passed passed, $total_failed failed, $total_skipped skipped"
} >>"$report"
cat "$report"
[ "$total_failed" -eq 0 ]
