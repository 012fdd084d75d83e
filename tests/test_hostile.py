"""Hostile and broken pages on a loopback web: each costs at most its own row, in bounded time and memory."""

from __future__ import annotations

import pytest

from tests.crawling import run_crawl
from tests.hostileweb import HostileWeb


def page(*links: str) -> bytes:
    return ("<html><head><title>t</title></head><body>"
            + "".join(f'<p><a href="{href}">link {i}</a></p>' for i, href in enumerate(links))
            + "</body></html>").encode()


def huge_robots():
    yield b"User-agent: *\nDisallow: /private/\n"
    line = b"# " + b"padding " * 120 + b"\n"
    for _ in range(50 * 1024 * 1024 // len(line)):
        yield line


@pytest.fixture(scope="module")
def hostile():
    routes = {
        "big-robots.com": {"/robots.txt": (200, {"Content-Type": "text/plain"}, huge_robots),
                           "/": (200, {}, page("/private/secret.html", "/public.html")),
                           "/public.html": (200, {}, page()), "/private/secret.html": (200, {}, page())},
        "down-robots.com": {"/robots.txt": (503, {}, b"overloaded"), "/": (200, {}, page("/a.html"))},
        "gone-robots.com": {"/robots.txt": (404, {}, b"no such file"), "/": (200, {}, page("/a.html")),
                            "/a.html": (200, {}, page())},
    }
    with HostileWeb(routes) as web:
        yield web


def test_robots_txt_rfc_9309_first_500_kib_count_unreachable_disallows(hostile, tmp_path):
    seeds = ",".join(hostile.url(h) for h in ("big-robots.com", "down-robots.com", "gone-robots.com"))
    result = run_crawl("prospects", tmp_path, hostile, {"seeds": seeds}, {"CRAWL_ID": "r"})
    assert result.returncode == 0, result.log[-3000:]
    assert hostile.hits("big-robots.com", "/public.html") == 1
    assert hostile.hits("big-robots.com", "/private/secret.html") == 0  # its rule sat in a 50 MB file
    assert hostile.hits("down-robots.com", "/") == 0  # 503 robots.txt: disallowed, not "allow all"
    assert hostile.hits("gone-robots.com", "/a.html") == 1  # 404 robots.txt: no rules
    stats = result.stats
    assert stats.get("robotstxt/truncated") == 1 and stats.get("robotstxt/unreachable") == 1
    assert stats.get("robotstxt/forbidden_unreachable", 0) >= 1
    assert "robots.txt of down-robots.com" in result.log and "unreachable (HTTP 503)" in result.log
