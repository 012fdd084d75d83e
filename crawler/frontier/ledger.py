"""Which leased request is being processed, whether it went well, and when its rows became durable.

A lease may end only once the rows its request produced are in a committed part file (issue: at-least-once
processing, exactly-once rows). Scrapy has no "this request is fully processed" signal, so the ledger wraps the
one place where it is true: ``Scraper._scrape(result, request)`` returns after the callback or errback ran and
every item it yielded went through every item pipeline (Scrapy 2.19: ``scrapy/core/scraper.py``; the wrapper
checks that the method exists, and pyproject pins the Scrapy versions it was tested on).

While a leased request is processed, :data:`current` names its lease: the Parquet pipeline uses it to hold that
request's rows apart until the request is finished (so a commit never writes half of a request's rows), and a
spider error or an item error raised meanwhile marks the lease as failed (its rows are discarded and the request
goes back to the frontier instead of being acknowledged with rows missing).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Protocol

from scrapy import signals

logger = logging.getLogger(__name__)

current: ContextVar[str | None] = ContextVar("current_lease", default=None)


class RowSink(Protocol):
    def lease_finished(self, lease: str, ok: bool) -> None: ...

    def commit_soon(self) -> None: ...

    async def commit(self) -> None: ...

    def roll_forward(self, files: list[tuple[str, str]]) -> bool: ...


class Committer(Protocol):
    """The frontier's side of a commit (the cluster scheduler): ``scripts.py`` describes the protocol."""

    async def seal(self, name: str, files: list[tuple[str, str]], leases: list[str]) -> None: ...

    async def published(self, name: str) -> None: ...

    async def recovery_files(self) -> set[str]: ...


class Ledger:
    def __init__(self, crawler):
        self.crawler = crawler
        self.failed: set[str] = set()
        self.sink: RowSink | None = None  # the Parquet pipeline, when enabled
        self.on_finished: Callable[[str, bool], None] | None = None  # the scheduler
        self.committer: Committer | None = None  # the scheduler, in cluster mode
        crawler.signals.connect(self._failed, signal=signals.spider_error)
        crawler.signals.connect(self._failed, signal=signals.item_error)

    @classmethod
    def of(cls, crawler) -> Ledger:
        ledger = getattr(crawler, "_lease_ledger", None)
        if ledger is None:
            ledger = crawler._lease_ledger = cls(crawler)
        return ledger

    def install(self) -> None:
        """Wrap the engine's scraper (call once the engine exists)."""
        scraper = self.crawler.engine.scraper
        original = getattr(type(scraper), "_scrape", None)
        if original is None:
            raise RuntimeError("this Scrapy version has no Scraper._scrape: the cluster frontier supports Scrapy 2.19")
        if getattr(scraper, "_lease_wrapped", False):
            return

        async def scrape(result, request):
            lease = request.meta.get("lease")
            if lease is None:
                return await original(scraper, result, request)
            token = current.set(lease)
            try:
                await original(scraper, result, request)
            except Exception:
                self.failed.add(lease)
                raise
            finally:
                current.reset(token)
                self.finish(lease)

        scraper._scrape = scrape
        scraper._lease_wrapped = True

    def _failed(self, *args, **kwargs) -> None:
        self.abandon()

    def abandon(self) -> None:
        """The request being processed produced no (or not all of its) rows: give its lease back, not an ack."""
        lease = current.get()
        if lease is not None:
            self.failed.add(lease)

    def finish(self, lease: str) -> None:
        ok = lease not in self.failed
        self.failed.discard(lease)
        if self.sink is not None:
            self.sink.lease_finished(lease, ok)
        if self.on_finished is not None:
            self.on_finished(lease, ok)

    # --- the two phases of a commit (no-ops on one machine, where nothing is leased)
    async def seal(self, name: str, files: list[tuple[str, str]], leases: list[str]) -> None:
        """The commit's files are written under temporary names: end its leases and record it, in one step."""
        if self.committer is not None and (files or leases):
            await self.committer.seal(name, files, leases)

    async def published(self, name: str) -> None:
        """The commit's files carry their final names."""
        if self.committer is not None:
            await self.committer.published(name)

    async def recovery_files(self) -> set[str]:
        """Temporary files that sealed commits still need (they must survive a restart's clean-up)."""
        return await self.committer.recovery_files() if self.committer is not None else set()
