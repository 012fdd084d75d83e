"""robots.txt ``Crawl-delay``, honoured on one machine and across a cluster.

Scrapy reads robots.txt but ignores its ``Crawl-delay`` (docs/pitfalls.md §2). When a host's robots.txt has been read
(Scrapy's ``robots_parsed`` signal, or our middleware's ``robots_unavailable`` when it could not be fetched), this
extension gives the host's downloader slot that delay (capped by ``CRAWL_DELAY_MAX``; ``DOWNLOAD_DELAY_JITTER``
is 0 so the delay is a true minimum gap), remembers it for slots Scrapy re-creates later, and in cluster mode
tells the frontier, which then spaces the host's requests by that delay across all workers and, until some worker
has read the host's robots.txt, hands out one request of the host at a time (``crawler/frontier/scripts.py``).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.utils.httpobj import urlparse_cached

logger = logging.getLogger(__name__)

robots_unavailable = object()  # signal(netloc): the robots.txt of that host could not be read


class CrawlDelay:
    def __init__(self, crawler):
        self.crawler = crawler
        self.cap = crawler.settings.getfloat("CRAWL_DELAY_MAX")
        self.user_agent = crawler.settings.get("USER_AGENT")
        crawler.signals.connect(self.parsed, signal=signals.robots_parsed)
        crawler.signals.connect(self.unavailable, signal=robots_unavailable)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def parsed(self, robotparser, request) -> None:
        try:
            delay = robotparser.crawl_delay(self.user_agent) or 0.0
        except Exception:  # a parser without Crawl-delay support
            delay = 0.0
        self.apply(urlparse_cached(request).netloc, min(float(delay), self.cap))

    def unavailable(self, netloc) -> None:
        self.apply(netloc, 0.0)

    def apply(self, netloc: str, delay: float) -> None:
        downloader = self.crawler.engine.downloader
        if delay > 0:
            host = urlsplit(f"//{netloc}").hostname or ""
            logger.info("robots.txt of %s asks for %.1f s between requests", host, delay)
            self.crawler.stats.inc_value("robotstxt/crawl_delay")
            known = getattr(downloader, "crawl_delays", None)
            if known is not None:
                known[host] = delay
            slot = downloader.slots.get(host)
            if slot is not None:
                slot.delay = max(slot.delay, delay)
        scheduler = getattr(getattr(self.crawler.engine, "_slot", None), "scheduler", None)
        if hasattr(scheduler, "robots_read"):
            scheduler.robots_read(netloc.lower(), delay)
