#!/usr/bin/env bash
# Makes sure Debian's chromium is there for the browser tests (store-level's and this example's,
# driven by playwright-core; playwright's own browser download cannot work on these machines).
# Installs it with apt-get when /usr/bin/chromium (or $CHROMIUM_PATH) is missing; needs root then.
# .ci/run calls this before the tests.
set -euo pipefail

chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
echo "== chromium for the browser tests"
if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "$chromium is missing; run as root, or: sudo apt-get update && sudo apt-get install -y chromium" >&2
    exit 1
  fi
  log=$(mktemp)
  echo "installing Debian's chromium (apt-get)"
  if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "apt-get could not install chromium (log above)" >&2
    exit 1
  fi
  rm -f "$log"
  if [ ! -x "$chromium" ]; then
    echo "apt-get installed chromium, but $chromium is still missing" >&2
    exit 1
  fi
fi
# Debian's wrapper script may print a shell warning before the version: keep the last line
"$chromium" --version 2>/dev/null | tail -n 1
