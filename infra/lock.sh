#!/usr/bin/env bash
# Regenerate requirements.lock, the pinned and hashed dependencies the Dockerfile installs: infra/lock.sh
# Resolves pyproject.toml's dependencies (not the test extra) with pip-tools' pip-compile, in a throwaway venv, for
# the Python minor version of the Dockerfile's base image: run it with that Python (PYTHON=python3.11 infra/lock.sh).
# This machine's own pip settings (extra indexes, local wheel folders, constraints) are ignored: the lock names
# only what PyPI serves.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
want=$(sed -n 's/^FROM python:\([0-9]*\.[0-9]*\).*/\1/p' Dockerfile | head -1)
have=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$want" != "$have" ]; then
  echo "the Dockerfile runs Python $want but $PY is $have: run PYTHON=python$want infra/lock.sh" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= PIP_CONSTRAINT= PIP_EXTRA_INDEX_URL=
"$PY" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q pip-tools
"$tmp/venv/bin/pip-compile" -q --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
  --no-emit-find-links --no-header -o "$tmp/requirements.lock" pyproject.toml
{
  echo "# Pinned, hashed dependencies of linkprospector for the Docker image (Python $want): regenerate with"
  echo "# infra/lock.sh after changing the dependencies in pyproject.toml. The image installs these, then the"
  echo "# project itself with --no-deps."
  cat "$tmp/requirements.lock"
} > requirements.lock
echo "wrote requirements.lock ($(grep -c '^[a-zA-Z]' requirements.lock) packages)"
