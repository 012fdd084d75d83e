#!/usr/bin/env bash
# Set up the environment and run a demo crawl of the bundled demo web on loopback (no Redis, nothing leaves the
# machine): ./demo.sh [--out DIR]
set -euo pipefail
cd "$(dirname "$0")"
bash infra/bootstrap.sh
exec .venv/bin/python -m demo "$@"
