"""The web-archive client (crawler/wayback.py) and the recovered text (crawler/reports/recover.py): plain functions,
and the client against a canned CDX server and replay on loopback."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from crawler.netguard import parse_networks
from crawler.reports.recover import page_text
from crawler.wayback import (
    Archive,
    ArchiveError,
    ArchiveUnavailable,
    Capture,
    id_url,
    latest_html,
    parse_cdx,
    replay_base,
)

WAYBACK_JSON = json.dumps([
    ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"],
    ["com,example)/gone", "20190101000000", "http://example.com/gone", "text/html", "200", "AAA", "100"],
    ["com,example)/gone", "20210101000000", "http://example.com/gone", "warc/revisit", "200", "AAA", "90"],
    ["com,example)/gone", "20200101000000", "http://example.com/gone", "text/html", "200", "BBB", "120"],
    ["com,example)/gone", "20220101000000", "http://example.com/gone", "application/pdf", "200", "CCC", "9000"],
]).encode()
PYWB_JSON = b"\n".join(json.dumps(row).encode() for row in (
    {"urlkey": "com,example)/gone", "timestamp": "20200101000000", "url": "http://example.com/gone",
     "mime": "text/html", "status": "200", "digest": "BBB", "length": "120", "filename": "a.warc.gz"},
    {"urlkey": "com,example)/gone", "timestamp": "20230101000000", "url": "http://example.com/gone",
     "mime": "text/html", "status": "404", "digest": "DDD", "length": "80"},
))
TEXT = b"com,example)/gone 20200101000000 http://example.com/gone text/html 200 BBB 120\n"


def test_cdx_answers_of_the_wayback_machine_and_of_pywb_read_alike():
    wayback, pywb, text = parse_cdx(WAYBACK_JSON), parse_cdx(PYWB_JSON), parse_cdx(TEXT)
    assert len(wayback) == 4 and len(pywb) == 2 and len(text) == 1
    expected = Capture("com,example)/gone", "20200101000000", "http://example.com/gone", "text/html", "200", "BBB",
                       "120")
    assert wayback[2] == pywb[0] == text[0] == expected
    assert parse_cdx(b"") == parse_cdx(b"[]") == []
    # newest first, 200 and HTML only: not the revisit record, the PDF or the 404
    assert [c.timestamp for c in latest_html(wayback + pywb)] == ["20200101000000", "20200101000000", "20190101000000"]


def test_replay_addresses():
    assert replay_base("https://web.archive.org/cdx/search/cdx") == "https://web.archive.org/web/"
    assert replay_base("http://127.0.0.1:8080/coll/cdx") == "http://127.0.0.1:8080/coll/"
    assert replay_base("https://index.example.org/query") == ""
    capture = parse_cdx(TEXT)[0]
    assert id_url("https://web.archive.org/web/", capture) == (
        "https://web.archive.org/web/20200101000000id_/http://example.com/gone")
    with pytest.raises(ValueError, match="WAYBACK_REPLAY_URL"):
        Archive("https://index.example.org/query")


def test_page_text_is_the_articles_first_paragraphs():
    html = (b"<html><head><title>Guide</title></head><body><nav><p>Home and all the other pages of this site</p></nav>"
            b"<main><p>By Ann</p><p>" + b"First paragraph, long enough to be content. " * 2 + b"</p>"
            b"<aside><p>Related posts you might like to read next week</p></aside>"
            b"<p>Second paragraph, also long enough to count as text.</p><p>Third one, long enough to be kept as well.</p>"
            b"<p>Fourth paragraph, which is past the number asked for.</p></main>"
            b"<footer><p>Copyright notice that is long enough to look like text</p></footer></body></html>")
    title, paragraphs = page_text(html, "text/html; charset=utf-8", 3)
    assert title == "Guide"
    assert paragraphs == ["First paragraph, long enough to be content. First paragraph, long enough to be content.",
                          "Second paragraph, also long enough to count as text.",
                          "Third one, long enough to be kept as well."]
    assert page_text(b"<html><body><p>Short.</p></body></html>", None)[1] == ["Short."]  # nothing longer: kept


class _Archive(BaseHTTPRequestHandler):
    """A canned archive: /cdx answers per URL, /web/<ts>id_/<url> replays; every request is logged with its time."""

    def do_GET(self):
        server = self.server
        with server.lock:
            server.log.append((time.monotonic(), self.path))
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
        try:
            time.sleep(0.02)
            self._answer(server)
        finally:
            with server.lock:
                server.in_flight -= 1

    def _answer(self, server):
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if parts.path == "/cdx/search/cdx":
            url = query["url"][0]
            if url.endswith("/busy") and sum(1 for _, p in server.log if "busy" in p) == 1:
                return self._send(429, b"slow down", [("Retry-After", "1")])
            if url.endswith("/broken-cdx"):
                return self._send(500, b"oops")
            rows = [["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]]
            if not url.endswith("/nothing"):
                rows.append(["k", "20200101000000", url, "text/html", "200", "D", "1"])
            return self._send(200, json.dumps(rows).encode(), [("Content-Type", "application/json")])
        if parts.path.startswith("/web/20200101000000id_/"):
            original = parts.path.split("id_/", 1)[1]
            if original.endswith("/redirected"):
                return self._send(302, b"", [("Location", "/web/20200101000000id_/http://example.com/final")])
            if original.endswith("/huge"):
                return self._send(200, b"<p>" + b"x" * 100_000 + b"</p>")
            if original.endswith("/inside"):
                return self._send(302, b"", [("Location", "http://127.0.0.9/secret")])
            return self._send(200, f"<title>{original}</title><p>copy</p>".encode())
        self._send(404, b"")

    def _send(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Archive)
    httpd.log, httpd.lock, httpd.in_flight, httpd.max_in_flight = [], threading.Lock(), 0, 0
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def archive(server, **kwargs) -> Archive:
    options = {"delay": 0.2, "allowed": parse_networks("127.0.0.1"), "max_bytes": 10_000, "timeout": 5, **kwargs}
    return Archive(f"http://127.0.0.1:{server.server_address[1]}/cdx/search/cdx", **options)


def test_one_request_at_a_time_with_the_delay_between_them(server):
    client = archive(server)
    for path in ("/a", "/b"):
        found = client.captures(f"http://example.com{path}")
        assert client.fetch(found[0]).body.startswith(b"<title>http://example.com" + path.encode())
    times = [t for t, _ in server.log]
    assert len(times) == 4 and server.max_in_flight == 1
    assert all(b - a >= 0.19 for a, b in zip(times, times[1:]))  # WAYBACK_DELAY apart (minus clock granularity)
    assert "limit=-10" in server.log[0][1] and "filter=statuscode%3A200" in server.log[0][1]


def test_an_empty_answer_is_asked_again_newest_first_the_pywb_way(server):
    client = archive(server, delay=0)
    assert client.captures("http://example.com/nothing") == []
    assert ["limit=-10" in p for _, p in server.log] == [True, False]
    assert "sort=reverse" in server.log[1][1] and "limit=10" in server.log[1][1]


def test_retry_after_is_waited_out_once(server):
    waited = []
    client = archive(server, delay=0, sleep=lambda s: (waited.append(s), time.sleep(s)))
    assert client.captures("http://example.com/busy")[0].timestamp == "20200101000000"
    assert 1.0 in waited and len(server.log) == 2


def test_answers_are_capped_redirects_followed_and_guarded(server):
    client = archive(server, delay=0, max_bytes=1000)
    huge = client.fetch(Capture("k", "20200101000000", "http://example.com/huge", "text/html", "200", "D", "1"))
    assert len(huge.body) == 1000 and huge.truncated
    moved = client.fetch(Capture("k", "20200101000000", "http://example.com/redirected", "text/html", "200", "D", "1"))
    assert moved.url.endswith("/http://example.com/final")
    with pytest.raises(ArchiveError, match="127.0.0.9"):  # a redirect to an address not allowed is refused
        client.fetch(Capture("k", "20200101000000", "http://example.com/inside", "text/html", "200", "D", "1"))


def test_an_unreachable_or_failing_archive_is_given_up(server):
    client = archive(server, delay=0, max_failures=2)
    for _ in range(2):
        with pytest.raises(ArchiveError):
            client.captures("http://example.com/broken-cdx")
    with pytest.raises(ArchiveUnavailable):
        client.captures("http://example.com/a")
    assert len(server.log) == 2
    refused = Archive(f"http://127.0.0.1:{server.server_address[1]}/cdx/search/cdx", delay=0)  # loopback not allowed
    with pytest.raises(ArchiveError, match="loopback"):
        refused.captures("http://example.com/a")
    assert len(server.log) == 2 and refused.requests == 0
