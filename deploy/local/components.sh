# shellcheck shell=bash
# The components of the local stack: how to start each one, how to tell it is healthy, and the
# one-time setup around it. Sourced by up.sh, status.sh and component.sh (after lib.sh).
#
# The ports are the services' own settings (lib.sh's `setting`: .env.example, the same as in the Docker
# Compose topology, docs/ARCHITECTURE.md §6; a second stack's from deploy/local/stacks/<name>.env):
# MYSQL_PORT, the ports of REDIS_NODES (each node's cluster bus is its port + 10000), KAFKA_BROKERS'
# port (the KRaft controller listens on the next one), STRIPE_API_URL's port (TLS on the next one).
# Environment variables read (with defaults):
#   MYSQL_DATABASE=flash_sale  MYSQL_USER=flash  MYSQL_PASSWORD=flash
#   KAFKA_ORDERS_PARTITIONS=12  KAFKA_DLQ_PARTITIONS=3
#   KAFKA_HEAP_OPTS="-Xms512m -Xmx512m"
# and KAFKA_JVM_PERFORMANCE_OPTS (the broker's JIT and collector flags; Kafka's own name and default),
# from the environment or the settings (the fault stack sets its own).

MARIADB_PORT="$(setting MYSQL_PORT)"
MARIADB_SOCKET="$RUN_DIR/mysqld.sock"
REDIS_PORTS=()
for _node in $(setting REDIS_NODES | tr ',' ' '); do REDIS_PORTS+=("$(port_of "$_node")"); done
unset _node
KAFKA_PORT="$(port_of "$(setting KAFKA_BROKERS | cut -d, -f1)")"
KAFKA_CONTROLLER_PORT=$((KAFKA_PORT + 1))
KAFKA_BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
KAFKA_LIBS="$TOOLS_DIR/kafka-libs"

MYSQL_DATABASE="${MYSQL_DATABASE:-flash_sale}"
MYSQL_USER="${MYSQL_USER:-flash}"
MYSQL_PASSWORD="${MYSQL_PASSWORD:-flash}"
KAFKA_ORDERS_PARTITIONS="${KAFKA_ORDERS_PARTITIONS:-12}"
KAFKA_DLQ_PARTITIONS="${KAFKA_DLQ_PARTITIONS:-3}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms512m -Xmx512m}"
KAFKA_JVM_PERFORMANCE_OPTS="${KAFKA_JVM_PERFORMANCE_OPTS:-$(setting KAFKA_JVM_PERFORMANCE_OPTS)}"
# As in Kafka's kafka-run-class.sh.
KAFKA_JVM_PERFORMANCE_OPTS="${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true}"

# Names accepted by component.sh and reported by status.sh, in start order.
infra_components() {
  echo mariadb
  local p
  for p in "${REDIS_PORTS[@]}"; do echo "redis-$p"; done
  echo kafka
  echo stripe-mock
}

# Set by ensure_component: 1 if it had to start the process, 0 if it was already up.
STARTED=0

# ensure_component <name> <timeout_s> <healthy_fn> <start_fn> <port...>
# The shared start protocol for every server:
#   ours and healthy          -> "<name>: already up"
#   ours but not healthy yet  -> wait for it (a previous run may still be starting it)
#   not ours / not running    -> refuse if a foreign process holds one of its ports,
#                                else start it and wait until healthy -> "<name>: started"
# On timeout the half-started process is stopped and the script exits with one line.
ensure_component() {
  local name="$1" timeout="$2" healthy="$3" start="$4"
  shift 4
  STARTED=0
  if component_running "$name"; then
    if "$healthy" >/dev/null 2>&1; then
      say "$name: already up"
      return 0
    fi
    if wait_for "$timeout" "$name" "$healthy"; then
      say "$name: up"
      return 0
    fi
    stop_component "$name" 10 >/dev/null
    die_component "$name"
  fi
  forget_component "$name"
  assert_ports_free "$name" "$@"
  "$start"
  STARTED=1
  if wait_for "$timeout" "$name" "$healthy"; then
    say "$name: started"
    return 0
  fi
  stop_component "$name" 10 >/dev/null
  die_component "$name"
}

# ==== MariaDB ===================================================================================

MARIADB_DATA="$DATA_DIR/mariadb"

