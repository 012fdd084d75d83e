#!/usr/bin/env bash
# Set up everything the tests need, then run them: ./test.sh [pytest arguments]
# The tests start their own redis-server and HTTP servers on 127.0.0.1; nothing leaves this machine.
set -euo pipefail
cd "$(dirname "$0")"
bash infra/bootstrap.sh
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing redis-server from Debian..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null
  else
    echo "redis-server is missing: install it (Debian: sudo apt-get install redis-server) and run ./test.sh again" >&2
    exit 1
  fi
fi
# A real browser for the HTML report test (skipped with a message when it cannot be installed).
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium from Debian (for the HTML report test)..."
  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium || true) >/dev/null 2>&1
fi
.venv/bin/ruff check --quiet . || { echo "ruff found the problems above (config: pyproject.toml [tool.ruff])" >&2; exit 1; }
exec .venv/bin/python -m pytest "$@"
