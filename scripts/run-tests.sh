#!/usr/bin/env bash
# Runs the tests in phases, each file exactly once:
#   unit        *.unit.test.ts and tests/unit/: no server needed (`make test-unit`)
#   suites      the other tap suites, in parallel, against the stack `make local` started; at the same
#               time the API contract run (scripts/test-api.sh, Schemathesis over the OpenAPI
#               documents, counted per API operation): neither stops or restarts a shared part
#   browser     the browser suites, four at a time (they mostly wait on pages, holds and countdowns);
#               each browser context speaks from an address of its own, so the contract run's sign-ups
#               from 127.0.0.1 do not use up its limits
#   disruptive  the fault scenarios and the crowd, which stop parts of their stack or load it, one at a
#               time, on a second stack of their own (LOCAL_STACK=faults, deploy/local/stacks/faults.env)
#               that comes up once the first is up; they run beside the suites and browser phases,
#               which run at a lower CPU priority (nice): the scenarios' loads and restarts are timed,
#               and mostly they wait, so the other phases take the CPU they leave and never the CPU
#               they need. The fault stack is stopped after them (its data is kept).
# `scripts/run-tests.sh` runs them all (`make test`: it brings up the stack, type checks and lint
# first, beside the unit phase); `scripts/run-tests.sh unit` or `… faults` (the
# fault scenarios only, serially, on the first stack) run one part. Each phase prints its wall time,
# the run its total; the last line is always the plain `N passed, N failed` (what CI reads).
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results
mode=${1:-all}

shopt -s nullglob globstar
unit_files=(services/*/test/**/*.unit.test.ts tests/unit/**/*.test.ts)
# Every other test file: the unit files run in their own phase.
parallel_files=()
for f in services/*/test/**/*.test.ts tests/containers/**/*.test.ts bench/test/**/*.test.ts; do
  [[ $f == *.unit.test.ts ]] || parallel_files+=("$f")
done
browser_files=(tests/browser/**/*.test.ts)
serial_files=(tests/crowd/**/*.test.ts tests/faults/**/*.test.ts)
fault_files=(tests/faults/**/*.test.ts)

passed=0
failed=0
failures=test-results/failures.txt
: >"$failures"
status=0
run_started=$SECONDS

