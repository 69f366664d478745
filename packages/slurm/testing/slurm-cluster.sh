#!/usr/bin/env bash
# A real Slurm cluster of N nodes on this one machine, for tests and benchmarks:
#   slurm-cluster.sh check          exit 0 when a cluster can be started here; else print why, exit 3
#   slurm-cluster.sh install        apt-get install slurmctld slurmd slurm-client munge when missing
#   slurm-cluster.sh up [NODES]     start munged, slurmctld and NODES slurmd (default 2, at most 3);
#                                   prints shell assignments on stdout (SLURM_CONF=..., the node names
#                                   and addresses) for the caller to eval
#   slurm-cluster.sh down           stop everything it started and remove its network and files
#
# Each node is its own network namespace (tw-node1, ...) with its own address on a bridge, its
# own hostname (UTS namespace) and a hosts file bind-mounted in a private mount namespace.
# slurmctld gets a namespace of its own the same way (tw-ctl): nothing listens in the machine's
# own network namespace except what its clients (srun) open. Facts this relies on (slurm-wlm
# 22.05, Debian 12):
#   - slurmd is started with `nsenter --net=/run/netns/NODE` inside `unshare --uts --mount`, not
#     with `ip netns exec`, which remounts /sys and hides the cgroup filesystem slurmd needs;
#   - several slurmd on one machine need no special build when each has its own address
#     (`-N NODE`, `%n` in the spool, pid and log paths);
#   - proctrack/linuxproc and task/none (no cgroup set-up), SlurmdParameters=config_overrides;
#   - munged runs as the munge user, on a socket of its own (AuthInfo=socket=...).
# Test traffic never leaves the machine: a blackhole route for the /16 around the bridge's /24
# is installed before the bridge exists and removed after it is gone, node namespaces have no
# default route, and this script refuses to run Slurm commands while the bridge is down.
#
# Environment: TENSORWIRE_SLURM_DIR  state directory (default /run/tensorwire-slurm);
#              TENSORWIRE_SLURM_NET  first three octets of the bridge's /24 (default 10.213.7).
set -euo pipefail

DIR="${TENSORWIRE_SLURM_DIR:-/run/tensorwire-slurm}"
NET="${TENSORWIRE_SLURM_NET:-10.213.7}"
WIDE="${NET%.*}.0.0/16" # the blackhole: wider than the bridge's /24
BRIDGE=twslurm0
CTL=tw-ctl
CTL_ADDR="$NET.2"
HOST_ADDR="$NET.1"
APT_PACKAGES=(slurmctld slurmd slurm-client munge)

log() { printf '[slurm-cluster] %s\n' "$*" >&2; }
die() {
  printf '[slurm-cluster] error: %s\n' "$*" >&2
  exit 1
}

node_name() { echo "tw-node$1"; }
node_addr() { echo "$NET.$((10 + $1))"; }

# Why a cluster cannot be started here (empty: it can).
why_not() {
  [ "$(uname -s)" = Linux ] || { echo "not Linux"; return; }
  [ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces, a bridge, daemons as root)"; return; }
  local tool
  for tool in ip nsenter unshare; do
    command -v "$tool" >/dev/null 2>&1 || { echo "'$tool' is missing (iproute2, util-linux)"; return; }
  done
  if ! command -v apt-get >/dev/null 2>&1; then
    for tool in slurmctld slurmd srun munged; do
      command -v "$tool" >/dev/null 2>&1 || { echo "'$tool' is missing and there is no apt-get to install it"; return; }
    done
  fi
  local probe="twprobe$$"
  if ! ip netns add "$probe" 2>/dev/null; then
    echo "cannot create network namespaces here (ip netns add failed: no CAP_SYS_ADMIN, or a restricted container)"
    return
  fi
  ip netns delete "$probe" 2>/dev/null || true
  if ! unshare --uts --mount true 2>/dev/null; then
    echo "cannot create UTS and mount namespaces here (unshare failed)"
    return
  fi
}

