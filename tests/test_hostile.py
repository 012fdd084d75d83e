"""Hostile and broken pages on a loopback web: each costs at most its own row, in bounded time and memory."""

from __future__ import annotations

import gzip

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
        "many-links.com": {"/": (200, {}, ("<html><body><div>" + "".join(
            f'<a href="/p{i}">p{i}</a>' for i in range(200_000)) + "</div></body></html>").encode())},
        "bomb.com": {"/": (200, {"Content-Encoding": "gzip"}, gzip.compress(bytes(100 * 1024 * 1024), 9))},
        "utf16-label.com": {"/": (200, {"Content-Type": "text/html"}, b'<html><head><meta charset="utf-16">'
                                  b'<title>Plain ASCII</title></head><body><a href="/ok.html">ok</a></body></html>')},
        "deep.com": {"/": (200, {}, ("<html><body><a href='/before.html'>b</a>" + "<div>" * 3000
                                     + "<a href='/deep.html'>deep</a>" + "</div>" * 3000
                                     + "<a href='/after.html'>after</a></body></html>").encode())},
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


@pytest.fixture(scope="module")
def hostile_crawl(hostile, tmp_path_factory):
    seeds = ",".join(hostile.url(h) for h in ("many-links.com", "bomb.com", "utf16-label.com", "deep.com"))
    result = run_crawl("prospects", tmp_path_factory.mktemp("hostile"), hostile, {"seeds": seeds, "max_depth": 0},
                       {"CRAWL_ID": "h"})
    assert result.returncode == 0, result.log[-3000:]
    return result


def page_row(crawl, host: str) -> dict:
    (row,) = [p for p in crawl.table("pages") if p["url_host_name"] == host]
    return row


def test_a_page_of_200000_links_keeps_the_first_20000_and_counts_the_rest(hostile_crawl):
    row = page_row(hostile_crawl, "many-links.com")
    assert row["parse_status"] == "parsed" and row["links_count"] == 20_000
    links = [link for link in hostile_crawl.table("links") if link["source_url"] == row["url"]]
    last = max(links, key=lambda link: link["ordinal"])
    assert len(links) == 20_000 and (last["ordinal"], last["xpath"]) == (19_999, "/html/body/div/a[20000]")
    assert hostile_crawl.stats["links/skipped/over_page_limit"] == 180_000


def test_a_decompression_bomb_gets_a_row_saying_so(hostile_crawl):
    row = page_row(hostile_crawl, "bomb.com")
    assert row["parse_status"] == "too_large" and row["fetch_error"].startswith("decompression bomb")
    assert hostile_crawl.stats["pages/too_large"] == 1


def test_a_false_utf16_label_on_an_ascii_page_is_read_as_utf8(hostile_crawl):
    row = page_row(hostile_crawl, "utf16-label.com")
    assert (row["title"], row["content_charset"], row["links_count"]) == ("Plain ASCII", "utf-8", 1)


def test_links_nested_3000_deep_are_kept_and_the_page_counted(hostile_crawl):
    row = page_row(hostile_crawl, "deep.com")
    links = [link["target_url"].rsplit("/", 1)[1] for link in sorted(hostile_crawl.table("links"), key=lambda x: x["ordinal"])
             if link["source_url"] == row["url"]]
    assert links == ["before.html", "deep.html", "after.html"]
    assert hostile_crawl.stats["pages/too_deep"] == 1
