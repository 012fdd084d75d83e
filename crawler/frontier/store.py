"""The Redis side of the cluster frontier: one method per protocol step, each one script and one round trip.

Every call survives a Redis outage: on a connection error it logs once, backs off (0.2 s doubling to 5 s) and
tries again until Redis answers, so a restart or a network blip delays the crawl instead of losing what a worker
holds (the caller's batch stays in memory meanwhile). Scripts are reloaded by redis-py when a restarted server
has forgotten them. ``REDIS_PARAMS`` (a dict) reaches ``redis.asyncio.Redis.from_url``; ``rediss://`` URLs and
``redis://user:password@host`` work as redis-py reads them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from dataclasses import dataclass, field

import redis
import redis.asyncio as aioredis
from scrapy_redis import defaults as scrapy_redis_defaults

from crawler.frontier import scripts
from crawler.frontier.bloom import MAX_SHARD_BITS, bit_positions, bloom_size
from crawler.frontier.codec import FrontierRequest, encode
from crawler.frontier.keys import Keys

logger = logging.getLogger(__name__)

TRANSIENT = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, OSError)
NO_CAP = 2**31


@dataclass
class Lease:
    id: str
    host: str
    payload: str


@dataclass
class Claim:
    reaped: int  # leases of dead workers put back by this call
    next_ready: float | None  # seconds until some host may be fetched (None: no host queued)
    queued: int
    leased: int
    next_reap: float | None  # seconds until the earliest worker heartbeat expires
    recover: int  # sealed commits of dead workers waiting to be completed
    crawl_id: str  # the crawl the frontier holds now
    dead: int  # stopped workers whose leftover temporary files wait to be removed
    leases: list[Lease] = field(default_factory=list)


@dataclass
class Recovery:
    raw: str  # the record as stored (its identity in the ``recover`` list)
    name: str
    files: list[tuple[str, str]]  # (temporary, final) paths relative to the lake root
    requests: int


@dataclass
class Push:
    request: FrontierRequest
    filter: bool = True  # through the dupefilter (False: ``dont_filter``)
    site: str = ""  # counted against the site's page cap when set
    robots: bool = False  # the host's robots.txt must be read before it gets more than one request at a time


def client(url: str, params: dict | None = None) -> aioredis.Redis:
    """An asyncio client with scrapy-redis' connection defaults, then ``REDIS_PARAMS``."""
    options = {**scrapy_redis_defaults.REDIS_PARAMS, "socket_connect_timeout": 5, "health_check_interval": 30,
               **(params or {})}
    options.pop("retry_on_timeout", None)  # our calls retry themselves (Frontier.call)
    return aioredis.Redis.from_url(url, decode_responses=True, **options)


