"""Hosts that never answer do not hold the crawl: a connect timeout apart from the read timeout, and a memory of
hosts whose attempts keep failing (``crawler/checks/hostmemory.py``), so their other targets are not waited out."""

from __future__ import annotations

import socket
import threading

import pytest

from crawler.checks.hostmemory import HostMemory, endpoint
from tests.crawling import run_crawl
from tests.hostileweb import HostileWeb


def test_memory_needs_failures_in_a_row_and_forgets():
    memory = HostMemory(failures=2, memory=60)
    assert not memory.failed("a:80", "unknown", "timeout", "http://a/1", now=0)
    assert memory.recall("a:80", now=1) is None  # one timeout is not a dead host
    assert memory.failed("a:80", "unknown", "timeout", "http://a/2", now=2)  # second in a row: remembered
    known = memory.recall("a:80", now=4)
    assert (known.verdict, known.reason, known.failures) == ("unknown", "timeout", 2)
    assert "answered from memory" in known.error(now=4) and "http://a/2" in known.error(now=4)
    assert memory.recall("b:80", now=4) is None and len(memory) == 1
    assert memory.recall("a:80", now=64) is None  # CHECK_HOST_MEMORY later the host is asked again
    assert memory.recall("a:80", now=65) is None


def test_a_host_that_answered_is_slow_not_dead():
    memory = HostMemory(failures=2, memory=60)
    memory.answered("busy:80")
    for i in range(5):  # a live host timing out in a burst of checks: its targets keep their own timeouts
        assert not memory.failed("busy:80", "unknown", "timeout", f"http://busy/{i}", now=i)
    assert memory.recall("busy:80", now=5) is None
    memory.failed("busy:80", "broken", "connection_refused", "http://busy/x", now=6)
    assert memory.failed("busy:80", "broken", "connection_refused", "http://busy/y", now=7)  # it went down
    assert memory.recall("busy:80", now=8).reason == "connection_refused"


def test_only_host_level_failures_count_and_a_change_of_failure_restarts():
    memory = HostMemory(failures=2, memory=60)
    for _ in range(5):
        memory.failed("a:80", "broken", "tls_error", "https://a/", now=0)  # a fact of the certificate, not of the host's life
    assert memory.recall("a:80", now=0) is None
    memory.failed("a:80", "unknown", "timeout", "http://a/", now=0)
    memory.failed("a:80", "broken", "connection_refused", "http://a/", now=0)
    assert memory.recall("a:80", now=0) is None  # one timeout then one refusal: no run of either
    memory.failed("a:80", "broken", "connection_refused", "http://a/", now=0)
    assert memory.recall("a:80", now=0).reason == "connection_refused"
    off = HostMemory(failures=0, memory=60)
    for _ in range(5):
        off.failed("a:80", "unknown", "timeout", "http://a/", now=0)
    assert off.recall("a:80", now=0) is None


def test_endpoint_is_host_and_port():
    assert endpoint("http://Example.com/x") == "example.com:80"
    assert endpoint("https://example.com/x") == "example.com:443"
    assert endpoint("https://example.com:8443/x") == "example.com:8443"
    assert endpoint("http://[::1]:8080/") == "::1:8080"


class SilentServer:
    """Accepts connections and reads requests, never answers (a hung application server): a read timeout.
    Counts the requests it received."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.requests = 0
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn):
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.requests += data.count(b"HTTP/1.1\r\n")

    def close(self):
        self.sock.close()
        for conn in self.conns:
            conn.close()


class BlackHole:
    """A port whose accept queue is full and never drained: Linux drops further SYNs, so a connect never completes
    (a firewalled dead server, on loopback)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fillers = []
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            try:
                filler.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.fillers.append(filler)

    def close(self):
        for s in [*self.fillers, self.sock]:
            s.close()


