"""A check asks GET first and reads only what the verdict needs: the headers of a non-HTML answer, the first
256 KiB of an HTML one (Range, or stopped there when the server ignores it), and asks again without Range when the
server refuses it (416)."""

from __future__ import annotations

import time

import pytest

from tests.crawling import run_crawl
from tests.hostileweb import HostileWeb

CHUNK = 64 * 1024


class Stream:
    """A body streamed in 64 KiB chunks, counting how many the server had to produce before the client hung up."""

    def __init__(self, head: bytes, size: int):
        self.head, self.size, self.sent = head, size, 0

    def __call__(self):
        yield self.head
        for _ in range(self.size // CHUNK):
            self.sent += 1
            yield b" " * CHUNK


def no_range(headers):
    if headers.get("Range"):
        return 416, {"Content-Range": "bytes */0"}, b""
    return 200, {}, b"<html><head><title>Annual report</title></head><body><p>Text.</p></body></html>"


@pytest.fixture(scope="module")
def resources():
    pdf = Stream(b"%PDF-1.7\n", 50 * 1024 * 1024)
    page = Stream(b"<html><head><title>Our complete guide</title></head><body><p>", 20 * 1024 * 1024)
    gone = Stream(b"<html><head><title>Page not found</title></head><body><p>", 20 * 1024 * 1024)
    routes = {
        "files.org": {"/report.pdf": (200, {"Content-Type": "application/pdf"}, pdf)},
        "big-pages.com": {"/guide.html": (200, {}, page), "/old.html": (200, {}, gone)},
        "no-ranges.net": {"/report.html": no_range},
    }
    links = ["http://files.org:{port}/report.pdf", "http://big-pages.com:{port}/guide.html",
             "http://big-pages.com:{port}/old.html", "http://no-ranges.net:{port}/report.html"]
    with HostileWeb(routes) as web:
        web.routes["niche-blog.com"] = {"/": (200, {}, ("<html><body>" + "".join(
            f'<p><a href="{link.format(port=web.port)}">r{i}</a></p>' for i, link in enumerate(links))
            + "</body></html>").encode())}
        yield web, pdf, page


def test_get_first_reads_only_what_the_verdict_needs(resources, tmp_path):
    web, pdf, page = resources
    result = run_crawl("prospects", tmp_path, web, {"seeds": web.url("niche-blog.com"), "max_depth": "0"},
                       {"CRAWL_ID": "get", "PARSE_WORKERS": "0"})
    assert result.returncode == 0, result.log[-3000:]
    rows = {r["url"].split("/", 3)[3]: r for r in result.table("checks")}
    assert {k: (r["verdict"], r["reason"], r["method"]) for k, r in rows.items()} == {
        "report.pdf": ("ok", "ok", "GET"),
        "guide.html": ("ok", "ok", "GET"),
        "old.html": ("broken", "soft_404", "GET"),  # judged on the start of a 20 MB page
        "report.html": ("ok", "ok", "GET"),  # 416 to our Range: asked again without it
    }
    assert rows["report.pdf"]["attempts"] == 1 and rows["guide.html"]["attempts"] == 1
    assert rows["report.html"]["attempts"] == 2
    # One request each, and none read to its end: the PDF was dropped at its headers, the pages after 256 KiB,
    # where a cap on the size (CHECK_MAXSIZE, 4 MiB) would have cancelled them as errors. Loopback socket buffers
    # hold a few MiB the server writes before it sees the client go, hence the loose bound.
    assert web.hits("files.org") == 1 and web.hits("big-pages.com", "/guide.html") == 1
    assert pdf.sent * CHUNK < 16 * 1024 * 1024 and page.sent * CHUNK < 16 * 1024 * 1024, (pdf.sent, page.sent)


def slow(body: bytes, seconds: float):
    def stream():
        time.sleep(seconds)
        yield body
    return stream


def test_a_page_that_another_site_links_to_is_crawled_and_checked(tmp_path):
    """Site A links to a post of site B, which B's home also links to: the post is checked (A's outbound link) and
    crawled (B's page), whichever request comes first. Keyed by method and URL alone, a check (a GET) made the page
    request a duplicate."""
    routes = {
        "site-a.com": {"/": (200, {}, b'<html><body><a href="http://site-b.com:{port}/post.html">b</a></body></html>')},
        "site-b.com": {"/": (200, {}, slow(b'<html><body><a href="/post.html">post</a></body></html>', 1.0)),
                       "/post.html": (200, {}, b"<html><head><title>Post</title></head><body><p>x</p></body></html>")},
    }
    with HostileWeb(routes) as web:
        a_home = routes["site-a.com"]["/"]
        routes["site-a.com"]["/"] = (a_home[0], a_home[1], a_home[2].replace(b"{port}", str(web.port).encode()))
        result = run_crawl("prospects", tmp_path, web, {"seeds": f"{web.url('site-a.com')},{web.url('site-b.com')}"},
                           {"CRAWL_ID": "both", "PARSE_WORKERS": "0"})
        assert result.returncode == 0, result.log[-3000:]
        post = web.url("site-b.com", "/post.html")
        assert post in {r["url"] for r in result.table("pages")}
        assert post in {r["url"] for r in result.table("checks")}
        assert web.hits("site-b.com", "/post.html") == 2  # once as a check, once as a page
