#!/usr/bin/env bash
# `make up` with a Docker engine: build the images, start the stack, wait until every long-running
# container is healthy (and every one-shot exited 0), then print the URLs. On failure, show which
# container is not healthy and the end of its log.
# Environment: COMPOSE (default "docker compose"), UP_TIMEOUT_S (default 600), UP_RECOVER_S (120).
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

# Containers not where `up --wait` wants them (healthy, or a one-shot exited 0), one per line:
# "service|state|health|exit-code" (health is empty for a container without a healthcheck).
not_ready() {
  "${COMPOSE[@]}" ps -a --format '{{.Service}}|{{.State}}|{{.Health}}|{{.ExitCode}}' |
    awk -F'|' '($3 != "" && $3 != "healthy") || ($2 == "exited" && $4 != "0") || ($2 != "running" && $2 != "exited")'
}

# compose --wait gives up on the first container it sees unhealthy, even one that is unhealthy
# only because what it checks was being replaced: nginx (its healthcheck goes through to the
# services) or a service (its readiness checks MySQL, Redis, Kafka) when this `up` recreated what
# is behind it (DEBUG=1 and back recreates mysql, kafka and the services behind the same nginx)
# and their start outlasted its failed checks (100 s for nginx), which a busy machine does. Their
# healthchecks keep running and pass again once the replacements answer (often before compose has
# finished saying it gave up). So when --wait failed for that reason alone ("container … is
# unhealthy"), wait up to RECOVER_S more for every container to be healthy (or a one-shot exited
# 0); anything created, exited or restarting, or still not healthy then, is a failure.
RECOVER_S="${UP_RECOVER_S:-120}"
recovered() {
  local left gave_up deadline=$((SECONDS + RECOVER_S))
  gave_up="$(sed -En 's/.*container ([^ ]+) is unhealthy$/\1/p' "$up_log" | sort -u | paste -sd ' ')"
  [[ -n "$gave_up" ]] || return 1
  left="$(not_ready)" || return 1
  while [[ -n "$left" ]]; do
    if cut -d'|' -f2 <<<"$left" | grep -qv '^running$' || ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 2
    left="$(not_ready)" || return 1
  done
  echo "make up: compose --wait gave up on $gave_up (unhealthy); all healthy $((SECONDS + RECOVER_S - deadline)) s later"
}

t0=$SECONDS
# The images first, on their own: a failed build must not pass for a health problem below.
"${COMPOSE[@]}" build
# --wait: until every service is healthy, or exited 0 when others wait for its completion.
# Its output is shown as it comes and kept, to tell why it failed.
up_log="$(mktemp)"
trap 'rm -f "$up_log"' EXIT
if ! "${COMPOSE[@]}" up -d --no-build --remove-orphans --wait --wait-timeout "$TIMEOUT_S" 2>&1 | tee "$up_log" &&
  ! recovered; then
  echo "make up: the stack did not become healthy; containers:" >&2
  "${COMPOSE[@]}" ps -a >&2 || true
  for c in $(not_ready | cut -d'|' -f1 | sort -u); do
    echo "--- last log lines of $c" >&2
    "${COMPOSE[@]}" logs --tail=30 "$c" >&2 || true
  done
  exit 1
fi

# --wait can accept nginx's health from before this run: when `up` recreated the services (new
# IPs) but not nginx, nginx follows them once its DNS answers expire (5 s). Wait until it proxies.
# Every service through a path nginx never caches: /api/products may come from the micro-cache,
# which serves a stale list while the catalog is unreachable (proxy_cache_use_stale error).
port="$(setting NGINX_PORT)"
failed_check=''
through_nginx() {
  local path
  for path in /docs/catalog/json /docs/gateway/json /docs/processor/json /docs/payments/json /api/payments/config; do
    failed_check="$path inside the nginx container"
    "${COMPOSE[@]}" exec -T nginx wget -q -O /dev/null "http://127.0.0.1:${port:-8080}$path" >/dev/null 2>&1 || return 1
  done
  failed_check="/docs/catalog/json on 127.0.0.1:${port:-8080} from this host"
  through_published_port
}
# And from this host through the published port, the way a browser or make test-compose comes in
# (the checks above run inside the container): the port forward must reach nginx too. bash's
# /dev/tcp, so no HTTP client is needed on the host.
through_published_port() {
  local status=''
  { exec 3<>"/dev/tcp/127.0.0.1/${port:-8080}"; } 2>/dev/null || return 1
  printf 'GET /docs/catalog/json HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3 2>/dev/null
  IFS= read -r -t 10 status <&3 2>/dev/null || true
  exec 3<&- 3>&-
  [[ "$status" == "HTTP/1."?" 200 "* ]]
}
healthy_at=$SECONDS
retries=0
first_failure=''
deadline=$((SECONDS + 30))
until through_nginx; do
  [[ -n "$first_failure" ]] || first_failure="$failed_check"
  if ((SECONDS >= deadline)); then
    echo "make up: healthy, but nginx (on 127.0.0.1:${port:-8080} from here too) does not reach the services after 30 s (last failed: $failed_check); its log:" >&2
    "${COMPOSE[@]}" logs --tail=30 nginx >&2 || true
    exit 1
  fi
  retries=$((retries + 1))
  sleep 1
done
# Said only when it took a retry: how long compose's "healthy" came before what clients get.
if ((retries > 0)); then
  echo "make up: nginx answered for every service (also on 127.0.0.1:${port:-8080}) $((SECONDS - healthy_at)) s after compose reported healthy; first failed: $first_failure"
fi

echo "make up: healthy in $((SECONDS - t0)) s"
echo "  shop        http://localhost:${port:-8080}/"
echo "  API         http://localhost:${port:-8080}/api/products   /api/orders   /api/payments"
echo "  API docs    http://localhost:${port:-8080}/docs/catalog/  /docs/gateway/  /docs/processor/  /docs/payments/"
echo "  logs        make logs [S=<service>]    status: make ps    stop: make down"
