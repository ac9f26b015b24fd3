#!/usr/bin/env bash
# Debian's chromium (browser journeys) and poppler-utils (statement PDFs read back as text).
# Installed with apt when missing and this machine allows it (root with apt-get); otherwise the
# suite skips the browser journeys with one line saying how to install them (in CI they fail).
# PORTAL_NO_APT=1 never installs anything. Never downloads a browser of its own.
set -u
missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
# Chinese glyphs in the journeys' screenshots (the portal's PDFs take their font from PyPI).
fc-list 2>/dev/null | grep -qi "noto sans cjk" || missing+=(fonts-noto-cjk)
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "${PORTAL_NO_APT:-0}" = 1 ] || [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "test tools missing: ${missing[*]} (install with: apt-get install ${missing[*]})"
  exit 0
fi
echo "installing test tools with apt: ${missing[*]}"
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
  echo "could not install ${missing[*]} with apt"
fi
exit 0
