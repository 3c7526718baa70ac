#!/usr/bin/env bash
# Renders deploy/nginx/nginx.conf.template for `make local` into .local/nginx/nginx.conf, with the
# pid file and temp paths under .local/ and the Vite build (frontend/dist) as the root. The Docker
# image renders the same template with its own envsubst step (see the template's header).
#
# Usage: deploy/nginx/render.sh [output-file]      (default .local/nginx/nginx.conf)
# Environment (defaults): NGINX_PORT=8080 CATALOG_UPSTREAM=127.0.0.1:3001
#   GATEWAY_UPSTREAM=127.0.0.1:3002 PROCESSOR_UPSTREAM=127.0.0.1:3003
#   PAYMENT_UPSTREAM=127.0.0.1:3004
#   CATALOG_TARGET=catalog GATEWAY_TARGET=gateway PROCESSOR_TARGET=processor PAYMENT_TARGET=payment (the template's
#   upstream groups: fixed addresses, keepalive) NGINX_RESOLVER=127.0.0.1 (never asked: no target
#   needs a DNS lookup here; the Docker image sets its own targets and Docker's DNS)
#   NGINX_ROOT=<repo>/frontend/dist NGINX_PID=<repo>/.local/run/nginx.pid NGINX_TEMP_DIR=<repo>/.local/nginx/tmp
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TEMPLATE="$ROOT/deploy/nginx/nginx.conf.template"
OUT="${1:-$ROOT/.local/nginx/nginx.conf}"

export NGINX_PORT="${NGINX_PORT:-8080}"
export CATALOG_UPSTREAM="${CATALOG_UPSTREAM:-127.0.0.1:3001}"
export GATEWAY_UPSTREAM="${GATEWAY_UPSTREAM:-127.0.0.1:3002}"
export PROCESSOR_UPSTREAM="${PROCESSOR_UPSTREAM:-127.0.0.1:3003}"
export PAYMENT_UPSTREAM="${PAYMENT_UPSTREAM:-127.0.0.1:3004}"
export CATALOG_TARGET="${CATALOG_TARGET:-catalog}"
export GATEWAY_TARGET="${GATEWAY_TARGET:-gateway}"
export PROCESSOR_TARGET="${PROCESSOR_TARGET:-processor}"
export PAYMENT_TARGET="${PAYMENT_TARGET:-payment}"
export NGINX_RESOLVER="${NGINX_RESOLVER:-127.0.0.1}"
export NGINX_ROOT="${NGINX_ROOT:-$ROOT/frontend/dist}"
export NGINX_PID="${NGINX_PID:-$ROOT/.local/run/nginx.pid}"
export NGINX_TEMP_DIR="${NGINX_TEMP_DIR:-$ROOT/.local/nginx/tmp}"

if ! command -v envsubst >/dev/null 2>&1; then
  echo "nginx: installing gettext-base (envsubst)" >&2
  sudo=()
  [[ $EUID -eq 0 ]] || sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q gettext-base >/dev/null
fi

mkdir -p "$(dirname "$OUT")" "$(dirname "$NGINX_PID")" "$NGINX_TEMP_DIR"
# Name the variables: envsubst must leave nginx's own ($host, $uri, …) alone.
# shellcheck disable=SC2016
envsubst '${NGINX_PORT} ${CATALOG_UPSTREAM} ${GATEWAY_UPSTREAM} ${PROCESSOR_UPSTREAM} ${PAYMENT_UPSTREAM} ${CATALOG_TARGET} ${GATEWAY_TARGET} ${PROCESSOR_TARGET} ${PAYMENT_TARGET} ${NGINX_RESOLVER} ${NGINX_ROOT} ${NGINX_PID} ${NGINX_TEMP_DIR}' \
  <"$TEMPLATE" >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "$OUT"
