#!/usr/bin/env bash
# `make test-api`: Schemathesis (pinned, from PyPI into .tools/schemathesis) runs every check against
# each service's OpenAPI document, fetched directly and through nginx, against the running stack.
# What it proves: the documents match the servers (docs/ARCHITECTURE.md §5), and no input yields a 5xx.
#
# Its data is its own: two products it creates (one to change and order, one to archive); a hook
# (tests/api/hooks.py) points every product id, product id list and order listing of a request at
# them, so it never touches another test's or the shop's products or orders. Products it creates
# through POST /products carry its run tag in the name and are archived at the end.
#
# Ends with one line `api: N passed, N failed` (counted per API operation and target: one operation
# passes when none of its generated cases failed a check). run-tests.sh reads that line.
#
# Environment (defaults): CATALOG_URL=http://127.0.0.1:3001 GATEWAY_URL=http://127.0.0.1:3002
#   PROCESSOR_URL=http://127.0.0.1:3003 PAYMENTS_URL=http://127.0.0.1:3004 NGINX_URL=http://127.0.0.1:8080
#   API_TEST_MAX_EXAMPLES=50 (cases per operation and phase) API_TEST_NGINX_MAX_EXAMPLES=15 (through nginx) API_TEST_TIMEOUT=600 (seconds per target)
#   SCHEMATHESIS_HOME=<repo>/.tools/schemathesis (the virtualenv)
#   API_TEST_TARGETS=all (or some of: catalog gateway processor payments catalog-via-nginx gateway-via-nginx payments-via-nginx)
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SCHEMATHESIS_VERSION=4.32.5
VENV="${SCHEMATHESIS_HOME:-$ROOT/.tools/schemathesis}"
CATALOG_URL="${CATALOG_URL:-http://127.0.0.1:3001}"
GATEWAY_URL="${GATEWAY_URL:-http://127.0.0.1:3002}"
PROCESSOR_URL="${PROCESSOR_URL:-http://127.0.0.1:3003}"
PAYMENTS_URL="${PAYMENTS_URL:-http://127.0.0.1:3004}"
NGINX_URL="${NGINX_URL:-http://127.0.0.1:8080}"
MAX_EXAMPLES="${API_TEST_MAX_EXAMPLES:-50}"
# Through nginx the same documents are checked again for what the edge changes (the /api base, routing,
# nginx's own answers); the services' validation was already fuzzed directly, so fewer cases suffice.
NGINX_MAX_EXAMPLES="${API_TEST_NGINX_MAX_EXAMPLES:-15}"
TARGET_TIMEOUT="${API_TEST_TIMEOUT:-600}"
OUT="$ROOT/test-results/api"

say () { echo "api: $*"; }
die () { echo "api: $*" >&2; echo "api: 0 passed, 1 failed"; exit 1; }

# --- Schemathesis, pinned --------------------------------------------------------------------------
install_schemathesis () {
  if [[ -x "$VENV/bin/schemathesis" ]] && [[ "$("$VENV/bin/schemathesis" --version 2>/dev/null)" == *" $SCHEMATHESIS_VERSION" ]]; then
    return 0
  fi
  say "installing schemathesis $SCHEMATHESIS_VERSION into ${VENV#"$ROOT"/}"
  command -v python3 >/dev/null || die "python3 is needed for Schemathesis"
  rm -rf "$VENV"
  python3 -m venv "$VENV" || die "python3 -m venv failed (Debian/Ubuntu: apt-get install python3-venv)"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" ||
    die "pip install schemathesis==$SCHEMATHESIS_VERSION failed"
}

# The admin token the services were started with: .env over .env.example, as deploy/local does.
admin_token () {
  local token
  token="$(grep -hE '^ADMIN_TOKEN=' .env.example .env 2>/dev/null | tail -1 | cut -d= -f2- | tr -d '"')"
  echo "${ADMIN_TOKEN:-$token}"
}

# --- its own data --------------------------------------------------------------------------------
TOKEN="$(admin_token)"
TAG="api-test-$(date +%s)-$$"

