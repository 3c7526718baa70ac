#!/usr/bin/env bash
# nginx for `make local`: deploy/local/nginx.sh start|stop|status
#   start   render deploy/nginx/nginx.conf.template, `nginx -t`, start it as our own process
#           (pid .local/run/nginx.pid, log .local/logs/nginx.log); reloads the config if it
#           already runs, so calling it twice is harmless.
#   stop    stop the nginx we started (and only that one)
#   status  say whether it runs
# Serves frontend/dist: build it first (npm run --workspace frontend build).
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

COMPONENT=nginx
CONF="$LOCAL_DIR/nginx/nginx.conf"
# The port is the stack's setting (lib.sh; NGINX_PORT in the environment still wins), the upstreams the
# local services' own ports.
export NGINX_PORT="${NGINX_PORT:-$(setting NGINX_PORT)}"
export CATALOG_UPSTREAM="127.0.0.1:$(setting CATALOG_PORT)" GATEWAY_UPSTREAM="127.0.0.1:$(setting GATEWAY_PORT)" \
  PROCESSOR_UPSTREAM="127.0.0.1:$(setting PROCESSOR_PORT)" PAYMENT_UPSTREAM="127.0.0.1:$(setting PAYMENT_PORT)"
# nginx writes its own pid file; spawn's pid file is the same path (lib.sh's pid_file).
export NGINX_PID NGINX_TEMP_DIR="$LOCAL_DIR/nginx/tmp"
NGINX_PID="$(pid_file "$COMPONENT")"

# up.sh/down.sh call this script while they hold .local/.lock on fd 9; a child inherits that fd,
# and taking the lock again through a new open file would wait for the parent forever.
lock() {
  if [[ "$(readlink "/proc/$$/fd/9" 2>/dev/null)" == "$LOCAL_DIR/.lock" ]]; then
    flock -w 300 9 || die "could not take $(rel "$LOCAL_DIR/.lock")"
  else
    take_lock
  fi
}

nginx_bin() {
  if command -v nginx >/dev/null 2>&1; then command -v nginx; else echo /usr/sbin/nginx; fi
}

render() {
  ensure_binaries nginx=nginx envsubst=gettext-base
  ensure_local_dirs
  bash "$DEPLOY_DIR/nginx/render.sh" "$CONF" >/dev/null
  # -e: the startup error log, before the config's own error_log applies (the compiled-in
  # /var/log/nginx path may not be writable).
  "$(nginx_bin)" -e stderr -p "$LOCAL_DIR/nginx" -c "$CONF" -t -q >>"$(log_file "$COMPONENT")" 2>&1 ||
    die "nginx -t rejected $(rel "$CONF") — see $(rel "$(log_file "$COMPONENT")")"
}

start() {
  lock
  if [[ ! -f "$ROOT/frontend/dist/index.html" ]]; then
    say "nginx: warning: frontend/dist/index.html is missing — run npm run --workspace frontend build"
  fi
  render
  local pid
  if pid="$(component_pid "$COMPONENT")"; then
    kill -HUP "$pid"
    say "nginx: already running (pid $pid), config reloaded — http://localhost:$NGINX_PORT"
    return 0
  fi
  forget_component "$COMPONENT"
  assert_ports_free "$COMPONENT" "$NGINX_PORT"
  # daemon off: the master stays the process spawn started, so its pid and start time are ours.
  spawn "$COMPONENT" "$(nginx_bin)" -e stderr -p "$LOCAL_DIR/nginx" -c "$CONF" -g 'daemon off;'
  if ! wait_for_port "$NGINX_PORT" 15 "$COMPONENT"; then
    die_component "$COMPONENT"
  fi
  say "nginx: up — http://localhost:$NGINX_PORT (pid $(component_pid "$COMPONENT"))"
}

stop() {
  lock
  # QUIT: graceful, workers finish the requests they are serving.
  stop_component "$COMPONENT" 15 QUIT
}

status() {
  local pid
  if pid="$(component_pid "$COMPONENT")"; then
    say "nginx: running (pid $pid) — http://localhost:$NGINX_PORT"
  else
    say "nginx: not running"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
