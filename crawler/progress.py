"""Progress of a long crawl in the log: pages/s, queue size, checks done and broken found, at intervals.

Replaces Scrapy's LogStats (``PROGRESS_INTERVAL`` seconds, default 30) with the figures a link crawl is judged by.
With ``STATS_FILE`` set, the final stats are also written there as JSON, for the monitoring of scheduled crawls.
"""

from __future__ import annotations

import json
import logging
import sys
import time

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

logger = logging.getLogger(__name__)


class CrawlProgress:
    def __init__(self, crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.task = None
        self.last = (time.monotonic(), 0)

    @classmethod
    def from_crawler(cls, crawler):
        interval = crawler.settings.getfloat("PROGRESS_INTERVAL")
        if not interval:
            raise NotConfigured
        ext = cls(crawler, interval)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self) -> None:
        self.started = time.monotonic()
        self.task = create_looping_call(self.log)
        self.task.start(self.interval, now=False)

    def queue_size(self) -> int | None:
        slot = getattr(self.crawler.engine, "_slot", None)
        scheduler = getattr(slot, "scheduler", None)
        try:
            return len(scheduler) if scheduler is not None else None
        except TypeError:
            return None

    def log(self) -> None:
        stats = self.crawler.stats
        now = time.monotonic()
        pages = stats.get_value("pages/crawled", 0)
        then, before = self.last
        self.last = (now, pages)
        rate = (pages - before) / max(now - then, 1e-9)
        line = (f"progress: {pages} pages ({rate:.1f} pages/s), queue {self.queue_size()}, "
                f"{stats.get_value('checks/done', 0)} checks done, {stats.get_value('checks/broken', 0)} broken, "
                f"{stats.get_value('links/found', 0)} links")
        if logger.isEnabledFor(logging.INFO):
            logger.info(line)
        elif sys.stderr.isatty():  # a quiet log (the demo's WARNING) still shows a person watching that it moves
            print(line, file=sys.stderr, flush=True)

    def closed(self) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        elapsed = time.monotonic() - getattr(self, "started", time.monotonic())
        pages = self.crawler.stats.get_value("pages/crawled", 0)
        self.crawler.stats.set_value("pages/per_second", round(pages / elapsed, 2) if elapsed else 0.0)
        self.log()
        path = self.crawler.settings.get("STATS_FILE")
        if path:
            with open(path, "w", encoding="utf-8") as f:
                json.dump(self.crawler.stats.get_stats(), f, default=str, indent=1, sort_keys=True)


class TerminalBar:
    """A one-line progress bar on stderr for work over many files (WARC ingest), shown only to a person watching a
    terminal; in a log file or under CI it prints nothing."""

    def __init__(self, total: int, label: str, stream=None):
        import sys

        self.total = max(total, 1)
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.started = time.monotonic()
        self.last = 0.0

    def update(self, done: int, note: str = "", force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self.last < 0.2):
            return
        self.last = now
        width = 30
        filled = int(width * min(done, self.total) / self.total)
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} {note}   ")
        self.stream.flush()

    def close(self, done: int, note: str = "") -> None:
        self.update(done, note, force=True)
        if self.enabled:
            self.stream.write("\n")