# Root talks to the server over our private socket (unix_socket auth as the OS user); the app
# user uses a password over TCP. --host=localhost (the socket, to MySQL clients): a MYSQL_HOST in the
# environment (a shell pointed at a stack with deploy/local/env.sh) would turn the client to TCP,
# where root is refused.
mariadb_root() {
  mariadb --no-defaults --host=localhost --socket="$MARIADB_SOCKET" -uroot "$@"
}

mariadb_healthy() {
  mariadb-admin --no-defaults --host=localhost --socket="$MARIADB_SOCKET" -uroot --connect-timeout=2 ping &&
    port_open "$MARIADB_PORT"
}

# The datadir is initialised once. The marker is written only after mariadb-install-db
# succeeded, so an interrupted first run is redone from scratch rather than half-used.
mariadb_init_datadir() {
  [[ -f "$MARIADB_DATA/.initialized" ]] && return 0
  rm -rf "$MARIADB_DATA"
  mkdir -p "$MARIADB_DATA"
  say "mariadb: initialising $(rel "$MARIADB_DATA")"
  if ! mariadb-install-db --no-defaults --datadir="$MARIADB_DATA" --user="$(id -un)" \
    --auth-root-authentication-method=socket --skip-test-db --skip-name-resolve \
    >>"$(log_file mariadb)" 2>&1; then
    die_component mariadb
  fi
  touch "$MARIADB_DATA/.initialized"
}

mariadb_start() {
  mariadb_init_datadir
  render_template "$DEPLOY_DIR/mysql/my.cnf.template" "$CONF_DIR/my.cnf" \
    PORT="$MARIADB_PORT" DATA_DIR="$MARIADB_DATA" SOCKET="$MARIADB_SOCKET" PID_FILE="$MARIADB_DATA/mariadbd.pid"
  # --defaults-file must be the first option. --user is required to run as root at all.
  spawn mariadb mariadbd --defaults-file="$CONF_DIR/my.cnf" --user="$(id -un)"
}

# sql_string <value>: a single-quoted SQL string literal.
sql_string() { printf "'%s'" "${1//\'/\'\'}"; }
# sql_ident <value>: a backquoted SQL identifier.
sql_ident() { printf '`%s`' "${1//\`/\`\`}"; }

# Database and application user, from the environment. Idempotent: run on every `make local`,
# so a changed MYSQL_PASSWORD takes effect.
mariadb_setup_app_user() {
  local db user pass
  db="$(sql_ident "$MYSQL_DATABASE")"
  user="$(sql_string "$MYSQL_USER")"
  pass="$(sql_string "$MYSQL_PASSWORD")"
  mariadb_root <<SQL
-- Anonymous accounts would shadow '$MYSQL_USER'@'%' for local logins.
DELETE FROM mysql.global_priv WHERE User = '';
FLUSH PRIVILEGES;
CREATE DATABASE IF NOT EXISTS $db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS $user@'%' IDENTIFIED BY $pass;
ALTER USER $user@'%' IDENTIFIED BY $pass;
GRANT ALL PRIVILEGES ON $db.* TO $user@'%';
SQL
}

# The versioned migrations (migrations/NNN_name.sql) through the one runner Compose and the tests use;
# it applies only what the database lacks, so it runs on every `make local`.
mariadb_migrate() {
  if ! (cd "$ROOT" && MYSQL_HOST=127.0.0.1 MYSQL_PORT="$MARIADB_PORT" MYSQL_USER="$MYSQL_USER" MYSQL_PASSWORD="$MYSQL_PASSWORD" \
      MYSQL_DATABASE="$MYSQL_DATABASE" node services/common/src/scripts/migrate.ts) >>"$(log_file mariadb)" 2>&1; then
    echo "make local: the schema migrations failed — see $(rel "$(log_file mariadb)")" >&2
    exit 1
  fi
  say "mariadb: $(tail -1 "$(log_file mariadb)" | sed 's/^migrate: //')"
}

ensure_mariadb() {
  ensure_component mariadb 60 mariadb_healthy mariadb_start "$MARIADB_PORT"
  mariadb_setup_app_user >>"$(log_file mariadb)" 2>&1 || die_component mariadb
  mariadb_migrate
}

# ==== Redis Cluster =============================================================================

