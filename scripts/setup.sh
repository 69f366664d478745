#!/usr/bin/env bash
# Sets up a checkout so that tests, examples and benchmarks can run; safe to run again and
# fast when nothing changed (a second run needs no network):
#   1. Debian packages: installs those missing from the list below (checked with dpkg-query;
#      as root directly, otherwise through sudo; without either it prints the apt command
#      and fails);
#   2. npm dependencies: `npm ci` when node_modules is missing or does not match
#      package-lock.json (a stamp in node_modules records the installed lock);
#   3. the build: scripts/build.sh (native addons, then TypeScript).
#   Also, as root where network namespaces work: Slurm and munge (slurmctld, slurmd,
#   slurm-client, munge) for @tensorwire/slurm's multi-host tests, which start a Slurm cluster of
#   namespaces on this machine (packages/slurm/testing/slurm-cluster.sh); elsewhere those tests
#   are skipped with the reason, and nothing is installed for them.
# Environment: TENSORWIRE_SKIP_APT=1 skips step 1 (and the Slurm packages);
#   TENSORWIRE_SKIP_SLURM=1 skips the Slurm packages and the multi-host tests (e.g. on a distribution without apt,
#   once the equivalent packages are installed);
# TENSORWIRE_SETUP_KEEP_GOING=1: a failed build (step 3) is a warning and setup exits 0, so
#   that the tests still run; build.sh's record of the failure makes test.sh count it as a
#   failed test (.ci/run sets this: one broken addon must not hide every other result).
set -euo pipefail
TW_PREFIX="tensorwire setup"
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
exec 1>&2 # progress only: keep stdout free for callers that parse it (see test.sh)
cd "$TW_ROOT"

# What the native addons need to build: a C++17 compiler, CMake, and the transport libraries.
# ninja-build: cmake-js picks Ninja when present (as on the development machines).
APT_PACKAGES=(build-essential g++ make cmake ninja-build pkg-config libgloo-dev libucx-dev)

[ $# -eq 0 ] || tw_die "usage: scripts/setup.sh (no arguments)"
setup_start=$SECONDS

missing_apt_packages() {
  local p status
  for p in "${APT_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
    [ "$status" = installed ] || printf '%s\n' "$p"
  done
}

install_apt_packages() {
  if [ "${TENSORWIRE_SKIP_APT:-}" = 1 ]; then
    tw_log "system packages: skipped (TENSORWIRE_SKIP_APT=1)"
    return
  fi
  if ! command -v dpkg-query >/dev/null 2>&1; then
    tw_warn "not a Debian-based system: make sure these (or your distribution's equivalents) are installed: ${APT_PACKAGES[*]}"
    return
  fi
  local missing
  mapfile -t missing < <(missing_apt_packages)
  if [ ${#missing[@]} -eq 0 ]; then
    tw_log "system packages: all present (${APT_PACKAGES[*]})"
    return
  fi
  local cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    # sudo without a password, or with a terminal to ask for one; never hang in CI.
    if command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
      sudo=(sudo)
    else
      tw_die "missing Debian packages: ${missing[*]}. Install them as root: $cmd"
    fi
  fi
  tw_log "system packages: installing ${missing[*]} (${sudo[*]:+sudo }apt-get)"
  local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300)
  "${apt[@]}" update || tw_die "apt-get update failed (network to the Debian mirrors?); then run: $cmd"
  "${apt[@]}" install -y --no-install-recommends "${missing[@]}" || tw_die "apt-get install failed; run: $cmd"
  mapfile -t missing < <(missing_apt_packages)
  [ ${#missing[@]} -eq 0 ] || tw_die "still missing after apt-get install: ${missing[*]}"
  tw_log "system packages: installed"
}

install_npm_dependencies() {
  local reason
  if reason="$(node "$TW_LIB/install-state.js" check)"; then
    tw_log "npm dependencies: node_modules matches package-lock.json"
    return
  fi
  local step_start=$SECONDS
  tw_log "npm dependencies: npm ci ($reason)"
  # --loglevel: an outer `npm test --silent` must not hide npm ci's own errors.
  npm ci --no-audit --no-fund --prefer-offline --loglevel=warn ||
    tw_die "npm ci failed (see npm's messages above; network to the npm registry?)"
  node "$TW_LIB/install-state.js" write
  tw_log "npm dependencies: installed in $(tw_elapsed "$step_start")"
}

# Slurm for the multi-host tests: only where they can run (root, namespaces); never fatal.
install_slurm_packages() {
  [ "${TENSORWIRE_SKIP_APT:-}" != 1 ] && [ "${TENSORWIRE_SKIP_SLURM:-}" != 1 ] || return 0
  local cluster="$TW_ROOT/packages/slurm/testing/slurm-cluster.sh" why
  [ -f "$cluster" ] || return 0
  if ! why="$(bash "$cluster" check 2>&1)"; then
    tw_log "Slurm packages: not installed (the multi-host tests will be skipped: $why)"
    return 0
  fi
  bash "$cluster" install || tw_warn "could not install Slurm and munge; the multi-host tests will fail to start their cluster"
}

install_apt_packages
install_slurm_packages
tw_require_node
install_npm_dependencies
if ! bash "$TW_ROOT/scripts/build.sh"; then
  if [ "${TENSORWIRE_SETUP_KEEP_GOING:-}" = 1 ]; then
    tw_warn "the build failed (see above); going on because TENSORWIRE_SETUP_KEEP_GOING=1 (test.sh counts the failed build steps as failures)"
  else
    tw_die "setup failed: the build did not succeed (see above)"
  fi
fi
tw_log "setup done in $(tw_elapsed "$setup_start")"
