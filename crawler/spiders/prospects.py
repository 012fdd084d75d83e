"""Spider ``prospects``: crawl niche sites, list every link, and check every outbound target once.

``scrapy crawl prospects -a seeds=PATH`` (one URL or bare domain per line) or ``-a seeds=url1,url2``;
``-a max_depth=N`` (default 5) and ``-a max_pages_per_site=N`` (default 5000).

Each seed's site is its registered domain, subdomains included; the crawl is breadth-first (``priority = -depth``),
obeys robots.txt, and parses only HTML. Every page becomes a ``pages`` row and its links ``links`` rows; every
unique external target becomes one check (``crawler/checks/``) and one ``checks`` row. Deduplication of pages and
checks is the scheduler's dupefilter, which in cluster mode is shared in Redis: exactly one worker fetches a page or
checks a target.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import IGNORED_EXTENSIONS

from crawler.checks.checker import CheckPolicy, LinkChecker
from crawler.extract.links import extract_links
from crawler.extract.page import UnparseablePage, decode_html, is_html, mime_type, page_facts, parse_html
from crawler.items import CheckItem, PageItem
from crawler.seeds import read_seeds
from crawler.spiders.base import FrontierSpider
from crawler.urls import host_of, resolve_href, site_of

logger = logging.getLogger(__name__)

_SKIP_SUFFIXES = tuple(f".{ext}" for ext in IGNORED_EXTENSIONS)  # images, archives, media, office files...
PAGE_STATUSES = list(range(300, 600))  # redirects and error pages reach the callback: each is a row


class ProspectsSpider(FrontierSpider):
    name = "prospects"
    input_arg = "seeds"

    def __init__(self, seeds: str | None = None, max_depth: int | str = 5, max_pages_per_site: int | str = 5000, **kwargs):
        super().__init__(**kwargs)
        self.seeds = seeds
        self.max_depth = int(max_depth)
        self.max_pages_per_site = int(max_pages_per_site)
        self.pages_per_site: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.checker = LinkChecker(lambda request: crawler.engine.download_async(request), CheckPolicy.from_settings(crawler.settings))
        return spider

    # --- input
    @classmethod
    def read_input(cls, spec: str):
        seeds, errors = read_seeds(spec)
        return [{"url": url} for url in seeds], errors

    def requests_for(self, entry: dict):
        url = entry["url"]
        yield self.page_request(url, site_of(url), 0)

    def page_request(self, url: str, site: str, depth: int) -> scrapy.Request:
        """A page of the site. URLs that name a non-HTML file (image, archive, media...) are asked with HEAD: the
        row records that they exist and what they are, without downloading them."""
        binary = url.split("?", 1)[0].lower().endswith(_SKIP_SUFFIXES)
        return scrapy.Request(
            url,
            method="HEAD" if binary else "GET",
            callback=self.parse_page,
            errback=self.page_failed,
            priority=-depth,
            meta={"site": site, "depth": depth, "handle_httpstatus_list": PAGE_STATUSES, "dont_redirect": True},
        )

    # --- pages
    def count_page(self, site: str) -> int:
        """Pages of ``site`` fetched so far, this one included (shared by all workers in cluster mode)."""
        if self.shared is not None:
            return self.shared.server.incr(f"{self.name}:site_pages:{site}")
        self.pages_per_site[site] = self.pages_per_site.get(site, 0) + 1
        return self.pages_per_site[site]

    def parse_page(self, response: Response):
        meta = response.meta
        site, depth = meta["site"], meta["depth"]
        n = self.count_page(site)
        if n > self.max_pages_per_site:
            self.crawler.stats.inc_value("pages/over_site_limit")
            return
        redirects = meta.get("redirect_urls") or []  # only from a meta refresh: HTTP redirects come here as 3xx
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        page = {
            "url": redirects[0] if redirects else response.url,
            "final_url": response.url,
            "site": site,
            "url_host_name": host_of(response.url),
            "depth": depth,
            "http_status": response.status,
            "content_type": mime_type(content_type) or None,
            "content_length": len(response.body),
            "fetched_at": datetime.now(timezone.utc),
            "x_robots_tag": response.headers.get(b"X-Robots-Tag", b"").decode("latin-1") or None,
            "redirect_chain": redirects[1:] + [response.url] if redirects else [],
            "links_count": 0,
            **(meta.get("warc_location") or {}),
        }
        self.crawler.stats.inc_value("pages/crawled")
        location = response.headers.get(b"Location")
        if 300 <= response.status < 400 and location:
            # A redirect is a row of its own (SEO audits list them) and its target a page like any other: the
            # rows then do not depend on which of two URLs of the same page the crawl met first.
            target, _ = resolve_href(location.decode("latin-1"), response.url)
            yield PageItem({**page, "final_url": target, "redirect_chain": [target] if target else [], "parse_status": "redirect"})
            if target and site_of(target) == site:
                yield self.page_request(target, site, depth)
            return
        if response.status >= 400:
            yield PageItem({**page, "parse_status": "http_error"})
            return
        if site_of(response.url) != site:
            yield PageItem({**page, "parse_status": "offsite_redirect"})
            return
        if response.request.method == "HEAD" or not is_html(content_type, response.body[:512]):
            yield PageItem({**page, "parse_status": "not_html"})
            return
        if isinstance(response, TextResponse):
            text, encoding = response.text, response.encoding
        else:
            text, encoding = decode_html(response.body, content_type)
        try:
            root = parse_html(text)
        except UnparseablePage as exc:
            self.crawler.stats.inc_value("pages/unparseable")
            logger.info("unparseable page %s: %s", response.url, exc)
            yield PageItem({**page, "content_charset": encoding, "parse_status": "unparseable"})
            return
        facts = page_facts(root, response.url)
        links = extract_links(root, response.url, facts.base_url)
        for scheme, count in links.skipped.items():
            self.crawler.stats.inc_value(f"links/skipped/{scheme}", count)
        page.update(
            content_charset=encoding,
            title=facts.title,
            h1=facts.h1,
            meta_robots=facts.meta_robots,
            canonical_url=facts.canonical_url,
            parse_status="parsed",
            links_count=len(links.rows),
        )
        self.crawler.stats.inc_value("links/found", len(links.rows))
        yield PageItem(page, links.rows, links.elements, root)

        follow = depth < self.max_depth and n < self.max_pages_per_site
        seen: set[str] = set()
        for row in links.rows:
            target = row["target_url"]
            if target in seen:
                continue
            seen.add(target)
            if row["external"]:
                yield self.checker.make_request(
                    target,
                    "HEAD",
                    dont_filter=False,
                    callback=self.check_answer,
                    errback=self.check_failed,
                    priority=-depth - 1,
                )
            elif follow and row["target_site"] == site:
                yield self.page_request(target, site, depth + 1)

    def page_failed(self, failure):
        request = failure.request
        if failure.check(IgnoreRequest):  # robots.txt said no, or an offsite/size filter
            self.crawler.stats.inc_value("pages/ignored")
            return
        self.crawler.stats.inc_value("pages/fetch_error")
        yield PageItem(
            {
                "url": request.url,
                "final_url": request.url,
                "site": request.meta["site"],
                "url_host_name": host_of(request.url),
                "depth": request.meta["depth"],
                "fetched_at": datetime.now(timezone.utc),
                "parse_status": "fetch_error",
                "fetch_error": f"{failure.type.__name__}: {failure.value}"[:500],
                "links_count": 0,
                "redirect_chain": [],
            }
        )

    # --- checks
    async def check_answer(self, response: Response):
        yield self.check_item(await self.checker.finish(response.request.url, response.request.method, response))

    async def check_failed(self, failure):
        request = failure.request
        yield self.check_item(await self.checker.finish(request.url, request.method, failure.value))

    def check_item(self, row: dict) -> CheckItem:
        stats = self.crawler.stats
        stats.inc_value("checks/done")
        stats.inc_value(f"checks/{row['verdict']}")
        stats.inc_value(f"checks/reason/{row['reason']}")
        return CheckItem(row)
