#!/bin/sh
# One-shot creator of the Redis Cluster of `make up`: runs in a redis:7 container after the six
# nodes are healthy, and exits 0 once cluster_state is ok on every node. Safe to run again:
#  - fresh nodes (no slots anywhere): redis-cli --cluster create … --cluster-replicas 1
#  - an existing cluster (volumes kept) whose containers came back on other IPs: every node is
#    introduced to every other at its current IP (CLUSTER MEET); a node that already knows the
#    peer by its id only updates the address, so the cluster heals instead of being recreated.
# Environment: REDIS_CLUSTER_NODES (space separated host:port, default redis-1:6379 … redis-6:6379).
set -eu

NODES="${REDIS_CLUSTER_NODES:-redis-1:6379 redis-2:6379 redis-3:6379 redis-4:6379 redis-5:6379 redis-6:6379}"
TIMEOUT_S="${REDIS_CLUSTER_TIMEOUT_S:-90}"

host_of() { echo "${1%:*}"; }
port_of() { echo "${1##*:}"; }
cli() { node="$1"; shift; redis-cli -h "$(host_of "$node")" -p "$(port_of "$node")" "$@"; }

# CLUSTER MEET takes an IP, not a name: resolve each service name on the compose network.
ip_of() {
  ip="$(getent hosts "$(host_of "$1")" | awk '{ print $1; exit }')"
  [ -n "$ip" ] || { echo "redis-cluster: cannot resolve $(host_of "$1")" >&2; exit 1; }
  echo "$ip"
}

wait_until() {
  what="$1"; shift
  deadline=$(( $(date +%s) + TIMEOUT_S ))
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "redis-cluster: timed out after ${TIMEOUT_S}s waiting for $what" >&2; exit 1; }
    sleep 1
  done
}

all_answer() { for n in $NODES; do cli "$n" ping >/dev/null 2>&1 || return 1; done; }
state_ok_everywhere() {
  for n in $NODES; do cli "$n" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1; done
}
# A node owns slots only once a cluster was created on these volumes.
any_slots_assigned() {
  for n in $NODES; do
    [ "$(cli "$n" cluster info 2>/dev/null | tr -d '\r' | awk -F: '$1 == "cluster_slots_assigned" { print $2 }')" -gt 0 ] && return 0
  done
  return 1
}

wait_until "every node to answer PING" all_answer

if any_slots_assigned; then
  if state_ok_everywhere; then
    echo "redis-cluster: already formed, cluster_state ok on every node"
    exit 0
  fi
  echo "redis-cluster: existing cluster, re-introducing nodes at their current addresses"
  for a in $NODES; do
    for b in $NODES; do
      [ "$a" = "$b" ] || cli "$a" cluster meet "$(ip_of "$b")" "$(port_of "$b")" >/dev/null
    done
  done
else
  addrs=""
  for n in $NODES; do addrs="$addrs $(ip_of "$n"):$(port_of "$n")"; done
  echo "redis-cluster: creating (3 masters, 3 replicas) from$addrs"
  # shellcheck disable=SC2086 # one argument per node
  redis-cli --cluster create $addrs --cluster-replicas 1 --cluster-yes
fi

wait_until "cluster_state:ok on every node" state_ok_everywhere
echo "redis-cluster: cluster_state ok on every node"
