"""Spider ``prospects``: crawl niche sites, list every link, and check every outbound target once.

``scrapy crawl prospects -a seeds=PATH`` (one URL or bare domain per line) or ``-a seeds=url1,url2``;
``-a max_depth=N`` (default 5) and ``-a max_pages_per_site=N`` (default 5000; in cluster mode the frontier counts
a site's pages as it admits them, so no callback talks to Redis).

Each seed's site is its registered domain, subdomains included; the crawl is breadth-first (``priority = -depth``),
obeys robots.txt, and parses only HTML. Every page becomes a ``pages`` row and its links ``links`` rows; every
unique external target becomes one check (``crawler/checks/``) and one ``checks`` row. Deduplication of pages and
checks is the scheduler's dupefilter, which in cluster mode is shared in Redis: exactly one worker fetches a page or
checks a target.

Each crawl builds on the earlier crawls of the same lake (``crawler/recrawl.py``, loaded at spider open): a target
checked ok within ``CHECK_MAX_AGE`` is carried instead of asked, a broken one continues its streak, and a page
archived with validators is asked conditionally (a 304 comes back as its earlier capture).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import IGNORED_EXTENSIONS

from crawler.checks.checker import CheckAborted, CheckPolicy, LinkChecker
from crawler.checks.verdict import is_decompression_bomb
from crawler.dns import BlockedRequest
from crawler.extract.placement.maincontent import main_content_mode
from crawler.extract.record import NO_CAPTURE, Fetched, build_page, header_dict
from crawler.frontier.codec import FrontierRequest
from crawler.items import CheckItem, PageItem
from crawler.parsepool import ParsePool, Placement
from crawler.recent import RecentUrls
from crawler.recrawl import (
    EarlierChecks,
    EarlierPages,
    Reused,
    conditional_headers,
    load_earlier_checks,
    load_earlier_pages,
)
from crawler.seeds import read_seeds
from crawler.spiders.base import FrontierSpider, InputError
from crawler.urls import host_of, site_of
from schemas.records import CheckRow, PageRow

logger = logging.getLogger(__name__)

_SKIP_SUFFIXES = tuple(f".{ext}" for ext in IGNORED_EXTENSIONS)  # images, archives, media, office files...
PAGE_STATUSES = list(range(300, 600))  # redirects and error pages reach the callback: each is a row


class ProspectsSpider(FrontierSpider):
    name = "prospects"
    input_arg = "seeds"
    output_tables = ("pages", "links", "checks", "contacts")
    request_kinds = {"page": "_page_from", "check": "_check_from"}

    arguments = {"seeds": "a seed file (one URL or domain per line) or a comma-separated list of URLs",
                 "max_depth": "links followed from a seed, 0 = the seed pages only (default 5)",
                 "max_pages_per_site": "pages fetched per site at most (default 5000)"}

    @classmethod
    def check_arguments(cls, args: dict, cluster: bool) -> list[dict]:
        for name, minimum in (("max_depth", 0), ("max_pages_per_site", 1)):
            value = args.get(name)
            if value is not None and not (str(value).strip().isdigit() and int(value) >= minimum):
                raise InputError(f"-a {name}={value!r}: expected a whole number >= {minimum}")
        return super().check_arguments(args, cluster)

    def __init__(self, seeds: str | None = None, max_depth: int | str = 5, max_pages_per_site: int | str = 5000, **kwargs):
        super().__init__(**kwargs)
        self.seeds = seeds
        self.max_depth = int(max_depth)
        self.max_pages_per_site = int(max_pages_per_site)
        self.pages_per_site: dict[str, int] = {}
        self.requested = RecentUrls(100_000)
        self.url_length_limit = 0  # Scrapy's URLLENGTH_LIMIT, read in from_crawler
        self.earlier_checks = EarlierChecks()  # what earlier crawls of the lake know (crawler/recrawl.py), at open
        self.earlier_pages = EarlierPages()  # the latest earlier crawl's page validators, for conditional GET
        self.lake = None

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.url_length_limit = crawler.settings.getint("URLLENGTH_LIMIT")
        spider.max_links = crawler.settings.getint("MAX_LINKS_PER_PAGE")
        spider.parse_pool, spider.placement = None, None
        workers = crawler.settings.getint("PARSE_WORKERS")
        if workers > 0:  # pages become rows in other processes (crawler/parsepool.py), placed there too
            spider.parse_pool = ParsePool(workers, crawler.settings.getfloat("PARSE_TIMEOUT"))
            if crawler.settings.getbool("PLACEMENT_ENABLED"):
                rules = crawler.settings.get("LINK_REGION_RULES")
                spider.placement = Placement(rules if isinstance(rules, str) else json.dumps(rules or None),
                                             main_content_mode(crawler.settings.get("PLACEMENT_MAIN_CONTENT")),
                                             crawler.settings.getbool("PLACEMENT_MODEL"))
            crawler.signals.connect(spider.parse_pool.start, signal=signals.engine_started)
            crawler.signals.connect(spider.parse_pool.close, signal=signals.spider_closed)
        spider.checker = LinkChecker(lambda request: crawler.engine.download_async(request),
                                     CheckPolicy.from_settings(crawler.settings),
                                     judge=spider.parse_pool.judge_body if spider.parse_pool else None,
                                     count=lambda key: crawler.stats.inc_value(key))
        crawler.signals.connect(spider.load_earlier, signal=signals.spider_opened)
        crawler.signals.connect(spider.checker.headers_received, signal=signals.headers_received)
        crawler.signals.connect(spider.checker.bytes_received, signal=signals.bytes_received)
        crawler.signals.connect(spider.refuse_remembered_hosts, signal=signals.engine_started)
        return spider

    def refuse_remembered_hosts(self) -> None:
        """Checks of hosts learned dead are refused as they leave the downloader's queue (crawler/downloader.py)."""
        downloader = self.crawler.engine.downloader
        if hasattr(downloader, "gates"):
            downloader.gates.append(self.checker.gate)
        else:
            self.logger.warning("DOWNLOADER %s has no gates: hosts that never answer are waited out target by target",
                                type(downloader).__name__)

    async def load_earlier(self) -> None:
        """Read what earlier crawls of this lake know about the targets, once, before the first request (the
        scheduler has decided the crawl id by now). In a thread: a big lake takes seconds, and in cluster mode the
        scheduler's heartbeat runs meanwhile. A lake that cannot be read costs requests, not rows: every target is
        asked, and streaks start again at 1 (logged as an error)."""
        from crawler.reports.lake import as_lake
        from crawler.runinfo import crawl_id

        s, stats = self.crawler.settings, self.crawler.stats
        started = time.monotonic()
        try:
            self.lake = lake = as_lake(s.get("OUTPUT_URI"), s)
            crawl = crawl_id(self.crawler)
            self.earlier_checks = await asyncio.to_thread(load_earlier_checks, lake, crawl, s.getfloat("CHECK_MAX_AGE"))
            self.earlier_pages = await asyncio.to_thread(load_earlier_pages, lake, crawl)
        except Exception as exc:
            logger.error("could not read the earlier crawls of %s (every target is asked, broken streaks restart): "
                         "%s: %s", s.get("OUTPUT_URI"), type(exc).__name__, exc)
            stats.inc_value("recrawl/load_failed")
            return
        stats.set_value("recrawl/earlier_targets", len(self.earlier_checks))
        stats.set_value("recrawl/earlier_pages", len(self.earlier_pages))
        stats.set_value("recrawl/earlier_bytes", self.earlier_checks.nbytes + self.earlier_pages.nbytes)
        stats.set_value("recrawl/load_seconds", round(time.monotonic() - started, 3))

    # --- input
    @classmethod
    def read_input(cls, spec: str):
        seeds, errors = read_seeds(spec)
        return [{"url": url} for url in seeds], errors

    @classmethod
    def frontier_seeds(cls, entry: dict) -> list[FrontierRequest]:
        return [FrontierRequest("page", entry["url"], 0, page_method(entry["url"]))]

    @classmethod
    def frontier_site(cls, request: FrontierRequest) -> str:
        return site_of(request.url) if request.kind == "page" else ""

    def _page_from(self, fr: FrontierRequest) -> scrapy.Request:
        return self.page_request(fr.url, site_of(fr.url), fr.depth, conditional=not fr.data.get("full"))

    def _check_from(self, fr: FrontierRequest) -> scrapy.Request:
        return self.check_request(fr.url, fr.depth)

    def page_request(self, url: str, site: str, depth: int, conditional: bool = True) -> scrapy.Request:
        """A page of the site. URLs that name a non-HTML file (image, archive, media...) are asked with HEAD: the
        row records that they exist and what they are, without downloading them. A page the latest earlier crawl
        archived with validators is asked conditionally (``If-None-Match``/``If-Modified-Since``): a 304 costs
        headers, not a body, and comes back as the earlier capture (``crawler.recrawl.ConditionalPageMiddleware``).
        ``conditional=False`` asks it in full."""
        meta = {"kind": "page", "site": site, "depth": depth, "handle_httpstatus_list": PAGE_STATUSES,
                "dont_redirect": True}
        headers = {}
        earlier = self.earlier_pages.get(url) if conditional else None
        if earlier is not None:
            headers = conditional_headers(earlier)
            meta["earlier_page"] = earlier
        if not conditional:
            meta["frontier_data"] = {"full": 1}  # in cluster mode too
        return scrapy.Request(url, method=page_method(url), headers=headers, callback=self.parse_page,
                              errback=self.page_failed, priority=-depth, meta=meta, dont_filter=not conditional)

    # --- pages
    def count_page(self, site: str) -> int | None:
        """Pages of ``site`` fetched so far, this one included; None in cluster mode, where the frontier admits at
        most ``max_pages_per_site`` pages of a site in the first place."""
        if self.cluster:
            return None
        self.pages_per_site[site] = self.pages_per_site.get(site, 0) + 1
        return self.pages_per_site[site]

    async def parse_page(self, response: Response):
        meta = response.meta
        site, depth = meta["site"], meta["depth"]
        n = self.count_page(site)
        if n is not None and n > self.max_pages_per_site:
            self.crawler.stats.inc_value("pages/over_site_limit")
            return
        text = encoding = None
        if isinstance(response, TextResponse) and response.request.method != "HEAD":
            text, encoding = response.text, response.encoding
        # A 304 came back as the earlier capture (crawler.recrawl.ConditionalPageMiddleware): the row names it.
        unchanged = meta.get("unchanged_capture")
        fetched = Fetched(
            url=response.url,
            status=response.status,
            headers=header_dict(response.headers),
            body=response.body,
            fetched_at=datetime.now(UTC),
            site=site,
            depth=depth,
            method=response.request.method,
            text=text if self.parse_pool is None else None,  # the pool decodes the bytes itself
            encoding=encoding,
            extra={**(unchanged or meta.get("warc_location") or {}), "unchanged": bool(unchanged)},
        )
        self.crawler.stats.inc_value("pages/crawled")
        if self.parse_pool is None:
            result = build_page(fetched, max_links=self.max_links)
        else:
            result, error = await self.parse_pool.page_rows(fetched, self.max_links, self.placement)
            if error:
                logger.error("placement failed on %s: %s", response.url, error)
                self.crawler.stats.inc_value("placement/failed")
        for scheme, count in result.skipped.items():
            self.crawler.stats.inc_value(f"links/skipped/{scheme}", count)
        for note in result.notes:
            self.crawler.stats.inc_value(f"pages/{note}")
            logger.info("page %s: %s (salvaged)", response.url, note)
        if result.unparseable:
            self.crawler.stats.inc_value(f"pages/{result.item.page.parse_status}")  # unparseable, parse_timeout
            logger.info("unparseable page %s: %s", response.url, result.unparseable)
        yield result.item
        if result.redirect_to and site_of(result.redirect_to) == site:
            yield self.page_request(result.redirect_to, site, depth)
        links = result.item.links
        self.crawler.stats.inc_value("links/found", len(links))

        follow = depth < self.max_depth and (n is None or n < self.max_pages_per_site)
        seen: set[str] = set()
        for row in links:
            target = row.target_url
            if target in seen:
                continue
            seen.add(target)
            if not (row.external or (follow and row.target_site == site)):
                continue
            # A page request and a check of the same URL are different requests (GET vs HEAD): keyed apart.
            if self.requested.seen(("check " if row.external else "page ") + target):
                self.crawler.stats.inc_value("links/requested_before")  # the dupefilter would have dropped it
                continue
            try:
                for request in self.follow_link(target, row.external, site, depth):
                    yield request
            except ValueError as exc:  # a URL Scrapy refuses: this link is lost, not the rest of the page
                self.crawler.stats.inc_value("links/unrequestable")
                logger.info("link on %s not requested: %s: %s", response.url, target[:200], exc)

    def follow_link(self, target: str, external: bool, site: str, depth: int):
        """The request for one link: a check of an external target, or the next page of the site.

        A URL over ``URLLENGTH_LIMIT`` would be dropped silently by Scrapy's UrlLengthMiddleware: an external one
        gets its ``checks`` row here instead (``unknown``, ``url_too_long``), an internal one is counted."""
        if self.url_length_limit and len(target) > self.url_length_limit:
            if not external:
                self.crawler.stats.inc_value("pages/url_too_long")
                return
            yield self.check_item(self.checker.unchecked_row(
                target, "url_too_long", f"{len(target)} characters, over URLLENGTH_LIMIT ({self.url_length_limit})"))
            return
        if external:
            yield self.check_request(target, depth + 1)
        else:
            yield self.page_request(target, site, depth + 1)

    def page_failed(self, failure):
        request = failure.request
        status, error = "fetch_error", f"{failure.type.__name__}: {failure.value}"
        if failure.check(BlockedRequest):  # the address guard refused the page's address (crawler/addressguard.py)
            self.crawler.stats.inc_value("pages/blocked_address")
            error = f"blocked_address: {failure.value.detail}"
        elif is_decompression_bomb(failure.value):
            status, error = "too_large", f"decompression bomb: its body grew past DOWNLOAD_MAXSIZE ({failure.value})"
        elif failure.check(IgnoreRequest):  # robots.txt said no, or an offsite filter
            self.crawler.stats.inc_value("pages/ignored")
            return
        self.crawler.stats.inc_value(f"pages/{status}")
        yield PageItem(
            PageRow(
                url=request.url,
                final_url=request.url,
                site=request.meta["site"],
                url_host_name=host_of(request.url),
                depth=request.meta["depth"],
                http_status=None,
                content_type=None,
                content_charset=None,
                content_length=None,
                fetched_at=datetime.now(UTC),
                title=None,
                h1=None,
                meta_robots=None,
                x_robots_tag=None,
                canonical_url=None,
                parse_status=status,
                fetch_error=error[:500],
                links_count=0,
                redirect_chain=[],
                **NO_CAPTURE,
                etag=None,
                last_modified=None,
            )
        )

    # --- checks
    def check_request(self, url: str, depth: int) -> scrapy.Request:
        """The first request of a check: through the scheduler, whose dupefilter makes it once per crawl."""
        request = self.checker.make_request(
            url, dont_filter=False, callback=self.check_answer, errback=self.check_failed, priority=-depth
        )
        request.meta.update(kind="check", depth=depth)
        return request

    async def check_answer(self, response: Response):
        try:
            row = await self.checker.finish(response.request.url, response.request.method, response)
        except CheckAborted:
            self.give_back(response.request)  # shutting down: the check is done again later, not judged half-way
            return
        yield self.check_item(row)

    async def check_failed(self, failure):
        request = failure.request
        if failure.check(Reused):  # checked ok lately: carried, not asked (crawler/recrawl.py)
            yield self.check_item(failure.value.row, fresh=False)
            return
        try:
            row = await self.checker.finish(request.url, request.method, failure.value)
        except CheckAborted:
            self.give_back(request)
            return
        yield self.check_item(row)

    def check_item(self, row: CheckRow, fresh: bool = True) -> CheckItem:
        """The row of one target: a fresh check continues or starts its broken streak; a carried one is counted."""
        stats = self.crawler.stats
        if fresh:
            row = self.earlier_checks.streak(row)
        else:
            stats.inc_value("checks/reused")
        stats.inc_value("checks/done")
        stats.inc_value(f"checks/{row.verdict}")
        stats.inc_value(f"checks/reason/{row.reason}")
        return CheckItem(row)


def page_method(url: str) -> str:
    """HEAD for URLs that name a non-HTML file (image, archive, media...), GET for pages."""
    return "HEAD" if url.split("?", 1)[0].lower().endswith(_SKIP_SUFFIXES) else "GET"
