# shellcheck shell=bash
# The four services and the front end of `make local`, started after the infrastructure.
# Sourced by up.sh and component.sh (after lib.sh and components.sh). Each service runs its
# TypeScript sources directly on Node 24, with the variables of .env (if present) over the
# defaults of .env.example, the same names Docker Compose uses.

# The workspace of each is services/<name>.
SERVICES=(catalog-service order-gateway order-processor payment-service)

service_components() {
  printf '%s\n' "${SERVICES[@]}"
  echo nginx
}

# service_port <name>: the service's own <PREFIX>_PORT setting; fails for a name that is no service.
service_port() {
  local prefix
  prefix="$(service_prefix "$1")"
  [[ -n "$prefix" ]] || return 1
  setting "${prefix}_PORT"
}

# Readiness, not liveness: a service is up when its dependencies answer too.
service_healthy() {
  curl -fsS --max-time 2 "http://127.0.0.1:$(service_port "$1")/health/ready" >/dev/null
}

# The variable prefix of a service's settings (CATALOG_PORT, GATEWAY_NODE_OPTIONS, …).
service_prefix() {
  case "$1" in
    catalog-service) echo CATALOG ;;
    order-gateway) echo GATEWAY ;;
    order-processor) echo PROCESSOR ;;
    payment-service) echo PAYMENT ;;
  esac
}

# A service's environment is the stack's settings (lib.sh: .env.example's defaults, .env's overrides,
# a second stack's ports), its NODE_OPTIONS its own <PREFIX>_NODE_OPTIONS.
start_service() {
  local name="$1" key vars=()
  for key in "${!SETTINGS[@]}"; do vars+=("$key=${SETTINGS[$key]}"); done
  (( $(node_major) >= 24 )) || die "$name needs Node 24 (found $(node --version 2>/dev/null || echo none)); run \`make node\` or \`make local\`"
  # env -i keeps the service's environment to what the files say, plus PATH for node itself.
  spawn "$name" env -i PATH="$PATH" HOME="${HOME:-/root}" "${vars[@]}" NODE_OPTIONS="$(setting "$(service_prefix "$name")_NODE_OPTIONS")" \
    node "$ROOT/services/$name/src/server.ts"
}

ensure_service() {
  local name="$1"
  # shellcheck disable=SC2317
  _healthy() { service_healthy "$name"; }
  # shellcheck disable=SC2317
  _start() { start_service "$name"; }
  ensure_component "$name" 60 _healthy _start "$(service_port "$name")"
}

# The Vite build is redone when a front-end source is newer than the build.
ensure_frontend_build() {
  local stamp="$ROOT/frontend/dist/index.html"
  if [[ -f "$stamp" ]] && [[ -z "$(find "$ROOT/frontend/src" "$ROOT/frontend/index.html" "$ROOT/frontend/vite.config.ts" -newer "$stamp" -print -quit 2>/dev/null)" ]]; then
    say "frontend: build is current"
    return 0
  fi
  say "frontend: building (vite)"
  (cd "$ROOT" && npm run --silent --workspace frontend build >>"$(log_file frontend-build)" 2>&1) ||
    die "the front-end build failed — see $(rel "$(log_file frontend-build)")"
}

ensure_services() {
  local s
  for s in "${SERVICES[@]}"; do ensure_service "$s"; done
  ensure_frontend_build
  bash "$HERE/nginx.sh" start
}
