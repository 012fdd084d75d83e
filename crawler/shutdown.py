"""Stopping a crawl without losing it: one signal drains, a second one exits at once.

Kubernetes and systemd stop a process with SIGTERM and kill it after a grace period (30 s by default); a person
presses Ctrl-C, sometimes twice. Scrapy's own handlers finish every request in flight on the first signal (a check
stuck on a host that never answers takes minutes) and, on the second, stop the reactor without closing the
pipelines, so every buffered row was lost. Here, on the first SIGTERM or SIGINT:

1. the worker stops taking work; in cluster mode, requests it had leased but not started go back to the frontier
   at once; link checks in flight make no further attempt (their requests are given back, not judged);
2. the spider closes as usual, which commits every finished request's rows and acknowledges their leases;
3. if requests are still in flight after ``DRAIN_TIMEOUT`` seconds, the rows of finished requests are committed,
   every other lease is given back, and the process exits with code 0 anyway.

A second signal exits at once with code 128 + the signal number: nothing more is committed, nothing is given back
(the frontier takes the leases back after ``LEASE_TIMEOUT``), and a part file being written at that instant is
removed rather than left half-written.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from scrapy import signals

from crawler.frontier.ledger import Ledger

logger = logging.getLogger(__name__)


class GracefulShutdown:
    def __init__(self, crawler):
        self.crawler = crawler
        self.timeout = crawler.settings.getfloat("DRAIN_TIMEOUT")
        self.draining = False
        self.loop = None
        crawler.signals.connect(self.install, signal=signals.engine_started)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def install(self) -> None:
        self.loop = asyncio.get_event_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.on_signal)

    def on_signal(self, signum, frame) -> None:
        name = signal.Signals(signum).name
        if self.draining:
            self.hard_exit(signum, name)
        self.draining = True
        self.loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self.drain(name)))

    def hard_exit(self, signum: int, name: str) -> None:
        logger.warning("second %s: exiting now without committing (leases expire and are redone elsewhere)", name)
        sink = Ledger.of(self.crawler).sink
        for tmp in getattr(sink, "unsealed_files", list)():  # no commit names them: nobody would ever rename them
            sink.lake.delete(tmp)
        logging.shutdown()
        os._exit(128 + signum)

    async def drain(self, name: str) -> None:
        engine = self.crawler.engine
        logger.warning("%s received: draining (up to %.0f s); send it again to exit at once", name, self.timeout)
        self.crawler.stats.set_value("shutdown/signal", name)
        spider = self.crawler.spider
        checker = getattr(spider, "checker", None)
        if checker is not None:
            checker.aborted = True
        scheduler = getattr(getattr(engine, "_slot", None), "scheduler", None)
        if hasattr(scheduler, "drain"):
            scheduler.drain()
        self.loop.call_later(self.timeout, lambda: asyncio.ensure_future(self.force()))
        if engine.spider is not None:
            await engine.close_spider_async(reason="shutdown")

    async def force(self) -> None:
        engine = self.crawler.engine
        in_flight = len(engine.downloader.active)
        logger.warning("drain: %d requests still in flight after %.0f s: committing finished work and giving the "
                       "rest back", in_flight, self.timeout)
        sink = Ledger.of(self.crawler).sink
        if sink is not None:
            try:
                await asyncio.wait_for(sink.commit(), 5)
            except TimeoutError:  # Redis away: what was not sealed is redone elsewhere
                logger.warning("could not commit within 5 s: the uncommitted requests are redone by other workers")
        scheduler = getattr(getattr(engine, "_slot", None), "scheduler", None)
        if hasattr(scheduler, "finish"):  # cluster: give back every lease not acknowledged
            try:
                await asyncio.wait_for(scheduler.finish(), 5)
            except (TimeoutError, Exception) as exc:  # Redis away: the leases expire and are redone
                logger.warning("could not give leases back (%s): they return after LEASE_TIMEOUT", exc or "timeout")
        elif scheduler is not None and hasattr(scheduler, "close"):  # one machine: a JOBDIR keeps its queue
            scheduler.close("shutdown")
        logging.shutdown()
        os._exit(0)