redis_cli() { redis-cli -h 127.0.0.1 "$@"; }

redis_node_healthy() { [[ "$(redis_cli -p "$1" ping 2>/dev/null)" == PONG ]]; }

# redis_cluster_info <port> <field>: one field of CLUSTER INFO (the reply has CRLF endings).
redis_cluster_info() {
  redis_cli -p "$1" cluster info 2>/dev/null | tr -d '\r' | awk -F: -v f="$2" '$1 == f {print $2}'
}

redis_node_start() {
  local port="$1" dir="$DATA_DIR/redis-$1"
  mkdir -p "$dir"
  render_template "$DEPLOY_DIR/redis/redis-node.conf.template" "$CONF_DIR/redis-$port.conf" \
    PORT="$port" DIR="$dir"
  spawn "redis-$port" redis-server "$CONF_DIR/redis-$port.conf"
}

# ensure_component takes function names; these bind the port for each node.
for _port in "${REDIS_PORTS[@]}"; do
  eval "redis_${_port}_healthy() { redis_node_healthy $_port; }"
  eval "redis_${_port}_start() { redis_node_start $_port; }"
done
unset _port

# A node also listens on its cluster bus port (port + 10000). Up to 60 s: a node reloading a large
# data set (a long-lived local stack after crowd benches: ~1 M keys, 13 s) answers LOADING meanwhile,
# longer while `make test` runs the type checks beside it.
ensure_redis_node() {
  ensure_component "redis-$1" 60 "redis_$1_healthy" "redis_$1_start" "$1" "$(($1 + 10000))"
}

redis_node_sees_cluster_ok() { [[ "$(redis_cluster_info "$1" cluster_state)" == ok ]]; }

redis_cluster_ok_everywhere() {
  local p
  for p in "${REDIS_PORTS[@]}"; do
    [[ "$(redis_cluster_info "$p" cluster_state)" == ok ]] || return 1
    [[ "$(redis_cluster_info "$p" cluster_known_nodes)" == "${#REDIS_PORTS[@]}" ]] || return 1
  done
}

# Fresh = no node knows any other node and no slot is assigned: only then may the cluster be
# created (redis-cli --cluster create refuses non-empty nodes anyway).
redis_cluster_fresh() {
  local p
  for p in "${REDIS_PORTS[@]}"; do
    [[ "$(redis_cluster_info "$p" cluster_known_nodes)" == 1 ]] || return 1
    [[ "$(redis_cluster_info "$p" cluster_slots_assigned)" == 0 ]] || return 1
  done
}

redis_cluster_dump_state() {
  local p
  for p in "${REDIS_PORTS[@]}"; do
    echo "--- 127.0.0.1:$p cluster nodes"
    redis_cli -p "$p" cluster nodes 2>&1 || true
  done
}

# Restarted nodes find each other again through their nodes.conf; only a cluster that was never
# formed is created. Waits until every node reports cluster_state:ok.
ensure_redis_cluster() {
  local log addrs=() p
  log="$(log_file redis-cluster)"
  if redis_cluster_ok_everywhere; then
    say "redis-cluster: already up"
    return 0
  fi
  if redis_cluster_fresh; then
    for p in "${REDIS_PORTS[@]}"; do addrs+=("127.0.0.1:$p"); done
    echo "=== $(date -u +%FT%TZ) redis-cli --cluster create ${addrs[*]}" >>"$log"
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >>"$log" 2>&1 ||
      die_component redis-cluster
    if wait_for 60 "" redis_cluster_ok_everywhere; then
      say "redis-cluster: created (3 masters, 3 replicas)"
      return 0
    fi
  elif wait_for 60 "" redis_cluster_ok_everywhere; then
    say "redis-cluster: ok (rejoined from nodes.conf)"
    return 0
  fi
  {
    echo "=== $(date -u +%FT%TZ) cluster not ok after 60 s. If a node lost its data dir while"
    echo "    the others remember it, reset with: deploy/local/down.sh --purge"
    redis_cluster_dump_state
  } >>"$log" 2>&1
  die_component redis-cluster
}

ensure_redis() {
  local p
  for p in "${REDIS_PORTS[@]}"; do ensure_redis_node "$p"; done
  ensure_redis_cluster
}

# ==== Kafka =====================================================================================

