"""What every linkprospector spider shares: where its input comes from, and when a cluster worker may stop.

On one machine the input is read from the ``-a`` argument (a file or a comma-separated list) and each bad line is
logged with its line number and counted in the stats (``input/malformed``); the rest still run. In cluster mode
(``REDIS_URL``), ``scrapy seed <spider> PATH`` has already parsed the input and pushed it to Redis: workers pop
entries, and on ``spider_idle`` look for more, then wait up to ``MAX_IDLE_TIME_BEFORE_CLOSE`` seconds for other
workers to feed the shared queue before they exit.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Iterable

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from crawler.frontier.cluster import IdleTimer, SharedInput
from crawler.runinfo import worker_id

logger = logging.getLogger(__name__)


class FrontierSpider(scrapy.Spider):
    input_arg = "seeds"  # the -a argument that names the input

    # --- to implement
    @classmethod
    def read_input(cls, spec: str) -> tuple[list[dict], list[Any]]:
        """Parse the input named by ``spec``: (entries as JSON-able dicts, errors whose str names the line)."""
        raise NotImplementedError

    def requests_for(self, entry: dict) -> Iterable[scrapy.Request]:
        raise NotImplementedError

    # --- shared machinery
    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        redis_url = crawler.settings.get("REDIS_URL")
        spider.shared = SharedInput(redis_url, spider.name) if redis_url else None
        spider.idle = IdleTimer(crawler.settings.getfloat("MAX_IDLE_TIME_BEFORE_CLOSE"))
        spider._last_activity = None
        spider._last_beat = 0.0
        spider.worker = worker_id(crawler.settings)
        crawler.signals.connect(spider._on_idle, signal=signals.spider_idle)
        # Read the local input now: a missing or unreadable input fails the crawl at once (exit code 1).
        spider.entries = spider.local_entries() if spider.shared is None else []
        if spider.shared is not None:
            crawler.signals.connect(spider._on_response, signal=signals.response_received)
        return spider

    def _on_response(self) -> None:
        now = time.monotonic()
        if now - self._last_beat > 2:  # one Redis write every 2 s at most, not one per response
            self._last_beat = now
            self.shared.beat(self.worker)

    def local_entries(self) -> list[dict]:
        spec = getattr(self, self.input_arg, None)
        if not spec:
            raise ValueError(f"give the input with -a {self.input_arg}=PATH (or set REDIS_URL and run `scrapy seed {self.name} PATH`)")
        entries, self.input_errors = self.read_input(spec)
        for error in self.input_errors:
            logger.warning("malformed input: %s", error)
        return entries

    async def start(self):
        if self.shared is None:
            self.crawler.stats.set_value("input/entries", len(self.entries))
            self.crawler.stats.set_value("input/malformed", len(self.input_errors))
            for entry in self.entries:
                for request in self.requests_for(entry):
                    yield request
            return
        while batch := self.shared.pop(100):
            self.crawler.stats.inc_value("input/entries", len(batch))
            for entry in batch:
                for request in self.requests_for(entry):
                    yield request

    def _on_idle(self) -> None:
        if self.shared is None:
            return
        batch = self.shared.pop(100)
        if batch:
            self.crawler.stats.inc_value("input/entries", len(batch))
            for entry in batch:
                for request in self.requests_for(entry):
                    self.crawler.engine.crawl(request)
            raise DontCloseSpider
        activity = self.crawler.stats.get_value("downloader/response_count", 0)
        if activity != self._last_activity or self.shared.others_busy(self.worker):
            self._last_activity = activity
            self.idle.reset()
        if self.idle.keep_waiting():
            raise DontCloseSpider
