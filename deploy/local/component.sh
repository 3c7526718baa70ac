#!/usr/bin/env bash
# Stop, start or kill ONE component, for fault-injection tests.
#   deploy/local/component.sh stop|start|kill <mariadb|kafka|redis-7001..redis-7006|catalog-service|order-gateway|order-processor|nginx>
# stop  = SIGTERM, bounded wait, then SIGKILL
# kill  = SIGKILL at once (a crash)
# start = start on its existing data and wait until healthy (a Redis node also waits until it
#         has rejoined the cluster from its nodes.conf)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/lib.sh"
source "$HERE/components.sh"
source "$HERE/services.sh"

usage() {
  echo "usage: $0 stop|start|kill <$({ infra_components; service_components; } | paste -sd'|')>" >&2
  exit 2
}

main() {
  (($# == 2)) || usage
  local action="$1" name="$2"
  # Not `| grep -q`: under pipefail, grep quitting at the first match can kill the listing with
  # SIGPIPE and fail the pipeline (it did, for mariadb, the first name listed).
  local known
  known="$(infra_components; service_components)"
  grep -qx -- "$name" <<<"$known" || usage
  take_lock
  case "$action" in
    stop) stop_component "$name" 30 TERM ;;
    kill) stop_component "$name" 10 KILL ;;
    start)
      if [[ "$name" == nginx ]]; then bash "$HERE/nginx.sh" start
      elif service_port "$name" >/dev/null; then ensure_service "$name"
      else start_component_by_name "$name"; fi ;;
    *) usage ;;
  esac
}

main "$@"