KAFKA_DATA="$DATA_DIR/kafka"
KAFKA_LOG_DIRS="$KAFKA_DATA/logs"
KAFKA_CLUSTER_ID_FILE="$KAFKA_DATA/cluster.id"

# kafka_tool <main-class> <args...>: run a Kafka CLI class from the same jars as the broker.
# Small heap, C1 only and serial GC: these JVMs live for a second or two.
kafka_tool() {
  java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto \
    -Dlog4j2.configurationFile="$DEPLOY_DIR/kafka/log4j2.properties" -Dkafka.root.loglevel=WARN \
    -cp "$KAFKA_LIBS/*" "$@"
}

# The jars are fetched once with Maven (cached in ~/.m2 afterwards). The marker holds the POM's
# hash, so changing the Kafka version in deploy/kafka/pom.xml fetches the new set.
kafka_ensure_libs() {
  local pom="$DEPLOY_DIR/kafka/pom.xml" sum log
  sum="$(sha256sum "$pom" | cut -d' ' -f1)"
  [[ "$(cat "$KAFKA_LIBS/.pom.sha256" 2>/dev/null)" == "$sum" ]] && return 0
  log="$(log_file kafka-libs)"
  say "kafka: fetching broker jars with mvn into $(rel "$KAFKA_LIBS")"
  rm -rf "$KAFKA_LIBS" "$KAFKA_LIBS.tmp"
  mkdir -p "$TOOLS_DIR"
  if ! mvn -B -q -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$KAFKA_LIBS.tmp" >>"$log" 2>&1; then
    die_component kafka-libs
  fi
  echo "$sum" >"$KAFKA_LIBS.tmp/.pom.sha256"
  mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
}

# KRaft storage is formatted once. The cluster id is kept next to the data so a re-format
# (e.g. after the log dir was removed by hand) reuses it.
kafka_format_storage() {
  [[ -f "$KAFKA_LOG_DIRS/meta.properties" ]] && return 0
  mkdir -p "$KAFKA_DATA"
  if [[ ! -s "$KAFKA_CLUSTER_ID_FILE" ]]; then
    kafka_tool kafka.tools.StorageTool random-uuid >"$KAFKA_CLUSTER_ID_FILE" 2>>"$(log_file kafka)" ||
      die_component kafka
  fi
  say "kafka: formatting storage (cluster id $(cat "$KAFKA_CLUSTER_ID_FILE"))"
  kafka_tool kafka.tools.StorageTool format -t "$(cat "$KAFKA_CLUSTER_ID_FILE")" \
    -c "$CONF_DIR/kafka.properties" >>"$(log_file kafka)" 2>&1 || die_component kafka
}

kafka_start() {
  kafka_ensure_libs
  render_template "$DEPLOY_DIR/kafka/server.properties.template" "$CONF_DIR/kafka.properties" \
    PORT="$KAFKA_PORT" CONTROLLER_PORT="$KAFKA_CONTROLLER_PORT" DATA_DIR="$KAFKA_LOG_DIRS"
  kafka_format_storage
  # JVM flags as in Kafka's kafka-server-start.sh / kafka-run-class.sh.
  # shellcheck disable=SC2086  # both are lists of flags
  spawn kafka java $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS \
    -Dlog4j2.configurationFile="$DEPLOY_DIR/kafka/log4j2.properties" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$CONF_DIR/kafka.properties"
}

kafka_healthy() { port_open "$KAFKA_PORT" && port_open "$KAFKA_CONTROLLER_PORT"; }

# kafka_topic_partitions: "<topic> <partition count>" per topic, from TopicCommand --describe.
kafka_topic_partitions() {
  kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" \
    --describe --exclude-internal |
    awk '/^Topic:/ { for (i = 1; i < NF; i++) if ($i == "PartitionCount:") print $2, $(i + 1) }'
}