@pytest.fixture(scope="module")
def dead_hosts():
    silent, hole = SilentServer(), BlackHole()
    paths = [f"/article-{i}.html" for i in range(8)]
    links = ([f"http://silent-app.com:{silent.port}{p}" for p in paths]
             + [f"http://firewalled.org:{hole.port}{p}" for p in paths]
             + [f"http://switched-off.net{p}" for p in paths]
             + ["/fine.html"])
    body = ("<html><head><title>Resources</title></head><body><ul>"
            + "".join(f'<li><a href="{href}">resource {i}</a></li>' for i, href in enumerate(links))
            + "</ul></body></html>").encode()
    routes = {"niche-blog.com": {"/": (200, {}, body), "/fine.html": (200, {}, b"<html><title>fine</title></html>")}}
    with HostileWeb(routes) as web:
        web.extra_overrides = {"silent-app.com": "127.0.0.1", "firewalled.org": "127.0.0.1",
                               "switched-off.net": "127.0.0.2"}  # 127.0.0.2: nothing listens, connection refused
        yield web, silent, hole
    silent.close()
    hole.close()


class _Web:
    def __init__(self, overrides):
        self.dns_overrides = overrides


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_dead_hosts_are_learned_not_waited_out_target_by_target(dead_hosts, tmp_path, method):
    web, silent, hole = dead_hosts
    silent.requests = 0
    seeds = web.url("niche-blog.com", "/")
    settings = {"CRAWL_ID": "dead", "CHECK_TIMEOUT": "3", "CHECK_CONNECT_TIMEOUT": "1", "CHECK_RETRIES": "2",
                "PARSE_WORKERS": "0", "CHECK_METHOD": method}
    result = run_crawl("prospects", tmp_path, _Web({**web.dns_overrides, **web.extra_overrides}),
                       {"seeds": seeds, "max_depth": "0"}, settings)
    assert result.returncode == 0, result.log[-3000:]
    rows = {r["url"]: r for r in result.table("checks")}
    by_host = {}
    for url, row in rows.items():
        by_host.setdefault(url.split("/")[2].split(":")[0], []).append(row)
    assert {h: len(v) for h, v in by_host.items()} == {"silent-app.com": 8, "firewalled.org": 8, "switched-off.net": 8}

    # Still the truth for every target: a host that never answers is unknown/timeout, never broken.
    assert {(r["verdict"], r["reason"]) for r in by_host["silent-app.com"]} == {("unknown", "timeout")}
    assert {(r["verdict"], r["reason"]) for r in by_host["firewalled.org"]} == {("unknown", "timeout")}
    assert {(r["verdict"], r["reason"]) for r in by_host["switched-off.net"]} == {("broken", "connection_refused")}

    # Not waited out target by target: without the memory each target costs a request (HEAD first: 2), 8 or 16 in
    # all; with it, the host is given up after the first failures of the checks in flight.
    assert silent.requests < (8 if method == "GET" else 16), silent.requests
    # At most 5 of a host's 8 targets are really asked: 4 in flight (the per-host limit), and one more whose slot the
    # first failure frees before the second (CHECK_HOST_FAILURES = 2) makes the host remembered (seen in CI once).
    for host, rows_of_host in by_host.items():
        from_memory = [r for r in rows_of_host if r["error"] and "answered from memory" in r["error"]]
        assert len(from_memory) >= 3, (host, [(r["attempts"], r["error"]) for r in rows_of_host])
        assert any(r["attempts"] == 0 for r in from_memory), host  # never asked at all
    # The firewalled host was known by its connect timeout (1 s), not by the 3 s read timeout, and (HEAD first) no
    # GET followed a HEAD nobody connected for; the hung application server got its GET after the HEAD's read timeout.
    asked = [r for r in by_host["firewalled.org"] if r["attempts"]]
    assert asked and all(r["error"].startswith("connect timeout") and r["method"] == method for r in asked), asked
    asked = [r for r in by_host["silent-app.com"] if r["attempts"]]
    assert asked and all(r["error"].startswith("DownloadTimeoutError") and r["method"] == "GET" for r in asked), asked
    # A timeout is not asked again (CHECK_TIMEOUT_RETRIES = 0, though CHECK_RETRIES = 2): one GET (HEAD first:
    # HEAD, then the GET some servers need), never a third wait.
    assert all(r["attempts"] == (1 if method == "GET" else 2) for r in asked if "memory" not in r["error"]), asked
    assert result.stats.get("checks/hosts_remembered") == 3
    assert result.stats.get("checks/from_memory", 0) >= 9  # 3 hosts, at least 3 each (above)
    assert "answered from memory" in result.log
