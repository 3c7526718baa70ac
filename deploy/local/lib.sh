# shellcheck shell=bash
# Shared helpers for the no-Docker local stack (deploy/local/*.sh).
#
# Everything the stack writes lives under $ROOT/.local (git-ignored):
#   .local/data/<component>      data directories (kept across restarts)
#   .local/logs/<component>.log  stdout+stderr of each process
#   .local/run/<component>.pid   pid of each process we started
#   .local/run/<component>.start that process's kernel start time (guards against pid reuse)
#   .local/conf/                 config files rendered from the templates in deploy/
# Downloaded tooling (the Kafka jars) lives in $ROOT/.tools.
#
# Sourced, never executed: it only defines variables and functions.

# ROOT is the repo root, derived from this file's location so the scripts work from any cwd.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEPLOY_DIR="$ROOT/deploy"
# LOCAL_STACK=<name> selects a second stack beside the first: its state in .local/stacks/<name>, its
# ports from deploy/local/stacks/<name>.env (`make test` runs the fault scenarios on one, "faults").
LOCAL_STACK="${LOCAL_STACK:-}"
if [[ -n "$LOCAL_STACK" ]]; then
  STACK_SETTINGS="$DEPLOY_DIR/local/stacks/$LOCAL_STACK.env"
  [[ -f "$STACK_SETTINGS" ]] || { echo "LOCAL_STACK=$LOCAL_STACK: there is no deploy/local/stacks/$LOCAL_STACK.env" >&2; exit 2; }
  LOCAL_DIR="$ROOT/.local/stacks/$LOCAL_STACK"
else
  STACK_SETTINGS=""
  LOCAL_DIR="$ROOT/.local"
fi
DATA_DIR="$LOCAL_DIR/data"
LOG_DIR="$LOCAL_DIR/logs"
RUN_DIR="$LOCAL_DIR/run"
CONF_DIR="$LOCAL_DIR/conf"
TOOLS_DIR="$ROOT/.tools"

# The services run their TypeScript sources directly, which needs Node 24. Run by hand rather than
# through make, these scripts find it the way the Makefile does: the system's node if it is 24 or
# newer, else the one `make node` installs into .tools/ (checked where a service starts).
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if (( $(node_major) < 24 )) && [[ -x "$TOOLS_DIR/node_modules/.bin/node" ]]; then
  export PATH="$TOOLS_DIR/node_modules/.bin:$PATH"
fi

ensure_local_dirs() {
  mkdir -p "$DATA_DIR" "$LOG_DIR" "$RUN_DIR" "$CONF_DIR" "$TOOLS_DIR"
  # Self-ignoring: git never sees local state or downloaded jars, whatever .gitignore says.
  [[ -f "$LOCAL_DIR/.gitignore" ]] || echo '*' >"$LOCAL_DIR/.gitignore"
  [[ -f "$TOOLS_DIR/.gitignore" ]] || echo '*' >"$TOOLS_DIR/.gitignore"
}

# --- settings ----------------------------------------------------------------------------

# settings_files: where a stack's settings come from, later files winning: .env.example's defaults,
# .env's overrides, then the selected stack's own ports. The services get exactly these (services.sh),
# and the scripts take every port from them, so a server and its clients cannot disagree.
settings_files() {
  echo "$ROOT/.env.example"
  [[ ! -f "$ROOT/.env" ]] || echo "$ROOT/.env"
  [[ -z "$STACK_SETTINGS" ]] || echo "$STACK_SETTINGS"
}

# SETTINGS: every NAME of those files and its value (the last file's wins; surrounding double quotes
# dropped), read once when this file is sourced.
declare -A SETTINGS=()
_load_settings() {
  local files line value
  mapfile -t files < <(settings_files)
  while IFS= read -r line; do
    value="${line#*=}"; value="${value%\"}"
    SETTINGS["${line%%=*}"]="${value#\"}"
  done < <(grep -hE '^[A-Z_][A-Z0-9_]*=' "${files[@]}")
}
_load_settings

