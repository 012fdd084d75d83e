#!/usr/bin/env bash
# Start N cluster workers on this machine and wait for them: infra/run-workers.sh N [scrapy crawl options...]
# Needs REDIS_URL in the environment and seeds queued first (scrapy seed prospects seeds.txt). Logs go to
# $LOG_DIR/worker-<i>.log (default: the current folder).
#
# Signals: each worker runs in its own session, so a Ctrl-C in this terminal reaches this script only, which
# forwards exactly one SIGTERM per signal it receives: the first makes every worker drain (finish or give back its
# work, commit, exit 0: crawler/shutdown.py), a second one makes them exit at once.
set -uo pipefail
cd "$(dirname "$0")/.."
n=${1:?usage: infra/run-workers.sh N [options]}; shift
: "${REDIS_URL:?set REDIS_URL, e.g. redis://127.0.0.1:6379/0}"
log_dir=${LOG_DIR:-.}
mkdir -p "$log_dir"
pids=()
for i in $(seq 1 "$n"); do
  setsid .venv/bin/scrapy crawl prospects -s WORKER_ID="$(hostname)-w$i" "$@" > "$log_dir/worker-$i.log" 2>&1 &
  pids+=($!)
done
forward() { kill -TERM "${pids[@]}" 2>/dev/null || true; }
trap forward INT TERM
status=0
for pid in "${pids[@]}"; do
  while true; do
    wait "$pid"; rc=$?
    if [ "$rc" -gt 128 ] && kill -0 "$pid" 2>/dev/null; then continue; fi  # a trapped signal interrupted wait
    break
  done
  [ "$rc" -ne 0 ] && status=$rc
done
exit $status