# ensure_topic <name> <partitions> <current partitions or empty>
ensure_topic() {
  local topic="$1" want="$2" have="$3"
  local cmd=(org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" --topic "$topic")
  if [[ -z "$have" ]]; then
    kafka_tool "${cmd[@]}" --create --if-not-exists --partitions "$want" --replication-factor 1 \
      >>"$(log_file kafka)" 2>&1 || die_component kafka
    say "kafka: created topic $topic ($want partitions)"
  elif ((have < want)); then
    kafka_tool "${cmd[@]}" --alter --partitions "$want" >>"$(log_file kafka)" 2>&1 || die_component kafka
    say "kafka: topic $topic grown from $have to $want partitions"
  elif ((have > want)); then
    say "kafka: WARNING topic $topic has $have partitions, wanted $want (Kafka cannot shrink; down.sh --purge to reset)"
  fi
}

ensure_kafka_topics() {
  local listing="" deadline=$((SECONDS + 60))
  # The listeners accept connections a moment before the broker serves metadata: retry.
  until listing="$(kafka_topic_partitions 2>>"$(log_file kafka)")"; do
    ((SECONDS < deadline)) || die_component kafka
    sleep 1
  done
  ensure_topic orders "$KAFKA_ORDERS_PARTITIONS" "$(awk '$1 == "orders" {print $2}' <<<"$listing")"
  ensure_topic orders.dlq "$KAFKA_DLQ_PARTITIONS" "$(awk '$1 == "orders.dlq" {print $2}' <<<"$listing")"
}

ensure_kafka() {
  ensure_component kafka 60 kafka_healthy kafka_start "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
  ensure_kafka_topics
}

# ==== stripe-mock: Stripe's own mock of its API, for the payment-service ========================

STRIPE_MOCK_PORT="$(port_of "$(setting STRIPE_API_URL)")"
STRIPE_MOCK_TLS_PORT=$((STRIPE_MOCK_PORT + 1))
# Keep equal to the stripe/stripe-mock image tag in docker-compose.yml.
STRIPE_MOCK_VERSION=v0.203.0
STRIPE_MOCK_BIN="$TOOLS_DIR/bin/stripe-mock"

# Built from source by the Go toolchain (Go module proxy) into .tools/bin, once per version.
stripe_mock_ensure_binary() {
  local stamp="$TOOLS_DIR/bin/.stripe-mock-$STRIPE_MOCK_VERSION"
  [[ -x "$STRIPE_MOCK_BIN" && -f "$stamp" ]] && return 0
  local go
  go="$(command -v go || echo /usr/local/go/bin/go)"
  [[ -x "$go" ]] || die "stripe-mock needs the Go toolchain (go) to build $STRIPE_MOCK_VERSION"
  say "stripe-mock: building $STRIPE_MOCK_VERSION with go install (once)"
  mkdir -p "$TOOLS_DIR/bin"
  GOBIN="$TOOLS_DIR/bin" CGO_ENABLED=0 "$go" install "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION" \
    >>"$(log_file stripe-mock)" 2>&1 || die_component stripe-mock
  touch "$stamp"
}

stripe_mock_start() {
  spawn stripe-mock "$STRIPE_MOCK_BIN" -http-port "$STRIPE_MOCK_PORT" -https-port "$STRIPE_MOCK_TLS_PORT"
}

stripe_mock_healthy() {
  curl -fsS --max-time 2 -u sk_test_local: "http://127.0.0.1:$STRIPE_MOCK_PORT/v1/balance" >/dev/null
}

ensure_stripe_mock() {
  stripe_mock_ensure_binary
  ensure_component stripe-mock 30 stripe_mock_healthy stripe_mock_start "$STRIPE_MOCK_PORT" "$STRIPE_MOCK_TLS_PORT"
}

# ==== start one component by name (component.sh, and anything added later) =======================

# start_component_by_name <name>: start one component with its existing data and wait for it.
start_component_by_name() {
  case "$1" in
    mariadb) ensure_component mariadb 60 mariadb_healthy mariadb_start "$MARIADB_PORT" ;;
    kafka) ensure_component kafka 60 kafka_healthy kafka_start "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" ;;
    stripe-mock) ensure_stripe_mock ;;
    redis-*)
      ensure_redis_node "${1#redis-}"
      # Report when the restarted node has rejoined (from its nodes.conf) and sees the
      # cluster healthy again.
      if wait_for 60 "" redis_node_sees_cluster_ok "${1#redis-}"; then
        say "$1: cluster_state ok"
      else
        say "$1: WARNING cluster_state not ok after 60 s — see $(rel "$(log_file "$1")")"
      fi
      ;;
    *) return 2 ;;
  esac
}