# run_phase NAME JOBS FILE...: tap over the files, reported as it ends. PHASE_PREFIX, when set, is put
# before the command (`make test` lowers the CPU priority of what runs beside the disruptive phase).
run_phase () {
  local name=$1 jobs=$2; shift 2
  [ $# -gt 0 ] || return 0
  local started=$SECONDS
  printf '== %s: %d test files (jobs=%d) … ' "$name" $# "$jobs"
  ${PHASE_PREFIX:-} npx tap --reporter=tap --jobs="$jobs" "$@" >"test-results/tap-$name.log" 2>&1
  local rc=$?
  echo "done in $((SECONDS - started)) s"
  report_phase "$name" "$rc"
}

# report_phase NAME RC: one line per test file of test-results/tap-NAME.log, the details of whatever
# failed, and the counts added to the run's.
report_phase () {
  local name=$1 rc=$2
  local log="test-results/tap-$name.log"
  grep -E '^(not )?ok [0-9]+ - ' "$log" | sed 's/^/   /'
  if [ "$rc" -ne 0 ]; then
    status=1
    echo "-- failures in $name (full output: $log):"
    grep -nE '^\s*not ok ' "$log" | head -40
    # What each failed assertion said, repeated at the end of the run where a reader of the tail sees it.
    { echo "-- $name:"; grep -E -A14 '^\s+not ok ' "$log" | grep -vE '^\s+(- |events:|handles:|type: Socket)' | head -80; } >>"$failures"
  fi
  local summary
  summary=$(grep -E '^# \{ total: ' "$log" | tail -1)
  local total pass fail
  total=$(sed -nE 's/.*total: ([0-9]+).*/\1/p' <<<"$summary")
  pass=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary")
  fail=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")
  passed=$((passed + ${pass:-0}))
  failed=$((failed + ${fail:-0}))
  # A file that crashed before reporting counts as a failure even if no assertion failed.
  if [ "$rc" -ne 0 ] && [ "${fail:-0}" -eq 0 ]; then failed=$((failed + 1)); fi
  if [ -z "$total" ]; then echo "-- $name produced no summary"; status=1; fi
}

# in_fault_stack CMD...: CMD in this shell, with the fault stack's settings and addresses
# (deploy/local/env.sh) exported for its duration only: the scenarios' clients and their component.sh
# calls act on that stack.
in_fault_stack () {
  local line
  local -x LOCAL_STACK=faults
  while IFS= read -r line; do eval "local -x $line"; done < <(bash deploy/local/env.sh)
  "$@"
}

# The disruptive phase in the background, at the normal CPU priority: the fault stack comes up
# (LOCAL_STACK=faults, deploy/local/stacks/faults.env; log test-results/local-faults.log), the files
# run one at a time on it, and it is stopped (its data is kept for the next run).
# finish_disruptive_phase waits for it and reports it like any phase.
disruptive_times=test-results/disruptive.times
start_disruptive_phase () {
  [ $# -gt 0 ] || return 0
  disruptive_count=$#
  (
    started=$SECONDS
    if ! LOCAL_STACK=faults bash deploy/local/up.sh >test-results/local-faults.log 2>&1; then exit 90; fi
    echo "the fault stack up in $((SECONDS - started)) s," >"$disruptive_times"
    in_fault_stack npx tap --reporter=tap --jobs=1 "$@" >test-results/tap-disruptive.log 2>&1
    rc=$?
    echo "done in $((SECONDS - started)) s" >>"$disruptive_times"
    LOCAL_STACK=faults bash deploy/local/down.sh >>test-results/local-faults.log 2>&1
    exit $rc
  ) &
  disruptive_pid=$!
}
finish_disruptive_phase () {
  [ -n "${disruptive_pid:-}" ] || return 0
  printf '== disruptive: %d test files (jobs=1, on the fault stack, beside the other phases) … ' "$disruptive_count"
  wait "$disruptive_pid"
  local rc=$?
  if [ $rc -eq 90 ]; then
    echo "the fault stack did not come up:"
    cat test-results/local-faults.log
    status=1
    failed=$((failed + 1))
    return
  fi
  tr '\n' ' ' <"$disruptive_times"; echo
  report_phase disruptive "$rc"
}

# scripts/test-api.sh ends with `api: N passed, N failed`; its log is test-results/api.log. It runs in
# the background (start_api_phase) while the suites run, and is counted when it ends (finish_api_phase).
api_log="test-results/api.log"
start_api_phase () {
  api_started=$SECONDS
  ${PHASE_PREFIX:-} bash scripts/test-api.sh >"$api_log" 2>&1 &
  api_pid=$!
}
finish_api_phase () {
  printf '== api: Schemathesis over each service'"'"'s OpenAPI document, direct and through nginx (alongside the suites) … '
  wait "$api_pid"
  local rc=$?
  echo "done in $((SECONDS - api_started)) s"
  grep -E '^api: (ok|FAIL) ' "$api_log" | sed 's/^/   /'
  local line pass fail
  line=$(grep -E '^api: [0-9]+ passed, [0-9]+ failed$' "$api_log" | tail -1)
  pass=$(sed -nE 's/^api: ([0-9]+) passed.*/\1/p' <<<"$line")
  fail=$(sed -nE 's/.* ([0-9]+) failed$/\1/p' <<<"$line")
  passed=$((passed + ${pass:-0}))
  failed=$((failed + ${fail:-0}))
  if [ $rc -ne 0 ]; then
    status=1
    echo "-- failures in api (full output: $api_log and test-results/api/):"
    grep -vE '^api: (ok|own products)' "$api_log" | head -40
    { echo "-- api:"; grep -E '^api: FAIL ' "$api_log"; } >>"$failures"
    if [ "${fail:-0}" -eq 0 ]; then failed=$((failed + 1)); fi
  fi
}

# make test's first minute: the stack comes up (mostly waiting: MariaDB, Kafka's JVM, the front end's
# build) while the type checks, lint and the unit phase, which need no server, run beside it.
# `make test` runs nothing before this but the install; each step's output is kept and shown.
# check_done NAME PID: waits for a check started in the background; its log is shown if it failed.
check_done () {
  wait "$2" && return 0
  echo "== $1 FAILED:"
  cat "test-results/$1.log"
  return 1
}

checks_and_stack () {
  local started=$SECONDS local_pid typecheck_pid lint_pid rc=0
  # A broker this run starts gets the fault stack's light JIT settings (deploy/local/stacks/faults.env:
  # ~25 CPU-s less over a run); `make bench` says so when it finds such a broker.
  local light_kafka
  light_kafka=$(in_fault_stack printenv KAFKA_JVM_PERFORMANCE_OPTS)
  KAFKA_JVM_PERFORMANCE_OPTS="${KAFKA_JVM_PERFORMANCE_OPTS:-$light_kafka}" make --no-print-directory local >test-results/local.log 2>&1 &
  local_pid=$!
  make --no-print-directory typecheck >test-results/typecheck.log 2>&1 &
  typecheck_pid=$!
  make --no-print-directory lint >test-results/lint.log 2>&1 &
  lint_pid=$!
  check_done typecheck "$typecheck_pid" || rc=1
  check_done lint "$lint_pid" || rc=1
  [ $rc -eq 0 ] && echo "== typecheck, lint: clean"
  run_phase unit 2 "${unit_files[@]}"
  if ! wait "$local_pid"; then rc=1; fi
  cat test-results/local.log
  echo "== stack, type checks, lint, unit: $((SECONDS - started)) s"
  return $rc
}

case $mode in
  all)
    if ! checks_and_stack; then
      echo "== the stack did not come up, or the type checks or lint failed: no suite runs"
      echo "$passed passed, $((failed + 1)) failed"
      exit 1
    fi
    start_disruptive_phase "${serial_files[@]}"
    # What runs beside the disruptive phase yields the CPU to it (see the top of this file).
    PHASE_PREFIX="nice -n 10"
    start_api_phase
    run_phase suites 2 "${parallel_files[@]}"
    finish_api_phase
    run_phase browser 4 "${browser_files[@]}"
    finish_disruptive_phase
    ;;
  unit) run_phase unit 2 "${unit_files[@]}" ;;
  faults) run_phase faults 1 "${fault_files[@]}" ;;
  *) echo "usage: $0 [all|unit|faults]" >&2; exit 2 ;;
esac

if [ -s "$failures" ]; then echo; echo "== what failed"; cat "$failures"; fi
echo
echo "== total: $((SECONDS - run_started)) s"
echo "$passed passed, $failed failed"
exit $status
