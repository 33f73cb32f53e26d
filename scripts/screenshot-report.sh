#!/usr/bin/env bash
# Render a `scenescope bench --html` report with headless Chromium (Debian's chromium package) and write a PNG,
# to check that the report opens and draws with no network.
#
#   scripts/screenshot-report.sh report.html [out.png] [width,height]
set -euo pipefail

REPORT=${1:?usage: screenshot-report.sh report.html [out.png] [width,height]}
OUT=${2:-${REPORT%.html}.png}
SIZE=${3:-1400,2000}

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-cache show chromium >/dev/null 2>&1 || $SUDO apt-get update -qq >&2
  $SUDO apt-get install -y -qq chromium >&2
  CHROMIUM=$(command -v chromium)
fi

PROFILE=$(mktemp -d)
trap 'rm -rf "$PROFILE"' EXIT
"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --no-first-run --user-data-dir="$PROFILE" --hide-scrollbars \
  --screenshot="$(realpath -m "$OUT")" --window-size="$SIZE" "file://$(realpath "$REPORT")" >&2 2>/dev/null || true
if [ ! -s "$OUT" ]; then
  echo "screenshot-report: chromium wrote no screenshot" >&2
  exit 1
fi
echo "$OUT"
