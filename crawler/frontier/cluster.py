"""Cluster mode: many workers, one Redis.

:class:`ClusterAddon` switches the scheduler to scrapy-redis when ``REDIS_URL`` is set, with our JSON serializer,
a priority queue (requests carry ``priority = -depth``, so the shared crawl stays breadth-first) a Bloom-filter
dupefilter (``bloom.py``), and a persistent queue and dupefilter (without ``SCHEDULER_PERSIST`` the first worker
to finish would flush the queue under the others' feet).

:class:`SharedInput` is the Redis side of a spider's input: ``scrapy seed`` pushes JSON entries to
``<spider>:input`` and starts a new crawl; workers pop them atomically, so each entry is started by one worker.

Keys, per spider: ``<spider>:input`` (list of JSON entries), ``<spider>:requests`` (sorted set, the queue),
``<spider>:dupefilter:<shard>`` and ``:count`` (the Bloom filter of seen requests, ``bloom.py``; or the set
``<spider>:dupefilter`` with scrapy-redis' own dupefilter), ``<spider>:site_pages:<site>`` (pages per site, for
``max_pages_per_site``), ``<spider>:crawl_id``, ``<spider>:busy:<worker>`` (a
heartbeat with a TTL, set while a worker fetches).
"""

from __future__ import annotations

import json
import time

from crawler.frontier.redis import connect
from crawler.runinfo import new_crawl_id, safe_name


class ClusterAddon:
    """Scrapy add-on: cluster settings when ``REDIS_URL`` is set, nothing otherwise."""

    def update_settings(self, settings) -> None:
        if not settings.get("REDIS_URL"):
            return
        for name, value in {
            "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
            "DUPEFILTER_CLASS": "crawler.frontier.bloom.BloomDupeFilter",  # ~2.4 bytes/URL instead of ~85
            "SCHEDULER_SERIALIZER": "crawler.frontier.serializer",
            "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_FLUSH_ON_START": False,
        }.items():
            settings.set(name, value, priority="addon")


class SharedInput:
    """The input entries of one spider in Redis, and the crawl they belong to."""

    def __init__(self, redis_url: str, spider_name: str):
        self.server = connect(redis_url)
        self.name = spider_name
        self.input_key = f"{spider_name}:input"

    def start_crawl(self, entries: list[dict], crawl_id: str | None = None, append: bool = False) -> str:
        """Push entries. A new crawl (the default) clears the previous one's queue, dupefilter and input first."""
        pipe = self.server.pipeline()
        if append:
            current = self.server.get(f"{self.name}:crawl_id")
            crawl_id = current or safe_name(crawl_id or new_crawl_id())
        else:
            crawl_id = safe_name(crawl_id or new_crawl_id())
            stale = [self.input_key, f"{self.name}:requests"]
            for pattern in (f"{self.name}:dupefilter*", f"{self.name}:site_pages:*"):
                stale.extend(self.server.scan_iter(pattern, count=1000))
            pipe.delete(*stale)
        pipe.set(f"{self.name}:crawl_id", crawl_id)
        for start in range(0, len(entries), 1000):
            batch = entries[start : start + 1000]
            if batch:
                pipe.rpush(self.input_key, *(json.dumps(e, separators=(",", ":")) for e in batch))
        pipe.execute()
        return crawl_id

    def pop(self, count: int = 100) -> list[dict]:
        """Take up to ``count`` entries; each is handed to exactly one worker."""
        raw = self.server.lpop(self.input_key, count) or []
        entries = []
        for item in raw:
            try:
                entry = json.loads(item)
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
        return entries

    def pending(self) -> int:
        return self.server.llen(self.input_key)

    def beat(self, worker: str, ttl: int = 15) -> None:
        """Tell the other workers that this one is still fetching (and may still feed the queue)."""
        self.server.set(f"{self.name}:busy:{worker}", 1, ex=ttl)

    def others_busy(self, worker: str) -> bool:
        mine = f"{self.name}:busy:{worker}"
        return any(key != mine for key in self.server.scan_iter(f"{self.name}:busy:*", count=1000))


class IdleTimer:
    """Decides when a cluster worker with nothing to do may exit: once no worker has fetched anything for
    ``MAX_IDLE_TIME_BEFORE_CLOSE`` seconds. While any other worker is busy (``SharedInput.beat``), it may still
    feed the shared queue, so an idle worker waits for it rather than leaving the crawl short-handed."""

    def __init__(self, max_idle: float):
        self.max_idle = max_idle
        self.idle_since: float | None = None

    def keep_waiting(self) -> bool:
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
        return now - self.idle_since < self.max_idle

    def reset(self) -> None:
        self.idle_since = None
