#!/usr/bin/env bash
# Start N cluster workers on this machine and wait for them: infra/run-workers.sh N [scrapy crawl options...]
# Needs REDIS_URL in the environment and seeds pushed first (scrapy seed prospects seeds.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:?usage: infra/run-workers.sh N [options]}; shift
: "${REDIS_URL:?set REDIS_URL, e.g. redis://127.0.0.1:6379/0}"
pids=()
for i in $(seq 1 "$n"); do
  .venv/bin/scrapy crawl prospects -s WORKER_ID="$(hostname)-w$i" "$@" > "worker-$i.log" 2>&1 &
  pids+=($!)
done
trap 'kill "${pids[@]}" 2>/dev/null' INT TERM
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
exit $status
