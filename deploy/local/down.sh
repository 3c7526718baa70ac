#!/usr/bin/env bash
# `make local-down`: stop exactly the processes whose pid files are in .local/run/ (SIGTERM,
# bounded wait, then SIGKILL), then those of every second stack (.local/stacks/<name>/run/, see
# lib.sh's LOCAL_STACK; with LOCAL_STACK set, that stack alone). Nothing is looked up by name, so
# nothing else is ever killed. Data in .local/data is kept unless --purge is given.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/lib.sh"

usage() { echo "usage: $0 [--purge]" >&2; exit 2; }

# Infrastructure (MariaDB, Redis, Kafka) is stopped last, so that anything added later that
# depends on it (services, nginx) shuts down while its backends are still there.
is_infra() { [[ "$1" == mariadb || "$1" == kafka || "$1" == redis-* ]]; }

# stop_group <component...>: SIGTERM all of them at once, then wait for each (bounded, then
# SIGKILL). 30 s covers Kafka's controlled shutdown and MariaDB flushing its buffer pool.
stop_group() {
  local c pid running=() pids=() i
  for c in "$@"; do
    if pid="$(component_pid "$c")"; then
      kill -TERM "$pid" 2>/dev/null || true
      running+=("$c"); pids+=("$pid")
    else
      report_not_running "$c"
    fi
  done
  for i in "${!running[@]}"; do
    finish_stop "${running[$i]}" 30 TERM "${pids[$i]}"
  done
}

main() {
  local purge=0 f c apps=() infra=()
  case "${1:-}" in
    "") ;;
    --purge) purge=1 ;;
    *) usage ;;
  esac
  take_lock
  shopt -s nullglob
  for f in "$RUN_DIR"/*.pid; do
    c="$(basename "$f" .pid)"
    if is_infra "$c"; then infra+=("$c"); else apps+=("$c"); fi
  done
  ((${#apps[@]} + ${#infra[@]})) || say "nothing running (no pid files in $(rel "$RUN_DIR"))"
  stop_group "${apps[@]}"
  stop_group "${infra[@]}"
  rm -f "$RUN_DIR"/*.start "$RUN_DIR/mysqld.sock" "$RUN_DIR/mysqld.sock.lock"
  if ((purge)); then
    rm -rf "$DATA_DIR" "$CONF_DIR"
    say "purged $(rel "$DATA_DIR")"
  fi
  [[ -z "$LOCAL_STACK" ]] || return 0
  local stack
  for stack in "$LOCAL_DIR"/stacks/*/; do
    stack="$(basename "$stack")"
    say "--- stack $stack"
    LOCAL_STACK="$stack" bash "$HERE/down.sh" "$@"
  done
}

main "$@"
