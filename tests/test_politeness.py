"""Per-host concurrency really holds (docs/pitfalls.md §2: Scrapy 2.14+ with the asyncio reactor and no delay does not
enforce CONCURRENT_REQUESTS_PER_DOMAIN). The test web counts requests in flight per host."""

from __future__ import annotations

from tests.crawling import run_crawl


def slow_crawl(web, tmp_path, extra=None):
    web.reset_counters()
    settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": "2", "CONCURRENT_REQUESTS": "32", "DOWNLOAD_DELAY": "0", **(extra or {})}
    result = run_crawl("prospects", tmp_path, web, {"seeds": web.slow_seed}, settings)
    assert result.returncode == 0, result.log[-2000:]
    return result


def test_per_host_concurrency_limit_holds(web, tmp_path):
    result = slow_crawl(web, tmp_path)
    fetched = {p["url"] for p in result.table("pages")}
    assert fetched == web.slow_expected_pages
    assert web.max_concurrency["slow-pages.com"] == 2


def test_stock_scrapy_downloader_breaks_the_limit(web, tmp_path):
    """The control: without our downloader the same crawl overloads the host, so the test above can fail."""
    slow_crawl(web, tmp_path, {"DOWNLOADER": "scrapy.core.downloader.Downloader"})
    assert web.max_concurrency["slow-pages.com"] > 2