missing_packages() {
  local p status
  for p in "${APT_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
    [ "$status" = installed ] || printf '%s\n' "$p"
  done
}

cmd_install() {
  command -v dpkg-query >/dev/null 2>&1 || { log "not Debian: install Slurm and munge yourself"; return 0; }
  local missing
  mapfile -t missing < <(missing_packages)
  [ ${#missing[@]} -gt 0 ] || return 0
  [ "$(id -u)" -eq 0 ] || die "Slurm packages missing (${missing[*]}); as root: apt-get install -y ${missing[*]}"
  log "installing ${missing[*]} (apt-get)"
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300)
  # Debian's maintainer scripts would start the packaged daemons; this cluster runs its own.
  local policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
  fi
  "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >&2 ||
    { "${apt[@]}" update >&2 && "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >&2; } ||
    die "apt-get install ${missing[*]} failed"
  [ -z "$policy" ] || rm -f "$policy"
}

bridge_up() { ip -o link show "$BRIDGE" 2>/dev/null | grep -q 'state UP\|,UP'; }

write_config() {
  local n=$1 i
  mkdir -p "$DIR"/{ctld,spool,log,munge}
  {
    echo "127.0.0.1 localhost"
    echo "$HOST_ADDR tw-host"
    echo "$CTL_ADDR $CTL"
    for i in $(seq 1 "$n"); do echo "$(node_addr "$i") $(node_name "$i")"; done
  } >"$DIR/hosts"
  cat >"$DIR/slurm.conf" <<EOF
# Written by slurm-cluster.sh: a throw-away test cluster; see that script.
ClusterName=tensorwire
SlurmctldHost=$CTL($CTL_ADDR)
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/spool/%n
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd-%n.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd-%n.log
SlurmctldParameters=enable_configless
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SlurmdParameters=config_overrides
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
KillWait=2
MessageTimeout=10
InactiveLimit=0
EOF
  for i in $(seq 1 "$n"); do
    echo "NodeName=$(node_name "$i") NodeAddr=$(node_addr "$i") CPUs=4 RealMemory=2000 State=UNKNOWN" >>"$DIR/slurm.conf"
  done
  echo "PartitionName=tw Nodes=ALL Default=YES MaxTime=INFINITE State=UP" >>"$DIR/slurm.conf"
}

add_namespace() {
  local name=$1 addr=$2 veth=$3
  ip netns add "$name"
  ip link add "$veth" type veth peer name eth0 netns "$name"
  ip link set "$veth" master "$BRIDGE" up
  ip -n "$name" addr add "$addr/24" dev eth0
  ip -n "$name" link set lo up
  ip -n "$name" link set eth0 up
}

# Run a daemon in namespace $1 with hostname $1: private UTS and mount namespaces (hosts file).
in_node() {
  local name=$1
  shift
  unshare --uts --mount --propagation private sh -c \
    'hostname "$1" && mount --bind "$2" /etc/hosts && shift 2 && exec nsenter --net="/run/netns/$0" "$@"' \
    "$name" "$name" "$DIR/hosts" "$@"
}

start_munge() {
  chown munge:munge "$DIR/munge"
  chmod 0711 "$DIR/munge" # munged wants its socket's directory searchable by all
  if [ ! -f "$DIR/munge/munge.key" ]; then
    dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    chown munge:munge "$DIR/munge/munge.key"
    chmod 0400 "$DIR/munge/munge.key"
  fi
  setpriv --reuid=munge --regid=munge --init-groups munged \
    --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
    --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed" ||
    die "munged did not start (see $DIR/munge/munged.log)"
}

wait_for() {
  local what=$1 tries=$2
  shift 2
  for _ in $(seq 1 "$tries"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "$what (logs in $DIR/log)"
}

nodes_idle() {
  local n=$1
  [ "$(SLURM_CONF="$DIR/slurm.conf" sinfo -h -N -t idle -o '%N' | sort -u | wc -l)" -eq "$n" ]
}

cmd_up() {
  local n=${1:-2} i
  [[ $n =~ ^[1-3]$ ]] || die "NODES must be 1, 2 or 3, got '$n'"
  local why
  why="$(why_not)"
  [ -z "$why" ] || { echo "$why" >&2; exit 3; }
  cmd_install
  [ ! -e "$DIR/up" ] || die "a cluster is already up (state in $DIR); run: $0 down"
  mkdir -p "$DIR"
  echo "$n" >"$DIR/up"
  # A failed start leaves nothing behind (the logs are copied out first).
  trap 'status=$?; if [ $status -ne 0 ]; then cp -r "$DIR/log" "$DIR/munge/munged.log" "${TMPDIR:-/tmp}/" 2>/dev/null; cmd_down; fi' EXIT
  # 1. No test traffic may leave the machine: the blackhole comes before the bridge.
  ip route replace blackhole "$WIDE"
  ip link add "$BRIDGE" type bridge
  ip addr add "$HOST_ADDR/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  add_namespace "$CTL" "$CTL_ADDR" twv0
  for i in $(seq 1 "$n"); do add_namespace "$(node_name "$i")" "$(node_addr "$i")" "twv$i"; done
  # 2. Daemons.
  write_config "$n"
  start_munge
  in_node "$CTL" slurmctld -i -f "$DIR/slurm.conf" || die "slurmctld did not start (see $DIR/log/slurmctld.log)"
  wait_for "slurmctld did not answer" 50 env SLURM_CONF="$DIR/slurm.conf" scontrol ping
  for i in $(seq 1 "$n"); do
    in_node "$(node_name "$i")" slurmd -N "$(node_name "$i")" -f "$DIR/slurm.conf" ||
      die "slurmd $(node_name "$i") did not start (see $DIR/log/slurmd-$(node_name "$i").log)"
  done
  wait_for "the nodes did not become idle" 100 nodes_idle "$n"
  log "up: $n nodes on $BRIDGE ($NET.0/24), controller $CTL ($CTL_ADDR)"
  echo "SLURM_CONF=$DIR/slurm.conf"
  echo "TW_SLURM_HOST_ADDR=$HOST_ADDR"
  echo "TW_SLURM_NODES='$(for i in $(seq 1 "$n"); do printf '%s ' "$(node_name "$i")"; done | sed 's/ $//')'"
  echo "TW_SLURM_NODE_ADDRS='$(for i in $(seq 1 "$n"); do printf '%s ' "$(node_addr "$i")"; done | sed 's/ $//')'"
}

# Kill every process whose network namespace is $1 (daemonized steps escape scancel with linuxproc).
kill_namespace() {
  local pids
  pids="$(ip netns pids "$1" 2>/dev/null || true)"
  [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
}

cmd_down() {
  local i pid
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^($CTL|tw-node[0-9]+)$" || true); do
    kill_namespace "$ns"
  done
  if [ -f "$DIR/munge/munged.pid" ]; then
    pid="$(cat "$DIR/munge/munged.pid" 2>/dev/null || true)"
    [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
  fi
  for i in 1 2 3 4 5 6 7 8 9 10; do
    [ -n "$(for ns in $CTL tw-node1 tw-node2 tw-node3; do ip netns pids "$ns" 2>/dev/null; done)" ] || break
    sleep 0.2
  done
  for ns in $CTL tw-node1 tw-node2 tw-node3; do ip netns delete "$ns" 2>/dev/null || true; done
  ip link delete "$BRIDGE" 2>/dev/null || true
  # The blackhole goes last: only once nothing can route into the range any more.
  ip route delete blackhole "$WIDE" 2>/dev/null || true
  rm -rf "$DIR"
  log "down"
}

case "${1:-}" in
  check)
    why="$(why_not)"
    if [ -n "$why" ]; then echo "$why"; exit 3; fi
    ;;
  install) cmd_install ;;
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  *) die "usage: $0 check | install | up [NODES] | down" ;;
esac