class Frontier:
    def __init__(self, server: aioredis.Redis, spider: str, worker: str, *, capacity: int, error_rate: float,
                 per_host: int, delay: float, lease_timeout: float, stats=None):
        self.server = server
        self.keys = Keys(spider)
        self.worker = worker
        self.per_host = per_host
        self.delay_ms = int(delay * 1000)
        self.ttl_ms = int(lease_timeout * 1000)
        self._size_bloom(capacity, error_rate)
        self.stats = stats
        self._scripts = {name: server.register_script(getattr(scripts, name))
                         for name in ("PUSH", "CLAIM", "DONE", "SEAL", "PUBLISHED", "RECOVERED",
                                                                 "RELEASE", "ROBOTS")}
        self._down_since: float | None = None

    async def call(self, what: str, fn, *args, **kwargs):
        """Run ``fn`` until Redis answers; log the outage once and its end once."""
        backoff = 0.2
        while True:
            try:
                result = await fn(*args, **kwargs)
            except TRANSIENT as exc:
                loop = asyncio.get_running_loop()
                if self._down_since is None:
                    self._down_since = loop.time()
                    logger.warning("Redis unreachable during %s (%s): holding work and retrying", what, exc)
                if self.stats is not None:
                    self.stats.inc_value("frontier/redis_retries")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if self._down_since is not None:
                took = asyncio.get_running_loop().time() - self._down_since
                logger.warning("Redis reachable again after %.1f s", took)
                self._down_since = None
            return result

    async def _script(self, name: str, args: list):
        return await self.call(name.lower(), self._scripts[name], keys=[], args=[self.keys.prefix, *args])

    # --- protocol steps
    def _size_bloom(self, capacity: int, error_rate: float) -> None:
        self.capacity, self.error_rate = capacity, error_rate
        bits, self.hashes = bloom_size(capacity, error_rate)
        self.shards = math.ceil(bits / MAX_SHARD_BITS)
        self.shard_bits = math.ceil(bits / self.shards)

    async def allocate(self) -> None:
        """Fix the Bloom filter's size for the crawl (the first to allocate decides, ``scrapy seed`` usually: a
        URL's bits depend on it, so every worker must use the same), then create its shards at their final size
        (grown bit by bit, Redis over-allocates)."""
        key = f"{self.keys.seen}:size"
        await self.call("allocate", self.server.set, key, f"{self.capacity} {self.error_rate!r}", nx=True)
        stored = (await self.call("allocate", self.server.get, key) or "").split()
        try:
            capacity, error_rate = int(stored[0]), float(stored[1])
        except (IndexError, ValueError):
            raise ValueError(f"unreadable dupefilter size in Redis key {key}: {stored!r}") from None
        if (capacity, error_rate) != (self.capacity, self.error_rate):
            logger.info("this crawl's dupefilter holds %d URLs at %g (set when the crawl started), not %d at %g",
                        capacity, error_rate, self.capacity, self.error_rate)
            self._size_bloom(capacity, error_rate)
        size = (self.shard_bits + 7) // 8
        for shard in range(self.shards):
            await self.call("allocate", self.server.set, f"{self.keys.seen}:{shard}", bytes(size), nx=True)

    async def push(self, batch: list[Push], site_cap: int = 0) -> list[int]:
        """Enqueue requests: 1 queued, 0 seen before (dupefilter), 2 over the site's page cap."""
        args: list = [site_cap or NO_CAP, self.hashes]
        for item in batch:
            shard, positions = bit_positions(item.request.fingerprint(), self.hashes, self.shard_bits, self.shards)
            args += [item.request.host, encode(item.request), item.site, int(item.filter), int(item.robots), shard,
                     *positions]
        return await self._script("PUSH", args) if batch else []

    async def claim(self, want: int, reap: bool = True, crawl_id: str = "") -> Claim:
        """Lease up to ``want`` requests (none if the frontier now holds another crawl than ``crawl_id``)."""
        raw = await self._script("CLAIM", [self.worker, want, self.per_host, self.delay_ms, self.ttl_ms, int(reap),
                                           crawl_id])
        reaped, next_ready, queued, leased, next_reap, recover, crawl, dead, *rest = raw
        leases = [Lease(str(rest[i]), rest[i + 1], rest[i + 2]) for i in range(0, len(rest), 3)]
        return Claim(int(reaped), None if next_ready < 0 else next_ready / 1000, int(queued), int(leased),
                     None if next_reap < 0 else next_reap / 1000, int(recover), str(crawl), int(dead), leases)

    async def done(self, leases: list[Lease]) -> None:
        if leases:
            await self._script("DONE", [self.worker, self.delay_ms, *[x for lease in leases for x in (lease.id, lease.host)]])

    async def seal(self, name: str, files: list[tuple[str, str]], ids: list[str]) -> int:
        """End the leases whose rows the commit ``name`` holds and record its (temporary, final) files, in one step
        (``scripts.SEAL``); returns how many leases had been taken back meanwhile."""
        return int(await self._script("SEAL", [self.worker, name, json.dumps(files), *ids]))

    async def published(self, name: str) -> None:
        """The commit's files are renamed: its record is no longer needed."""
        await self._script("PUBLISHED", [self.worker, name])

    async def next_recovery(self) -> Recovery | None:
        """The oldest sealed commit of a dead worker, if any (it stays listed until ``recovered``)."""
        raw = await self.call("recover", self.server.lindex, self.keys.recover, 0)
        if raw is None:
            return None
        try:
            record = json.loads(raw)
            files = [(str(tmp), str(final)) for tmp, final in record["files"]]
            requests = record["requests"] or []  # Lua's cjson writes an empty list as {}
        except (ValueError, KeyError, TypeError) as exc:
            logger.error("unreadable commit record in %s, put aside: %s: %.200r", self.keys.recover, exc, raw)
            await self.call("recover", self.server.lrem, self.keys.recover, 1, raw)
            await self.call("recover", self.server.rpush, self.keys.unreadable, raw)
            return None
        return Recovery(raw, str(record.get("name", "?")), files, len(requests))

    async def recovered(self, recovery: Recovery, requeue: bool) -> bool:
        """Report a recovery; ``requeue`` puts its requests back. False if another worker reported it first."""
        return bool(await self._script("RECOVERED", [recovery.raw, int(requeue)]))

    async def next_dead(self) -> str | None:
        """A stopped worker whose leftover temporary files are to be removed (each name is handed out once)."""
        return await self.call("dead", self.server.lpop, self.keys.dead)

    async def is_alive(self, worker: str) -> bool:
        """Whether ``worker`` has a current heartbeat (a worker restarted under a stopped one's name has)."""
        score = await self.call("alive", self.server.zscore, self.keys.workers, worker)
        if score is None:
            return False
        seconds, micros = await self.call("alive", self.server.time)
        return score > seconds * 1000 + micros // 1000

    async def recovery_files(self) -> set[str]:
        """Every file named by a sealed commit not yet published: temporary files nobody may delete."""
        raws = await self.call("recover", self.server.lrange, self.keys.recover, 0, -1)
        raws += await self.call("recover", self.server.hvals, self.keys.commits(self.worker))
        files: set[str] = set()
        for raw in raws:
            try:
                files.update(tmp for tmp, _ in json.loads(raw)["files"])
            except (ValueError, KeyError, TypeError):
                continue
        return files

    async def release(self, items: list[tuple[Lease, str]]) -> int:
        """Put leases back (payload) or give them up (``"!reason"``)."""
        if not items:
            return 0
        return int(await self._script("RELEASE", [self.worker, *[x for lease, p in items for x in (lease.id, lease.host, p)]]))

    async def release_all(self) -> int:
        """Every lease this worker still holds goes back to its queue; the worker leaves the heartbeat set."""
        return int(await self._script("RELEASE", [self.worker, "*"]))

    async def robots(self, host: str, delay: float) -> None:
        await self._script("ROBOTS", [host, int(delay * 1000)])

    async def add_stats(self, deltas: dict[str, int]) -> None:
        """Add this worker's progress to the crawl's shared counters (read by ``scrapy status``)."""
        async def send():
            async with self.server.pipeline(transaction=False) as pipe:
                for key, n in deltas.items():
                    pipe.hincrby(self.keys.stats, key, n)
                pipe.eval("if redis.call('EXISTS', KEYS[1]) == 0 then local t = redis.call('TIME'); "
                          "redis.call('SET', KEYS[1], t[1] * 1000 + math.floor(t[2] / 1000)) end return 1",
                          1, self.keys.started)
                return await pipe.execute()

        await self.call("stats", send)

    async def count_dropped(self, reason: str, n: int = 1) -> None:
        await self.call("count", self.server.hincrby, self.keys.dropped, reason, n)

    async def crawl_id(self) -> str | None:
        return await self.call("crawl id", self.server.get, self.keys.crawl_id)

    async def reset(self, crawl_id: str) -> None:
        """Forget the previous crawl of this spider (queues, leases, dupefilter, counters) and name the new one."""
        stale = list(self.keys.singles())
        for pattern in self.keys.patterns():
            stale.extend([key async for key in self.server.scan_iter(pattern, count=1000)])
        for start in range(0, len(stale), 500):
            await self.call("reset", self.server.delete, *stale[start:start + 500])
        await self.call("reset", self.server.set, self.keys.crawl_id, crawl_id)
        await self.allocate()
