"""Hostile pages, end to end (issue 11): a real crawl of a small site on loopback whose page links to a canary
server on an address outside ``DNS_OVERRIDES`` (127.0.0.5) in every form a browser or a socket accepts, and via a
named, allowed target that redirects there. The canary counts every TCP connection: the goal is zero.

Both servers live on 127.0.0.0/8 and the crawl runs with ``DNS_OVERRIDES_STRICT``, so nothing leaves the machine;
the canary's address is not in the overrides, so only the address guard (``crawler/netguard.py``, applied by
``crawler/dns.py`` at connect time) stands between the crawler and it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
from warcio.archiveiterator import ArchiveIterator

from tests.crawling import REPO, run_crawl

CANARY_IP = "127.0.0.5"
CANARY_BODY = b"<html><title>canary</title><body>CANARY-INTERNAL-SECRET</body></html>"
LONG_QUERY = "q=" + "a" * 2100  # over Scrapy's URLLENGTH_LIMIT (2083)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler):
        super().__init__(address, handler)
        self.connections = 0
        self.requests: list[tuple[str, str, str, dict]] = []  # method, Host, path, headers
        self.lock = threading.Lock()

    def verify_request(self, request, client_address):
        with self.lock:
            self.connections += 1  # every accepted TCP connection, whether or not a request follows
        return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.server.requests.append((self.command, self.headers.get("Host", ""), self.path, dict(self.headers)))
        status, headers, body = self.server.answer(self.headers.get("Host", "").split(":")[0], self.path)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args):
        pass


@dataclass
class HostileWeb:
    """``hostile-site.com`` (the seed), ``redirector.com`` and ``ok-target.com`` on 127.0.0.1 by name; the canary
    on 127.0.0.5 by nothing but its address."""

    site: _Server
    canary: _Server

    @property
    def port(self) -> int:
        return self.site.server_address[1]

    @property
    def canary_port(self) -> int:
        return self.canary.server_address[1]

    @property
    def dns_overrides(self) -> dict[str, str]:
        return {"hostile-site.com": "127.0.0.1", "redirector.com": "127.0.0.1", "ok-target.com": "127.0.0.1"}

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    def canary_url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.canary_port}{path}"

    @property
    def hrefs(self) -> list[str]:
        """The links of the hostile page, in order: the IPv6 literal first, so every later link proves that it
        did not cost the rest of the page."""
        return [
            self.canary_url("[::ffff:127.0.0.5]", "/mapped"),
            self.canary_url(CANARY_IP, "/bare"),
            self.canary_url("2130706437", "/decimal"),
            self.canary_url("127.5", "/short"),
            self.canary_url("0x7f000005", "/hex"),
            self.canary_url("[::1]", "/ipv6-loopback"),
            "http://127.0.0.6/latest/meta-data/",  # where a cloud metadata service would answer (nothing listens)
            self.url("redirector.com", "/to-canary"),
            self.url("redirector.com", "/to-ftp"),
            self.url("redirector.com", "/to-file"),
            f"http://user:secret-password@ok-target.com:{self.port}/creds",
            self.url("ok-target.com", f"/long?{LONG_QUERY}"),
            self.url("ok-target.com", "/after"),
        ]

    def answer(self, host: str, path: str) -> tuple[int, dict, bytes]:
        html = {"Content-Type": "text/html; charset=utf-8"}
        if path == "/robots.txt":
            return 404, {}, b""
        if host == "hostile-site.com" and path == "/":
            links = "\n".join(f'<p><a href="{href}">link {n}</a></p>' for n, href in enumerate(self.hrefs))
            return 200, html, f"<html><head><title>Links</title></head><body><main>{links}</main></body></html>".encode()
        if host == "redirector.com" and path == "/to-canary":
            return 302, {"Location": self.canary_url(CANARY_IP, "/via-redirect")}, b""
        if host == "redirector.com" and path == "/to-ftp":
            return 301, {"Location": "ftp://files.example.com/pub/file.txt"}, b""
        if host == "redirector.com" and path == "/to-file":
            return 302, {"Location": "file:///etc/passwd"}, b""
        if host == "ok-target.com":
            return 200, html, b"<html><head><title>A fine resource</title></head><body><h1>Fine</h1></body></html>"
        return 404, html, b"<html><title>Not here</title></html>"


@pytest.fixture(scope="module")
def hostile():
    site = _Server(("127.0.0.1", 0), _Handler)
    canary = _Server((CANARY_IP, 0), _Handler)
    web = HostileWeb(site, canary)
    site.answer = web.answer
    canary.answer = lambda host, path: (200, {"Content-Type": "text/html"}, CANARY_BODY)
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (site, canary)]
    for thread in threads:
        thread.start()
    yield web
    for server in (site, canary):
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def guarded(hostile, tmp_path_factory):
    out = tmp_path_factory.mktemp("ssrf")
    seeds = f"{hostile.url('hostile-site.com')},{hostile.canary_url(CANARY_IP, '/')}"
    result = run_crawl("prospects", out, hostile, {"seeds": seeds}, {"CRAWL_ID": "c1", "WARC_ENABLED": "True"})
    assert result.returncode == 0, result.log[-3000:]
    result.canary_connections = hostile.canary.connections
    result.site_requests = list(hostile.site.requests)
    return result


def checks_by_path(crawl) -> dict[str, dict]:
    return {row["url"].split("/", 3)[3].split("?")[0]: row for row in crawl.table("checks")}


def test_nothing_reaches_the_canary_in_any_form(guarded, hostile):
    assert guarded.canary_connections == 0
    checks = checks_by_path(guarded)
    blocked = ["mapped", "bare", "decimal", "short", "hex", "ipv6-loopback", "latest/meta-data/", "to-canary"]
    for path in blocked:
        assert (checks[path]["verdict"], checks[path]["reason"], checks[path]["http_status"]) == (
            "unknown", "blocked_address", None), checks[path]
    # legacy IPv4 forms are stored as the address they reach; the IPv6 literal keeps its brackets
    assert checks["decimal"]["url"] == hostile.canary_url(CANARY_IP, "/decimal")
    assert checks["hex"]["url"] == hostile.canary_url(CANARY_IP, "/hex")
    assert checks["mapped"]["url"] == hostile.canary_url("[::ffff:127.0.0.5]", "/mapped")
    # the redirect was followed by name, and refused at the hop to the canary
    hop = hostile.canary_url(CANARY_IP, "/via-redirect")
    assert checks["to-canary"]["redirect_chain"] == [hop] and checks["to-canary"]["final_url"] == hop
    stats = guarded.stats
    assert stats["checks/reason/blocked_address"] == len(blocked)
    assert stats["netguard/blocked"] == len(blocked) + 1  # the checks and the seed page (robots.txt is not asked)
    assert "retry/count" not in stats and "log_count/ERROR" not in stats  # refused once, quietly
    assert stats["netguard/blocked/loopback"] >= len(blocked)
    assert "not connecting to 127.0.0.6: 127.0.0.6 is loopback" in guarded.log


def test_a_seed_on_a_blocked_address_is_a_fetch_error_row(guarded, hostile):
    (page,) = [p for p in guarded.table("pages") if CANARY_IP in p["url"]]
    assert page["parse_status"] == "fetch_error" and "blocked_address" in page["fetch_error"]
    assert guarded.stats["pages/blocked_address"] == 1


def test_the_warc_archive_holds_nothing_from_the_canary(guarded):
    files = sorted(Path(guarded.out).glob("*/crawl=c1/*.warc.gz"))
    assert any("crawldiagnostics" in str(f) for f in files)  # the allowed checks were archived
    for path in files:
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                assert CANARY_IP not in (record.rec_headers.get_header("WARC-Target-URI") or "")
                assert record.rec_headers.get_header("WARC-IP-Address") in (None, "127.0.0.1")
                assert b"CANARY-INTERNAL-SECRET" not in record.content_stream().read()


def test_an_ipv6_literal_costs_no_other_link(guarded, hostile):
    links = [link for link in guarded.table("links") if link["source_url"] == hostile.url("hostile-site.com")]
    assert sorted(link["ordinal"] for link in links) == list(range(len(hostile.hrefs)))
    assert links and "links/unrequestable" not in guarded.stats
    after = checks_by_path(guarded)["after"]
    assert (after["verdict"], after["reason"]) == ("ok", "ok")


def test_credentials_in_a_link_are_neither_stored_nor_sent(guarded, hostile):
    creds = checks_by_path(guarded)["creds"]
    assert (creds["url"], creds["verdict"]) == (hostile.url("ok-target.com", "/creds"), "ok")
    sent = [r for r in guarded.site_requests if r[2] == "/creds"]
    assert sent and all("authorization" not in {k.lower() for k in headers} and "@" not in host
                        for _, host, _, headers in sent)
    for table in ("pages", "links", "checks"):
        for row in guarded.table(table):
            assert "secret-password" not in repr(row), (table, row)
    for path in Path(guarded.out).glob("*/crawl=c1/*.warc.gz"):
        with open(path, "rb") as stream:
            assert b"secret-password" not in stream.read()  # gzip members: checked decompressed below too
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                assert "secret-password" not in str(record.rec_headers) + str(record.http_headers)
    assert "secret-password" not in guarded.log


def test_a_url_over_the_length_limit_gets_an_unknown_row_not_silence(guarded, hostile):
    row = checks_by_path(guarded)["long"]
    assert (row["verdict"], row["reason"], row["attempts"]) == ("unknown", "url_too_long", 0)
    assert row["url"] == hostile.url("ok-target.com", f"/long?{LONG_QUERY}")
    assert "over URLLENGTH_LIMIT (2083)" in row["error"]
    assert not [r for r in guarded.site_requests if r[2].startswith("/long")]
    assert guarded.stats["checks/reason/url_too_long"] == 1


def test_redirects_to_ftp_or_file_are_broken_with_an_unusable_location(guarded):
    checks = checks_by_path(guarded)
    for path, location in (("to-ftp", "ftp://files.example.com/pub/file.txt"), ("to-file", "file:///etc/passwd")):
        row = checks[path]
        assert (row["verdict"], row["reason"], row["error"]) == ("broken", "http_4xx", f"unusable Location: {location}")


def test_allowed_networks_open_the_canary_on_purpose(hostile, tmp_path):
    """The hole an operator opens (a staging mirror on a private address) works, by literal and by redirect."""
    before = hostile.canary.connections
    result = run_crawl("prospects", tmp_path, hostile, {"seeds": hostile.url("hostile-site.com")},
                       {"CRAWL_ID": "c2", "ALLOWED_NETWORKS": f"{CANARY_IP}/32,127.0.3.0/24"})
    assert result.returncode == 0, result.log[-3000:]
    checks = checks_by_path(result)
    for path in ("mapped", "bare", "decimal", "short", "hex", "to-canary"):
        assert (checks[path]["verdict"], checks[path]["reason"]) == ("ok", "ok"), checks[path]
    for path in ("ipv6-loopback", "latest/meta-data/"):  # still outside the allowed networks
        assert checks[path]["reason"] == "blocked_address"
    assert hostile.canary.connections > before


def test_the_resolver_alone_holds_at_connect_time(hostile, tmp_path):
    """Without the middleware that refuses IP literals early, every connection still asks the resolver for its
    address when it connects, and the resolver refuses: the middleware only makes the refusal quick and clear."""
    before = hostile.canary.connections
    middlewares = {"scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
                   "crawler.robotstxt.RobotsTxtMiddleware": 100,
                   "crawler.addressguard.AddressGuardMiddleware": None,
                   "crawler.addressguard.BlockedConnectionMiddleware": 600}
    result = run_crawl("prospects", tmp_path, hostile, {"seeds": hostile.url("hostile-site.com")},
                       {"CRAWL_ID": "c3", "DOWNLOADER_MIDDLEWARES": json.dumps(middlewares)})
    assert result.returncode == 0, result.log[-3000:]
    assert "AddressGuardMiddleware" not in result.log and "BlockedConnectionMiddleware" in result.log  # off, really
    assert hostile.canary.connections == before
    checks = checks_by_path(result)
    for path in ("mapped", "bare", "decimal", "short", "hex", "ipv6-loopback", "latest/meta-data/", "to-canary"):
        assert (checks[path]["verdict"], checks[path]["reason"]) == ("unknown", "blocked_address"), checks[path]
    assert result.stats["netguard/blocked"] >= 8  # counted by the resolver this time
    assert "retry/count" not in result.stats


def test_an_allowed_ipv6_literal_is_reached_over_ipv6(hostile, tmp_path):
    """IPv6 literals are requested like any URL once allowed: the resolver hands Twisted the IPv6 address."""
    class IPv6Server(_Server):
        address_family = socket.AF_INET6

    try:
        canary6 = IPv6Server(("::1", hostile.canary_port), _Handler)
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")
    canary6.answer = lambda host, path: (200, {"Content-Type": "text/plain"}, b"fine")
    thread = threading.Thread(target=canary6.serve_forever, daemon=True)
    thread.start()
    try:
        result = run_crawl("prospects", tmp_path, hostile, {"seeds": hostile.url("hostile-site.com")},
                           {"CRAWL_ID": "c4", "ALLOWED_NETWORKS": "::1/128"})
    finally:
        canary6.shutdown()
        canary6.server_close()
    assert result.returncode == 0, result.log[-3000:]
    row = checks_by_path(result)["ipv6-loopback"]
    assert (row["url"], row["verdict"]) == (hostile.canary_url("[::1]", "/ipv6-loopback"), "ok")
    assert [(m, h) for m, h, p, _ in canary6.requests if p == "/ipv6-loopback"][:1] == [("GET", f"[::1]:{hostile.canary_port}")]
    assert checks_by_path(result)["bare"]["reason"] == "blocked_address"  # ::1 allowed, 127.0.0.5 still not


def test_a_cluster_worker_is_guarded_the_same_way(hostile, redis_url, tmp_path):
    """Through the shared Redis frontier (the IPv6 literal and the refused checks travel as queue entries): the
    same verdicts as one machine, nothing at the canary, and the frontier drained."""
    before = hostile.canary.connections
    seeds = tmp_path / "seeds.txt"
    seeds.write_text(f"{hostile.url('hostile-site.com')}\n{hostile.canary_url(CANARY_IP, '/')}\n")
    env = {"REDIS_URL": redis_url}
    pushed = subprocess.run([sys.executable, "-m", "scrapy", "seed", "prospects", str(seeds), "--crawl", "c5"],
                            cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert pushed.returncode == 0, pushed.stderr
    result = run_crawl("prospects", tmp_path / "lake", hostile, {},
                       {"MAX_IDLE_TIME_BEFORE_CLOSE": "2", "WORKER_ID": "w1"}, env=env)
    assert result.returncode == 0, result.log[-3000:]
    assert hostile.canary.connections == before
    checks = checks_by_path(result)
    for path in ("mapped", "bare", "decimal", "short", "hex", "ipv6-loopback", "latest/meta-data/", "to-canary"):
        assert (checks[path]["verdict"], checks[path]["reason"]) == ("unknown", "blocked_address"), checks[path]
    assert (checks["after"]["verdict"], checks["long"]["reason"]) == ("ok", "url_too_long")
    (page,) = [p for p in result.table("pages") if CANARY_IP in p["url"]]
    assert "blocked_address" in page["fetch_error"]
    server = redis.Redis.from_url(redis_url)
    assert int(server.get("prospects:queued")) == 0 and int(server.get("prospects:leased")) == 0


def test_linkprospector_check_of_an_internal_site_says_how_to_allow_it(hostile, tmp_path):
    cli = str(Path(sys.executable).parent / "linkprospector")
    strict = ["-s", "DNS_OVERRIDES_STRICT=True", "-s", "DNS_OVERRIDES=hostile-site.com=127.0.0.1"]
    before = hostile.canary.connections
    refused = subprocess.run([cli, "check", hostile.canary_url(CANARY_IP, "/"), *strict], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "not a public address; allow its network with -s ALLOWED_NETWORKS" in refused.stderr
    assert hostile.canary.connections == before
    allowed = subprocess.run([cli, "check", hostile.canary_url(CANARY_IP, "/"), *strict,
                              "-s", f"ALLOWED_NETWORKS={CANARY_IP}"], cwd=tmp_path, capture_output=True, text=True,
                             timeout=120)
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    assert hostile.canary.connections > before
