#!/usr/bin/env bash
# The portal as README's production section runs it: collectstatic, gunicorn with DJANGO_DEBUG=0
# (DJANGO_HTTPS=0 on loopback), a Celery worker and beat, PostgreSQL and Redis. Then .ci/crawl.py
# visits every page each persona reaches and calls the settlement API, and .ci/page_checks.sh
# runs axe-core and the Nu HTML checker over those pages. Fails on any 5xx, any missing or
# uncompressed static asset, a worker that does not answer, a server that dies, a serious or
# critical axe finding or a Nu error.
# Usage: .ci/production.sh   (PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 running)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PORT=${PRODUCTION_PORT:-8090}
WORK=$(mktemp -d /tmp/portal-production.XXXXXX)
DB=${PRODUCTION_DB:-portal_production_ci}
REDIS_DB=${PRODUCTION_REDIS_DB:-9}
export DJANGO_SETTINGS_MODULE=portal.settings
export DJANGO_DEBUG=0 DJANGO_HTTPS=0 DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
export DJANGO_SECRET_KEY="$($PY -c 'import secrets; print(secrets.token_urlsafe(60))')"
export PORTAL_FIELD_ENCRYPTION_KEY="$($PY -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
export PORTAL_LOOKUP_HASH_KEY="$($PY -c 'import secrets; print(secrets.token_urlsafe(32))')"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
export REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB"
export DJANGO_STATIC_ROOT="$WORK/static" PORTAL_VAR_DIR="$WORK/var" PORTAL_BASE_URL="http://127.0.0.1:$PORT"
mkdir -p "$PORTAL_VAR_DIR"
unset PORTAL_TESTING PORTAL_CELERY_EAGER PORTAL_SMS_SENDER PORTAL_EMAIL_SENDER || true

pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT

psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB" >/dev/null
redis-cli -n "$REDIS_DB" flushdb >/dev/null

echo "== production: migrate, collectstatic, demo data"
$PY manage.py migrate --noinput >/dev/null
$PY manage.py collectstatic --noinput | tail -1
$PY manage.py load_demo > "$WORK/demo.txt"
# Staff confirm each log-in with a TOTP code: give the demo staff an authenticator whose secret
# this script chooses, so the crawl can compute the current code (as their phone would).
TOTP_KEY="$($PY -c 'import secrets; print(secrets.token_hex(20))')"
$PY manage.py shell -c "
from django_otp.plugins.otp_totp.models import TOTPDevice
from accounts.models import User
for name in ('admin', 'counter'):
    user = User.objects.get(username=name)
    TOTPDevice.objects.filter(user=user).delete()
    TOTPDevice.objects.create(user=user, name='authenticator', key='$TOTP_KEY', confirmed=True)
"

echo "== production: gunicorn (DJANGO_DEBUG=0), Celery worker and beat"
.venv/bin/gunicorn portal.wsgi -b "127.0.0.1:$PORT" -w 2 --timeout 60 > "$WORK/web.log" 2>&1 &
pids+=($!)
.venv/bin/celery -A portal worker --loglevel=INFO --concurrency=2 --without-gossip --without-mingle \
  -n "ci-production@%h" > "$WORK/worker.log" 2>&1 &
pids+=($!)
.venv/bin/celery -A portal beat --loglevel=INFO -s "$WORK/var/beat-schedule" > "$WORK/beat.log" 2>&1 &
pids+=($!)

ready=""
for _ in $(seq 1 60); do
  if curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 1
done
if [ -z "$ready" ]; then
  echo "the portal did not become ready:"; curl -sS "http://127.0.0.1:$PORT/readyz" || true; tail -30 "$WORK/web.log"
  exit 1
fi
pong=""
for _ in $(seq 1 30); do
  if .venv/bin/celery -A portal inspect ping -t 2 >/dev/null 2>&1; then pong=1; break; fi
  sleep 1
done
[ -n "$pong" ] || { echo "the Celery worker did not answer"; tail -30 "$WORK/worker.log"; exit 1; }

# Credentials from the demo's own report (as a newcomer reads it after make run).
HOLDER_ID=$(grep -m1 '张伟 ' "$WORK/demo.txt" | awk '{print $2}')
MOTHER_ID=$(grep -m1 '李秀英 ' "$WORK/demo.txt" | awk '{print $2}')
API_KEY=$(grep -m1 'H460100001, hospital' "$WORK/demo.txt" | awk '{print $NF}')
SPOUSE_ID=$(grep -m1 '王丽 ' "$WORK/demo.txt" | awk '{print $2}')
VOUCHER=$($PY manage.py issue_voucher "$SPOUSE_ID" | tail -1)
PASSWORD=$(grep -m1 'password for all' "$WORK/demo.txt" | sed -E 's/.*: ([^)]*)\).*/\1/')
cat > "$WORK/credentials.json" <<JSON
{"personas": {
  "holder": {"username": "$HOLDER_ID", "password": "$PASSWORD"},
  "relative": {"username": "$MOTHER_ID", "password": "$PASSWORD"},
  "counter": {"username": "counter", "password": "$PASSWORD", "totp_key": "$TOTP_KEY"},
  "admin": {"username": "admin", "password": "$PASSWORD", "login_path": "/admin/login/", "totp_key": "$TOTP_KEY"}},
 "api_key": "$API_KEY", "voucher": "$VOUCHER"}
JSON

echo "== production: crawl as every persona, static assets, settlement API"
status=0
$PY .ci/crawl.py "http://127.0.0.1:$PORT" "$WORK/credentials.json" "$WORK/pages" > "$WORK/crawl.txt" || status=$?
cat "$WORK/crawl.txt"
echo "== production: page checks (axe-core in Chromium, Nu HTML checker) on the crawled pages"
PY="$PY" .ci/page_checks.sh "http://127.0.0.1:$PORT" "$WORK/pages" || status=1
for pid in "${pids[@]}"; do
  kill -0 "$pid" 2>/dev/null || { echo "a production process died:"; tail -20 "$WORK"/*.log; status=1; }
done
if grep -q "Traceback" "$WORK/web.log" "$WORK/worker.log"; then
  echo "tracebacks in the production logs:"; grep -B2 -A12 "Traceback" "$WORK/web.log" "$WORK/worker.log" | head -80
  status=1
fi
# Logs carry no personal number (ID numbers of the demo people).
if grep -qE "$HOLDER_ID|$MOTHER_ID|$SPOUSE_ID" "$WORK"/*.log; then
  echo "an ID number appears in the production logs"; status=1
fi
echo "== production: request log sample"; grep -m3 "portal.request" "$WORK/web.log" || true
echo "== production: done in ${SECONDS} s"
exit $status
