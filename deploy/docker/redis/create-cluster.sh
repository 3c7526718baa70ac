#!/bin/sh
# One-shot creator of the Redis Cluster of `make up`: runs in a redis:7 container after the six
# nodes are healthy, and exits 0 once the cluster is whole. Safe to run again:
#  - fresh nodes (no slots anywhere): redis-cli --cluster create … --cluster-replicas 1
#  - an existing cluster (volumes kept): trusted only when every node lists every node at its
#    current address, with the link connected and no fail/handshake flag, and cluster_state is ok
#    everywhere. Otherwise the containers came back on other IPs (`make down` removes the network)
#    while nodes.conf holds the old ones: every node is introduced to every other at its current IP
#    (CLUSTER MEET); a node that already knows the peer by its id only updates the address, so the
#    cluster heals instead of being recreated.
# cluster_state alone is no proof: right after such a restart every node still reports ok for a few
# seconds, until cluster-node-timeout marks its (moved) peers failed.
# Environment: REDIS_CLUSTER_NODES (space separated host:port, default redis-1:6379 … redis-6:6379),
#   REDIS_CLUSTER_TIMEOUT_S (default 90), REDIS_CLUSTER_SETTLE_S (default 3).
set -eu

NODES="${REDIS_CLUSTER_NODES:-redis-1:6379 redis-2:6379 redis-3:6379 redis-4:6379 redis-5:6379 redis-6:6379}"
TIMEOUT_S="${REDIS_CLUSTER_TIMEOUT_S:-90}"
# A whole cluster must stay whole this long before it is trusted (a flapping link is not whole).
SETTLE_S="${REDIS_CLUSTER_SETTLE_S:-3}"

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
    [ "$(date +%s)" -lt "$deadline" ] || {
      echo "redis-cluster: timed out after ${TIMEOUT_S}s waiting for $what" >&2
      for n in $NODES; do echo "--- CLUSTER NODES of $n:" >&2; cli "$n" cluster nodes >&2 2>/dev/null || true; done
      exit 1
    }
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

# The nodes' current ip:port, one per line (resolved again on every call: cheap, and always true).
current_addresses() { for n in $NODES; do echo "$(ip_of "$n"):$(port_of "$n")"; done; }

# membership_whole: every node's CLUSTER NODES has exactly one line per node, each at the node's
# current ip:port, link connected, and no flag of a broken or unfinished link.
# A line: <id> <ip:port@cport[,hostname]> <flags> <master> <ping> <pong> <epoch> <link-state> <slots…>
membership_whole() {
  want="$(current_addresses | sort | tr '\n' ' ')"
  for n in $NODES; do
    table="$(cli "$n" cluster nodes 2>/dev/null | tr -d '\r')" || return 1
    [ -n "$table" ] || return 1
    # Any line in a bad state fails the node; otherwise its addresses must be exactly the wanted set.
    echo "$table" | awk '$8 != "connected" || $3 ~ /(^|,)(fail\??|handshake|noaddr)(,|$)/ { bad = 1 } END { exit bad }' || return 1
    have="$(echo "$table" | awk '{ split($2, a, "@"); print a[1] }' | sort | tr '\n' ' ')"
    [ "$have" = "$want" ] || return 1
  done
}

whole() { membership_whole && state_ok_everywhere; }
# whole, and still whole SETTLE_S seconds later.
whole_and_settled() { whole && sleep "$SETTLE_S" && whole; }

introduce_all() {
  for a in $NODES; do
    for b in $NODES; do
      [ "$a" = "$b" ] || cli "$a" cluster meet "$(ip_of "$b")" "$(port_of "$b")" >/dev/null
    done
  done
}

wait_until "every node to answer PING" all_answer

if any_slots_assigned; then
  if whole_and_settled; then
    echo "redis-cluster: already formed: every node knows every node at its current address, cluster_state ok"
    exit 0
  fi
  echo "redis-cluster: existing cluster, (re-)introducing the nodes at their current addresses: $(current_addresses | tr '\n' ' ')"
  introduce_all
else
  addrs=""
  for n in $NODES; do addrs="$addrs $(ip_of "$n"):$(port_of "$n")"; done
  echo "redis-cluster: creating (3 masters, 3 replicas) from$addrs"
  # shellcheck disable=SC2086 # one argument per node
  redis-cli --cluster create $addrs --cluster-replicas 1 --cluster-yes
fi

t0="$(date +%s)"
wait_until "every node to know every node at its current address, connected, with cluster_state ok" whole_and_settled
echo "redis-cluster: whole after $(( $(date +%s) - t0 )) s: six nodes connected at their current addresses, cluster_state ok everywhere"
