#!/usr/bin/env bash
# `make up` with a Docker engine: build the images, start the stack, wait until every long-running
# container is healthy (and every one-shot exited 0), then print the URLs. On failure, show which
# container is not healthy and the end of its log.
# Environment: COMPOSE (default "docker compose"), UP_TIMEOUT_S (default 600).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

read -r -a COMPOSE <<<"${COMPOSE:-docker compose}"
TIMEOUT_S="${UP_TIMEOUT_S:-600}"

if ! "${COMPOSE[@]}" version >/dev/null 2>&1; then
  echo "make up: the Docker Compose plugin is missing (docker compose version failed); install it, or use make local" >&2
  exit 1
fi

# The value compose itself interpolates: the shell's, else .env's, else .env.example's default.
setting() {
  local name="$1" value="${!1:-}"
  [[ -n "$value" ]] || value="$(sed -n "s/^$name=//p" .env 2>/dev/null | tail -n 1)"
  [[ -n "$value" ]] || value="$(sed -n "s/^$name=//p" .env.example | tail -n 1)"
  echo "$value"
}

t0=$SECONDS
# --wait: until every service is healthy, or exited 0 when others wait for its completion.
if ! "${COMPOSE[@]}" up -d --build --remove-orphans --wait --wait-timeout "$TIMEOUT_S"; then
  echo "make up: the stack did not become healthy; containers:" >&2
  "${COMPOSE[@]}" ps -a >&2 || true
  for c in $("${COMPOSE[@]}" ps -a --format '{{.Service}} {{.Health}} {{.State}} {{.ExitCode}}' |
    awk '($2 != "" && $2 != "healthy") || ($3 == "exited" && $4 != "0") { print $1 }' | sort -u); do
    echo "--- last log lines of $c" >&2
    "${COMPOSE[@]}" logs --tail=30 "$c" >&2 || true
  done
  exit 1
fi

# --wait can accept nginx's health from before this run: when `up` recreated the services (new
# IPs) but not nginx, nginx follows them once its DNS answers expire (5 s). Wait until it proxies.
port="$(setting NGINX_PORT)"
through_nginx() {
  local path
  for path in '/api/products?pageSize=1' /docs/gateway/json /docs/processor/json; do
    "${COMPOSE[@]}" exec -T nginx wget -q -O /dev/null "http://127.0.0.1:${port:-8080}$path" >/dev/null 2>&1 || return 1
  done
}
deadline=$((SECONDS + 30))
until through_nginx; do
  if ((SECONDS >= deadline)); then
    echo "make up: healthy, but nginx does not reach the services after 30 s; its log:" >&2
    "${COMPOSE[@]}" logs --tail=30 nginx >&2 || true
    exit 1
  fi
  sleep 1
done

echo "make up: healthy in $((SECONDS - t0)) s"
echo "  shop        http://localhost:${port:-8080}/"
echo "  API         http://localhost:${port:-8080}/api/products   /api/orders"
echo "  API docs    http://localhost:${port:-8080}/docs/catalog/  /docs/gateway/  /docs/processor/"
echo "  logs        make logs [S=<service>]    status: make ps    stop: make down"
