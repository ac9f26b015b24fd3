#!/usr/bin/env bash
# The settlement API against its published contract (issue 15 item 1), from the outside.
#
# Starts the portal as in production (gunicorn, DJANGO_DEBUG=0, DJANGO_HTTPS=0 on loopback, a real
# random secret) on a fresh PostgreSQL database, then runs schemathesis with its standard checks
# against the OpenAPI document the server publishes at /api/v1/openapi.json. Any finding (a 5xx,
# an undocumented status, a body that does not match the schema, valid data refused, invalid
# data accepted, ...) makes the script fail.
#
#   .ci/api_contract.sh            # needs PostgreSQL on 127.0.0.1:5432 and `make install`
#
# Set-up: the database (dropped and created again), migrations, 6 insured persons (import_registry)
# with balances (import_credits), one hospital (create_institution prints its API key on the last
# line) and one e-voucher per person (issue_voucher). schemathesis sends the key as a Bearer token;
# .ci/schemathesis_hooks.py gives each valid request a fresh Idempotency-Key and one of the issued
# vouchers, so some settlements succeed and the refund and detail routes are reached through the
# document's links. .ci/schemathesis.toml lets "valid data" also be answered 422: the schema cannot
# tell which voucher codes exist (an unknown one is voucher_invalid); for the same reason it warns
# that POST /api/v1/settlements "mostly rejected generated data" (a warning, not a finding).
# Bounded: --max-examples and a timeout (a run that hits it fails).
#
# Environment: API_CONTRACT_PORT (8105), API_CONTRACT_DB (portal_api_contract),
# API_CONTRACT_EXAMPLES (examples per operation, 20), API_CONTRACT_TIME_LIMIT (seconds schemathesis may
# take, 240; measured: 160 s on a 2-core machine at load average 18), REDIS_URL (unset: the
# embedded broker).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${API_CONTRACT_PORT:-8105}"
DB="${API_CONTRACT_DB:-portal_api_contract}"
EXAMPLES="${API_CONTRACT_EXAMPLES:-20}"
TIME_LIMIT="${API_CONTRACT_TIME_LIMIT:-240}"
PY=.venv/bin/python
WORK="$(mktemp -d)"
SERVER_PID=""

cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
export DJANGO_DEBUG=0 DJANGO_HTTPS=0 DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
DJANGO_SECRET_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(64))')"
export DJANGO_SECRET_KEY
export PORTAL_VAR_DIR="$WORK/var"
mkdir -p "$PORTAL_VAR_DIR/broker/queue" "$PORTAL_VAR_DIR/broker/processed" "$PORTAL_VAR_DIR/broker/control"

echo "== fresh database $DB"
psql -h 127.0.0.1 -U postgres -q -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
psql -h 127.0.0.1 -U postgres -q -c "CREATE DATABASE $DB" >/dev/null
"$PY" manage.py migrate --noinput -v 0

echo "== registry, credits, institution, vouchers"
DJANGO_SETTINGS_MODULE=portal.settings "$PY" - "$WORK" <<'EOF'
import datetime, sys
import django
django.setup()
from accounts.idnumbers import make_id_number
work = sys.argv[1]
numbers = [make_id_number("460100", datetime.date(1950 + 7 * i, 3, 1 + i), 101 + 2 * i) for i in range(6)]
with open(f"{work}/registry.csv", "w") as f:
    f.write("id_number,name,phone,scheme,status,region_code\n")
    for i, number in enumerate(numbers):
        f.write(f"{number},契约测试{i},1390000{i:04d},employee,active,460100\n")
with open(f"{work}/credits.csv", "w") as f:
    f.write("id_number,amount_fen,period,reference\n")
    for i, number in enumerate(numbers):
        f.write(f"{number},5000000,2026-01,contract-{i}\n")
with open(f"{work}/ids.txt", "w") as f:
    f.write("\n".join(numbers) + "\n")
EOF
"$PY" manage.py import_registry "$WORK/registry.csv" >/dev/null
"$PY" manage.py import_credits "$WORK/credits.csv" >/dev/null
API_KEY="$("$PY" manage.py create_institution --code CT01 --name 契约测试医院 --kind hospital --region 460100 | tail -n 1)"
while read -r number; do  # in parallel: each command is a Python start-up
  ("$PY" manage.py issue_voucher "$number" | tail -n 1 >"$WORK/voucher-$number.txt") &
done <"$WORK/ids.txt"
wait
cat "$WORK"/voucher-*.txt >"$WORK/vouchers.txt"
echo "$(wc -l <"$WORK/vouchers.txt") vouchers issued"

echo "== gunicorn on 127.0.0.1:$PORT"
.venv/bin/gunicorn portal.wsgi:application --bind "127.0.0.1:$PORT" --workers 2 --timeout 30 \
  --access-logfile /dev/null --error-logfile "$WORK/gunicorn.log" 2>>"$WORK/gunicorn.log" &
SERVER_PID=$!
for _ in $(seq 1 60); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/api/v1/openapi.json" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/gunicorn.log"; exit 1; }
  sleep 0.5
done

echo "== schemathesis"
status=0
ROOT="$PWD"
# run in $WORK: schemathesis keeps a cache of crashes in .schemathesis/ of the current directory
(cd "$WORK" && API_CONTRACT_VOUCHERS="$WORK/vouchers.txt" SCHEMATHESIS_HOOKS="$ROOT/.ci/schemathesis_hooks.py" \
  timeout "$TIME_LIMIT" "$ROOT/.venv/bin/schemathesis" --config-file "$ROOT/.ci/schemathesis.toml" run \
    "http://127.0.0.1:$PORT/api/v1/openapi.json" \
    --header "Authorization: Bearer $API_KEY" \
    --max-examples "$EXAMPLES" --workers 1 --request-timeout 10 \
    --generation-database none --no-color --output-sanitize true) \
  || status=$?
if grep -q "Traceback" "$WORK/gunicorn.log"; then
  echo "The server logged errors:"; cat "$WORK/gunicorn.log"; status=1
fi
exit "$status"
