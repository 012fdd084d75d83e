"""Cluster mode: many workers, one Redis.

:class:`ClusterAddon` switches the scheduler to the leased, polite Redis frontier (``scheduler.py``) when
``REDIS_URL`` is set. :func:`start_crawl` is what ``scrapy seed`` does: forget the previous crawl of the spider,
name the new one, and queue the first requests of every input entry, each validated on its own. Spiders whose
input is files rather than URLs (``warc``) get a list of entries in ``<spider>:input`` that workers pop one at a
time (:class:`SharedFiles`). Key names: ``keys.py``.
"""

from __future__ import annotations

import json

from crawler.frontier.codec import MalformedEntry
from crawler.frontier.store import NO_CAP, Frontier, Push, client
from crawler.runinfo import new_crawl_id, safe_name


class ClusterAddon:
    """Scrapy add-on: cluster settings when ``REDIS_URL`` is set, nothing otherwise."""

    def update_settings(self, settings) -> None:
        if not settings.get("REDIS_URL"):
            return
        settings.set("SCHEDULER", "crawler.frontier.scheduler.LeasedScheduler", priority="addon")


def frontier_for(settings, spider_name: str, worker: str = "seed", stats=None) -> Frontier:
    """The frontier of ``spider_name`` as the settings describe it (the scheduler, ``scrapy seed``, WARC input)."""
    return Frontier(
        client(settings.get("REDIS_URL"), settings.getdict("REDIS_PARAMS")), spider_name, worker,
        capacity=settings.getint("DUPEFILTER_CAPACITY"), error_rate=settings.getfloat("DUPEFILTER_ERROR_RATE"),
        per_host=settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"), delay=settings.getfloat("DOWNLOAD_DELAY"),
        lease_timeout=settings.getfloat("LEASE_TIMEOUT"), stats=stats,
    )


async def start_crawl(settings, spidercls, entries: list[dict], crawl_id: str | None = None,
                      append: bool = False) -> tuple[str, int, list[str]]:
    """Queue the first requests of ``entries``; returns (crawl id, requests queued, one message per refused entry).

    A new crawl (the default) first clears the previous one's queues, leases, dupefilter and counters."""
    frontier = frontier_for(settings, spidercls.name)
    try:
        current = await frontier.crawl_id()
        if append and current:
            name = current
        else:
            name = safe_name(crawl_id or new_crawl_id())
            await frontier.reset(name)
        await frontier.allocate()
        if spidercls.input_is_files:  # an input of files: one entry each, popped by the workers
            await SharedFiles(frontier).push(entries)
            return name, len(entries), []
        robots = settings.getbool("ROBOTSTXT_OBEY") and (spidercls.custom_settings or {}).get("ROBOTSTXT_OBEY") is not False
        refused, batch = [], []
        for n, entry in enumerate(entries, 1):
            try:
                for fr in spidercls.frontier_seeds(entry):
                    site = spidercls.frontier_site(fr)
                    batch.append(Push(fr, filter=fr.kind != "source", site=site, robots=robots))
            except (MalformedEntry, KeyError, TypeError, ValueError) as exc:
                refused.append(f"entry {n}: {exc}")
        queued = 0
        for start in range(0, len(batch), 500):
            codes = await frontier.push(batch[start:start + 500], NO_CAP)
            queued += sum(1 for c in codes if c == 1)
        return name, queued, refused
    finally:
        await frontier.server.aclose()


class SharedFiles:
    """Input entries of a file-reading spider in ``<spider>:input``: each popped by exactly one worker."""

    def __init__(self, frontier: Frontier):
        self.frontier = frontier
        self.key = frontier.keys.input

    async def push(self, entries: list[dict]) -> None:
        for start in range(0, len(entries), 1000):
            batch = [json.dumps(e, separators=(",", ":")) for e in entries[start:start + 1000]]
            if batch:
                await self.frontier.call("input", self.frontier.server.rpush, self.key, *batch)

    async def pop(self) -> dict | None:
        """The next entry, or None when the input is empty. An entry that is not a JSON object is skipped."""
        while True:
            raw = await self.frontier.call("input", self.frontier.server.lpop, self.key)
            if raw is None:
                return None
            try:
                entry = json.loads(raw)
            except ValueError:
                entry = None
            if isinstance(entry, dict):
                return entry
            await self.frontier.count_dropped("malformed_input")
