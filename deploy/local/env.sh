#!/usr/bin/env bash
# Prints a local stack's settings as shell assignments: every variable its services get (.env.example,
# .env, with LOCAL_STACK=<name> that stack's ports) and the addresses the tests and the bench read
# (CATALOG_URL, GATEWAY_URL, PROCESSOR_URL, PAYMENTS_URL, NGINX_URL). To point a shell at the fault stack:
#   set -a; source <(LOCAL_STACK=faults deploy/local/env.sh); set +a
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  local name
  for name in "${!SETTINGS[@]}"; do printf '%s=%q\n' "$name" "${SETTINGS[$name]}"; done
  printf 'LOCAL_STACK=%q\n' "$LOCAL_STACK"
  printf 'CATALOG_URL=http://127.0.0.1:%s\n' "$(setting CATALOG_PORT)"
  printf 'GATEWAY_URL=http://127.0.0.1:%s\n' "$(setting GATEWAY_PORT)"
  printf 'PROCESSOR_URL=http://127.0.0.1:%s\n' "$(setting PROCESSOR_PORT)"
  printf 'PAYMENTS_URL=http://127.0.0.1:%s\n' "$(setting PAYMENT_PORT)"
  printf 'NGINX_URL=http://127.0.0.1:%s\n' "$(setting NGINX_PORT)"
}

main "$@"
