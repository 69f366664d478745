#!/usr/bin/env bash
# Installs Debian's python3-torch, the torch.distributed peer of the benchmarks' gloo baseline.
# Run by `npm run bench -- --with-torch` when /usr/bin/python3 cannot import torch, and only
# then: setup.sh and the tests never install it (it pulls in ~180 packages, ~650 MB on Debian 12).
# As root it runs apt-get directly, otherwise through sudo; without either it prints the
# command and fails. Exits 0 at once when torch is already importable.
set -euo pipefail
TW_PREFIX="tensorwire bench"
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
exec 1>&2

[ $# -eq 0 ] || tw_die "usage: scripts/install-torch.sh (no arguments)"
PYTHON=/usr/bin/python3
if "$PYTHON" -c 'import torch.distributed' 2>/dev/null; then
  tw_log "torch: $PYTHON already imports torch"
  exit 0
fi
command -v apt-get >/dev/null 2>&1 ||
  tw_die "not a Debian-based system: install PyTorch for $PYTHON yourself (e.g. pip install torch), or run the bench without --with-torch"

cmd="apt-get update && apt-get install -y --no-install-recommends python3-torch"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  # sudo without a password, or with a terminal to ask for one; never hang unattended.
  if command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
    sudo=(sudo)
  else
    tw_die "installing python3-torch needs root. Run as root: $cmd"
  fi
fi
start=$SECONDS
tw_log "torch: installing Debian's python3-torch (${sudo[*]:+sudo }apt-get; a few minutes)"
apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300)
"${apt[@]}" update || tw_die "apt-get update failed (network to the Debian mirrors?); then run: $cmd"
"${apt[@]}" install -y --no-install-recommends python3-torch || tw_die "apt-get install failed; run: $cmd"
"$PYTHON" -c 'import torch.distributed' || tw_die "python3-torch is installed but $PYTHON cannot import torch.distributed"
tw_log "torch: installed in $(tw_elapsed "$start")"
