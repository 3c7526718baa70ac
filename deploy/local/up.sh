#!/usr/bin/env bash
# `make local`: bring up the no-Docker local infrastructure, idempotently.
#   MariaDB 127.0.0.1:3306 · Redis Cluster 127.0.0.1:7001-7006 · Kafka (KRaft) 127.0.0.1:9092
#   (LOCAL_STACK=<name>: a second stack on the ports of deploy/local/stacks/<name>.env, see lib.sh)
# Components already running are left alone ("already up"); dead ones are restarted on their
# existing data. All state lives under .local/ (see lib.sh). Stop with deploy/local/down.sh.
#
# Environment (defaults): MYSQL_DATABASE=flash_sale MYSQL_USER=flash MYSQL_PASSWORD=flash
#   KAFKA_ORDERS_PARTITIONS=12 KAFKA_DLQ_PARTITIONS=3 KAFKA_HEAP_OPTS="-Xms512m -Xmx512m"
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/lib.sh"
source "$HERE/components.sh"
source "$HERE/services.sh"

# Binaries we need -> the Debian package that provides them. Installed only when missing.
ensure_packages() {
  ensure_binaries \
    mariadbd=mariadb-server mariadb-install-db=mariadb-server mariadb=mariadb-client \
    redis-server=redis-server redis-cli=redis-tools \
    java=openjdk-17-jre-headless mvn=maven \
    nginx=nginx chromium-headless-shell=chromium-headless-shell curl=curl envsubst=gettext-base \
    /usr/share/fonts/truetype/wqy/wqy-microhei.ttc=fonts-wqy-microhei
}

main() {
  local t0=$SECONDS
  take_lock
  ensure_packages
  ensure_mariadb
  ensure_redis
  ensure_kafka
  ensure_stripe_mock
  # Services and nginx: skipped with LOCAL_INFRA_ONLY=1 (e.g. while developing a service by hand).
  if [[ "${LOCAL_INFRA_ONLY:-0}" != 1 ]]; then
    ensure_services
  fi
  say "make local${LOCAL_STACK:+ (stack $LOCAL_STACK)}: up in $((SECONDS - t0)) s (logs in $(rel "$LOG_DIR"))"
  if [[ "${LOCAL_INFRA_ONLY:-0}" != 1 ]]; then
    local nginx_port="${NGINX_PORT:-$(setting NGINX_PORT)}"
    say "  shop        http://localhost:$nginx_port/"
    say "  API docs    http://localhost:$nginx_port/docs/catalog/  /docs/gateway/  /docs/processor/  /docs/payments/"
    say "  services    catalog :$(setting CATALOG_PORT)  gateway :$(setting GATEWAY_PORT)  processor :$(setting PROCESSOR_PORT)  payments :$(setting PAYMENT_PORT) (stripe-mock :$STRIPE_MOCK_PORT)"
  fi
}

main "$@"