# setting <NAME>: its value.
setting() { echo "${SETTINGS[$1]-}"; }

# port_of <host:port or URL>: the port it names.
port_of() {
  local rest="${1##*:}"
  echo "${rest%%/*}"
}

log_file() { echo "$LOG_DIR/$1.log"; }
pid_file() { echo "$RUN_DIR/$1.pid"; }
start_file() { echo "$RUN_DIR/$1.start"; }

# Paths relative to ROOT read better in one-line messages.
rel() { echo "${1#"$ROOT"/}"; }

say() { echo "$*"; }

# die_component <component>: the one-line failure message `make local` promises, then exit.
die_component() {
  echo "make local: $1 did not come up — see $(rel "$(log_file "$1")")" >&2
  exit 1
}

die() {
  echo "make local: $*" >&2
  exit 1
}

# --- process tracking --------------------------------------------------------------------

# proc_stat <pid>: the fields of /proc/<pid>/stat after the command name, i.e. starting at
# field 3 (state). The command name may contain spaces, so cut up to the last ')' first.
proc_stat() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  echo "${stat##*) }"
}

# proc_start_time <pid>: kernel start time in clock ticks since boot (field 22 of stat).
proc_start_time() {
  local fields
  fields="$(proc_stat "$1")" || return 1
  awk '{print $20}' <<<"$fields"
}

# component_pid <component>: prints the pid if the pid file names a live process that we
# started. A pid alone is not enough: after a reboot the number may belong to anything, so the
# recorded start time must match too. Returns 1 otherwise.
component_pid() {
  local pf sf pid want fields state have
  pf="$(pid_file "$1")"
  sf="$(start_file "$1")"
  [[ -f "$pf" && -f "$sf" ]] || return 1
  pid="$(head -n1 "$pf")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  fields="$(proc_stat "$pid")" || return 1
  read -r state _ <<<"$fields"
  have="$(awk '{print $20}' <<<"$fields")"
  want="$(cat "$sf")"
  # A zombie (Z) has exited; it only waits to be reaped by its parent.
  [[ "$state" != Z && -n "$want" && "$want" == "$have" ]] || return 1
  echo "$pid"
}

component_running() { component_pid "$1" >/dev/null; }

forget_component() { rm -f "$(pid_file "$1")" "$(start_file "$1")"; }

# spawn <component> <command...>: start a long-running process in the background, detached
# from the caller's session (so Ctrl-C in `make` or the end of a CI step does not take it
# down), stdout+stderr appended to its log, and record its pid and start time.
# setsid execs in place here (a background job of a non-interactive shell is not a process
# group leader), so $! is the server's own pid.
spawn() {
  local component="$1"; shift
  local log; log="$(log_file "$component")"
  echo "=== $(date -u +%FT%TZ) starting: $*" >>"$log"
  # 9>&- : do not let the server inherit the lock held on fd 9 (see take_lock).
  setsid "$@" </dev/null >>"$log" 2>&1 9>&- &
  local pid=$!
  echo "$pid" >"$(pid_file "$component")"
  proc_start_time "$pid" >"$(start_file "$component")" || true
}

# stop_component <component> [timeout_s] [signal]: stop exactly the process in its pid file.
# SIGTERM (or the given signal), wait up to timeout, then SIGKILL. Never touches other pids.
stop_component() {
  local component="$1" timeout="${2:-30}" sig="${3:-TERM}" pid
  if ! pid="$(component_pid "$component")"; then
    report_not_running "$component"
    return 0
  fi
  kill -s "$sig" "$pid" 2>/dev/null || true
  finish_stop "$component" "$timeout" "$sig" "$pid"
}

report_not_running() {
  if [[ -f "$(pid_file "$1")" ]]; then
    say "$1: not running (stale pid file removed)"
  else
    say "$1: not running"
  fi
  forget_component "$1"
}