create_product () {
  local name="$1" stock="$2"
  curl -fsS --max-time 10 -X POST "$CATALOG_URL/products" -H "authorization: Bearer $TOKEN" \
    -H 'content-type: application/json' -d "{\"name\":\"$TAG $name\",\"stock\":$stock,\"price\":100}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}

archive_product () {
  curl -fsS --max-time 10 -o /dev/null -X DELETE "$CATALOG_URL/products/$1" -H "authorization: Bearer $TOKEN" || true
}

# An operator of the run's own (a viewer): every generated role change names it (tests/api/hooks.py).
create_operator () {
  curl -fsS --max-time 10 -X POST "$CATALOG_URL/admin/operators" -H "authorization: Bearer $TOKEN" \
    -H 'content-type: application/json' -d "{\"username\":\"api-test-$$-$RANDOM\",\"password\":\"$(head -c 24 /dev/urandom | base64 | tr -d '/+=')\",\"role\":\"viewer\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}

# Every product whose name carries this run's tag (POST /products during the run names them so).
tagged_products () {
  curl -fsS --max-time 10 "$CATALOG_URL/products?pageSize=100&name=$TAG" |
    python3 -c 'import json, sys; print(" ".join(str(p["id"]) for p in json.load(sys.stdin)["items"]))'
}

cleanup () {
  local ids round
  for round in 1 2 3 4 5 6 7 8 9 10; do
    ids="$(tagged_products 2>/dev/null)"
    [[ -n "$ids" ]] || break
    for id in $ids; do archive_product "$id"; done
  done
  [[ -n "${ARCHIVE_ID:-}" ]] && archive_product "$ARCHIVE_ID"
  return 0
}

# --- one target: one document, one base ----------------------------------------------------------
passed=0
failed=0

# run_target NAME SPEC_URL [MAX_EXAMPLES]: runs Schemathesis, counts operations from its JUnit report.
# Every check but use_after_free: this API's only DELETEs are DELETE /orders/{id}, which asks for the
# order's cancellation, and DELETE /products/{id}, which archives the product; both stay readable
# afterwards (status `cancelled` / `archived`) by design (docs/ARCHITECTURE.md §5), while the check
# expects a DELETE to remove the resource. Other exceptions are in tests/api/schemathesis.toml.in.
run_target () {
  local name="$1" spec="$2" examples="${3:-$MAX_EXAMPLES}" dir="$OUT/$1" rc
  if [[ "${API_TEST_TARGETS:-all}" != all && " ${API_TEST_TARGETS//,/ } " != *" $name "* ]]; then return 0; fi
  mkdir -p "$dir"
  local started=$SECONDS
  timeout --kill-after=10 "$TARGET_TIMEOUT" "$VENV/bin/schemathesis" --config-file "$OUT/schemathesis.toml" run "$spec" \
    --checks all --exclude-checks use_after_free \
    --phases examples,coverage,fuzzing,stateful \
    --max-examples "$examples" \
    --seed 15 \
    --workers 1 \
    --no-color \
    --report junit,har --report-junit-path "$dir/junit.xml" --report-har-path "$dir/requests.har" >"$dir/output.txt" 2>&1
  rc=$?
  local counts
  counts="$(python3 - "$dir/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print("0 0"); sys.exit()
cases = root.iter("testcase")
ok = bad = 0
for case in cases:
    if case.find("failure") is not None or case.find("error") is not None: bad += 1
    else: ok += 1
print(ok, bad)
PY
)"
  local ok="${counts% *}" bad="${counts#* }"
  # A run that failed without reporting a failing operation (crash, timeout, no operations) still fails.
  if [[ $rc -ne 0 && "$bad" -eq 0 ]]; then bad=1; fi
  passed=$((passed + ok))
  failed=$((failed + bad))
  local summary
  # Schemathesis's own count, the line under "Test cases:" (e.g. "446 generated, 446 passed").
  summary="$(grep -A1 -E '^Test cases:' "$dir/output.txt" | tail -1 | sed -E 's/^ +//')"
  if [[ $rc -eq 0 ]]; then
    say "ok   $name: $ok operations, $((SECONDS - started))s, cases: ${summary}"
  else
    say "FAIL $name: $ok operations passed, $bad failed (exit $rc, $((SECONDS - started))s, cases: ${summary}) — $(realpath --relative-to="$ROOT" "$dir/output.txt")"
    grep -nE '^(_+ |[0-9]+\. |\[[0-9]+\] )' "$dir/output.txt" | head -30 | sed 's/^/     /'
  fi
}

install_schemathesis
rm -rf "$OUT"
mkdir -p "$OUT"
curl -fsS --max-time 5 "$CATALOG_URL/health/ready" >/dev/null || die "catalog-service at $CATALOG_URL is not ready (make local)"

ACTIVE_ID="$(create_product active 1000000)" || die "could not create its product at $CATALOG_URL"
ARCHIVE_ID="$(create_product archive 1)" || die "could not create its product at $CATALOG_URL"
trap cleanup EXIT
OPERATOR_ID="$(create_operator)" || die "could not create its operator at $CATALOG_URL"
say "own products: $ACTIVE_ID (orders, changes), $ARCHIVE_ID (archived by the run); operator $OPERATOR_ID; tag $TAG"
sed -e "s|@ROOT@|$ROOT|g" -e "s|@ADMIN_TOKEN@|$TOKEN|g" tests/api/schemathesis.toml.in >"$OUT/schemathesis.toml"
export API_TEST_ACTIVE_ID="$ACTIVE_ID" API_TEST_ARCHIVE_ID="$ARCHIVE_ID" API_TEST_TAG="$TAG" API_TEST_OPERATOR_ID="$OPERATOR_ID"

run_target catalog "$CATALOG_URL/docs/json"
run_target gateway "$GATEWAY_URL/docs/json"
run_target processor "$PROCESSOR_URL/docs/json"
run_target payments "$PAYMENTS_URL/docs/json"
# Through nginx the documents name the base `/api`; the processor's has no operation nginx routes.
run_target catalog-via-nginx "$NGINX_URL/docs/catalog/json" "$NGINX_MAX_EXAMPLES"
run_target gateway-via-nginx "$NGINX_URL/docs/gateway/json" "$NGINX_MAX_EXAMPLES"
run_target payments-via-nginx "$NGINX_URL/docs/payments/json" "$NGINX_MAX_EXAMPLES"

echo "api: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
