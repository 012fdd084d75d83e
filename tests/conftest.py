"""Real parts for the tests: a redis-server on a free loopback port, the hermetic test web, and a crawl runner.

Nothing here talks to anything but 127.0.0.0/8: the crawls run with DNS_OVERRIDES_STRICT, so a name the test web
does not define fails as NXDOMAIN without a lookup.
"""

from __future__ import annotations

import itertools
import shutil
import socket
import subprocess
import time

import pytest

from demo.web import TestWeb


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server():
    """A throwaway redis-server; yields its URL prefix (append a db number: ``f"{url}/3"``)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run ./test.sh (it installs it as root) or apt-get install redis-server")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes",
         "--databases", "64"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    import redis

    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis(host="127.0.0.1", port=port).ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


_db = itertools.cycle(range(1, 64))  # each test flushes the one it gets


@pytest.fixture
def redis_url(redis_server):
    """A fresh Redis database for one test."""
    import redis

    url = f"{redis_server}/{next(_db)}"
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture(scope="session")
def object_store():
    """A SeaweedFS S3 server on loopback (tests/objectstore.py)."""
    from tests.objectstore import ObjectStore

    try:
        store = ObjectStore().__enter__()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield store
    store.__exit__()


@pytest.fixture(scope="session")
def web():
    with TestWeb(hang_seconds=60) as w:
        yield w


@pytest.fixture
def fresh_web(web):
    web.reset_counters()
    web.version = 1
    return web
