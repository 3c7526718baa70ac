# shellcheck shell=bash
# The four services and the front end of `make local`, started after the infrastructure.
# Sourced by up.sh and component.sh (after lib.sh and components.sh). Each service runs its
# TypeScript sources directly on Node 24, with the variables of .env (if present) over the
# defaults of .env.example, the same names Docker Compose uses.

# name:port (the workspace is services/<name>; the port is the service's own setting)
SERVICES=(
  "catalog-service:$(setting CATALOG_PORT)" "order-gateway:$(setting GATEWAY_PORT)"
  "order-processor:$(setting PROCESSOR_PORT)" "payment-service:$(setting PAYMENT_PORT)"
)

service_components() {
  local s
  for s in "${SERVICES[@]}"; do echo "${s%%:*}"; done
  echo nginx
}

service_port() {
  local s
  for s in "${SERVICES[@]}"; do [[ "${s%%:*}" == "$1" ]] && { echo "${s##*:}"; return 0; }; done
  return 1
}

# Readiness, not liveness: a service is up when its dependencies answer too.
service_healthy() {
  curl -fsS --max-time 2 "http://127.0.0.1:$(service_port "$1")/health/ready" >/dev/null
}

# The environment a local service gets: the stack's settings (lib.sh: .env.example's defaults, .env's
# overrides, a second stack's ports).
service_env_file() {
  local merged="$CONF_DIR/services.env"
  mkdir -p "$CONF_DIR"
  settings >"$merged"
  echo "$merged"
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

start_service() {
  local name="$1" env_file line key value node_options="" vars=()
  env_file="$(service_env_file)"
  # One NAME=value per line (quotes around the value are dropped); the later lines of a name win.
  while IFS= read -r line; do
    key="${line%%=*}"; value="${line#*=}"
    value="${value%\"}"; value="${value#\"}"
    vars+=("$key=$value")
    [[ "$key" == "$(service_prefix "$name")_NODE_OPTIONS" ]] && node_options="$value"
  done <"$env_file"
  (( $(node_major) >= 24 )) || die "$name needs Node 24 (found $(node --version 2>/dev/null || echo none)); run \`make node\` or \`make local\`"
  # env -i keeps the service's environment to what the files say, plus PATH for node itself.
  spawn "$name" env -i PATH="$PATH" HOME="${HOME:-/root}" "${vars[@]}" NODE_OPTIONS="$node_options" \
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
  for s in "${SERVICES[@]}"; do ensure_service "${s%%:*}"; done
  ensure_frontend_build
  bash "$HERE/nginx.sh" start
}
