#!/usr/bin/env bash
# Print each local component as up or down. Exit status 0 if everything is up, 3 otherwise.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/lib.sh"
source "$HERE/components.sh"

# healthy_fn <component>: the health check for a known component (empty for unknown ones,
# e.g. processes added later; for those a live pid is all we can check).
healthy_fn() {
  case "$1" in
    mariadb) echo mariadb_healthy ;;
    kafka) echo kafka_healthy ;;
    redis-*) echo "redis_${1#redis-}_healthy" ;;
    *) echo "" ;;
  esac
}

endpoint() {
  case "$1" in
    mariadb) echo "127.0.0.1:$MARIADB_PORT" ;;
    kafka) echo "$KAFKA_BOOTSTRAP" ;;
    redis-*) echo "127.0.0.1:${1#redis-}" ;;
  esac
}

report() {
  local c="$1" pid fn
  fn="$(healthy_fn "$c")"
  if pid="$(component_pid "$c")"; then
    if [[ -z "$fn" ]] || "$fn" >/dev/null 2>&1; then
      printf '%-14s up    pid %-7s %s\n' "$c" "$pid" "$(endpoint "$c")"
      return 0
    fi
    printf '%-14s down  pid %-7s running but not answering on %s\n' "$c" "$pid" "$(endpoint "$c")"
    return 1
  fi
  printf '%-14s down\n' "$c"
  return 1
}

report_redis_cluster() {
  local state
  if redis_cluster_ok_everywhere; then
    printf '%-14s up    cluster_state ok on all %d nodes\n' redis-cluster "${#REDIS_PORTS[@]}"
    return 0
  fi
  state="$(redis_cluster_info "${REDIS_PORTS[0]}" cluster_state || true)"
  printf '%-14s down  cluster_state %s (as seen by %s)\n' redis-cluster "${state:-unreachable}" "${REDIS_PORTS[0]}"
  return 1
}

main() {
  local rc=0 c f known extra=()
  known=" $(infra_components | tr '\n' ' ') "
  for c in $(infra_components); do
    report "$c" || rc=3
    # The cluster as a whole, right after its last node.
    [[ "$c" == "redis-${REDIS_PORTS[-1]}" ]] && { report_redis_cluster || rc=3; }
  done
  # Processes started by later steps (services, nginx) that have pid files here.
  shopt -s nullglob
  for f in "$RUN_DIR"/*.pid; do
    c="$(basename "$f" .pid)"
    [[ "$known" == *" $c "* ]] || extra+=("$c")
  done
  for c in "${extra[@]}"; do report "$c" || rc=3; done
  exit "$rc"
}

main "$@"