# finish_stop <component> <timeout_s> <signal already sent> <pid>: wait for the process to
# exit, SIGKILL it after the timeout, report, and remove its pid file. Split from
# stop_component so down.sh can signal everything first and then wait (a parallel stop).
finish_stop() {
  local component="$1" timeout="$2" sig="$3" pid="$4"
  if wait_pid_gone "$component" "$timeout"; then
    say "$component: stopped (SIG$sig)"
  else
    kill -s KILL "$pid" 2>/dev/null || true
    wait_pid_gone "$component" 10 || true
    say "$component: did not stop within ${timeout}s after SIG$sig, sent SIGKILL"
  fi
  forget_component "$component"
}

wait_pid_gone() {
  local component="$1" timeout="$2" deadline=$((SECONDS + $2))
  while component_running "$component"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# --- ports and waiting -------------------------------------------------------------------

# port_open <port>: something accepts TCP connections on 127.0.0.1:<port>. Uses bash's
# /dev/tcp so nothing extra needs to be installed.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# wait_for <timeout_s> <component> <command...>: poll the command until it succeeds, giving
# up early if the component's process has died (no point waiting the full timeout then).
wait_for() {
  local timeout="$1" component="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then return 1; fi
    if [[ -n "$component" ]] && ! component_running "$component"; then return 1; fi
    sleep 0.5
  done
}

wait_for_port() { wait_for "$2" "${3:-}" port_open "$1"; }

# assert_ports_free <component> <port...>: we are about to start <component>; if one of its
# ports is already answering, it belongs to a process we did not start -> refuse.
assert_ports_free() {
  local component="$1" port; shift
  for port in "$@"; do
    if port_open "$port"; then
      die "port $port ($component) is taken by a process that is not ours — free it and retry"
    fi
  done
}

# render_template <src> <dst> KEY=value...: copy src to dst replacing each @KEY@ with value.
render_template() {
  local src="$1" dst="$2" kv key val expr=()
  shift 2
  for kv in "$@"; do
    key="${kv%%=*}"
    val="${kv#*=}"
    val="${val//\\/\\\\}"; val="${val//|/\\|}"; val="${val//&/\\&}"
    expr+=(-e "s|@${key}@|${val}|g")
  done
  sed "${expr[@]}" "$src" >"$dst.tmp"
  mv "$dst.tmp" "$dst"
}

# take_lock: serialize up/down/component runs so two of them cannot start the same server
# twice. Waits up to 5 minutes for a concurrent run to finish.
take_lock() {
  ensure_local_dirs
  exec 9>"$LOCAL_DIR/.lock"
  if ! flock -w 300 9; then
    die "another deploy/local script has held $(rel "$LOCAL_DIR/.lock") for 5 minutes"
  fi
}

# --- packages ----------------------------------------------------------------------------

# ensure_binaries <binary=package>...: install (once, with one apt-get update) the Debian
# packages whose binaries are missing. A fresh CI machine has none of them.
ensure_binaries() {
  local kv bin pkg missing=()
  for kv in "$@"; do
    bin="${kv%%=*}"; pkg="${kv#*=}"
    # An absolute path names a file the package provides (a font, say) rather than a command.
    if [[ "$bin" == /* ]]; then
      [[ -e "$bin" ]] && continue
    elif command -v "$bin" >/dev/null 2>&1 || [[ -x "/usr/sbin/$bin" ]]; then
      continue
    fi
    [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  say "packages: installing ${missing[*]}"
  local sudo=()
  [[ $EUID -eq 0 ]] || sudo=(sudo)
  # Debian packages try to start their service on install (MariaDB on 3306, nginx on 80,
  # Redis on 6379). Those would fight with the processes we start ourselves, so forbid
  # service starts during the install with a policy-rc.d, unless one already exists.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    added_policy=1
  fi
  local rc=0
  {
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  } >>"$(log_file packages)" 2>&1 || rc=$?
  ((added_policy)) && "${sudo[@]}" rm -f "$policy"
  ((rc == 0)) || die "apt-get install ${missing[*]} failed — see $(rel "$(log_file packages)")"
}
