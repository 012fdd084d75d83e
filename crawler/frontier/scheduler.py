"""The cluster scheduler: Scrapy's side of the leased, polite Redis frontier (``store.py``, ``scripts.py``).

What the engine sees is an ordinary scheduler with a small local buffer. Behind it, two tasks on the event loop
talk to Redis so that the engine never waits on it:

- the *claimer* leases as many requests as this worker has free request slots (``CONCURRENT_REQUESTS``), only for
  hosts that may be fetched now cluster-wide, then sleeps until the frontier says the next host is ready, a
  "wake" message says work appeared, or a slot frees up; it also renews this worker's heartbeat and takes back
  the leases of workers whose heartbeat expired (``LEASE_TIMEOUT``);
- the *flusher* sends what the worker produced, in order: new requests (dupefilter and queue in one step), freed
  host slots, leases given back.

A request's lease ends only when the Parquet pipeline seals a commit holding its rows (``ledger.py``,
``scripts.py``), so a worker killed at any moment loses nothing and writes nothing twice: its leases are redone by
another worker, its sealed commits completed by another worker.
Requests produced by downloader middlewares for a leased request (a retry, a redirect hop) carry its lease and stay
in this worker. Entries that do not decode are dropped with one log line and counted, without stalling.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro

from crawler.frontier.cluster import frontier_for
from crawler.frontier.codec import FrontierRequest, decode, encode
from crawler.frontier.ledger import Ledger
from crawler.frontier.store import Lease, Push
from crawler.runinfo import new_crawl_id, safe_name, worker_id

logger = logging.getLogger(__name__)

FLUSH_COALESCE = 0.02  # seconds a flush waits for more to send
SHARED_STATS = ("pages/crawled", "checks/done", "checks/broken", "links/found")  # summed in Redis for `scrapy status`
SHARED_STATS_INTERVAL = 1.0  # seconds between two updates of the shared counters
CLAIM_COALESCE = 0.005  # seconds a woken claimer waits for more free slots


class LeasedScheduler:
    def __init__(self, crawler):
        s = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.settings = s
        self.worker = worker_id(s)
        self.ledger = Ledger.of(crawler)
        self.prefetch = s.getint("CONCURRENT_REQUESTS")
        self.max_idle = s.getfloat("MAX_IDLE_TIME_BEFORE_CLOSE")
        self.max_attempts = s.getint("FRONTIER_MAX_ATTEMPTS")
        self.lease_timeout = s.getfloat("LEASE_TIMEOUT")
        self.obey_robots = s.getbool("ROBOTSTXT_OBEY")
        self.ready: deque[Request] = deque()  # leased, not yet handed to the engine
        self.follow_ups: deque[Request] = deque()  # retries and redirect hops of leased requests
        self.leases: dict[str, tuple[Lease, FrontierRequest]] = {}  # leased and not finished
        self.unacked = 0  # finished leases waiting for their rows to be committed
        self.pushes: list[Push] = []
        self.dones: list[Lease] = []
        self.releases: list[tuple[Lease, str]] = []
        self.acks: list[str] = []
        self.robots: list[tuple[str, float]] = []
        self.status = None
        self.status_at = 0.0
        self.idle_since: float | None = None
        self.draining = False
        self.stopping = False
        self.probe = False
        self.kick = asyncio.Event()
        self.outbox = asyncio.Event()
        self.flush_lock = asyncio.Lock()
        self.tasks: list[asyncio.Task] = []
        self.crawl_of_frontier = ""  # the crawl id read from Redis at start ("" when CRAWL_ID was given)
        self.shared = dict.fromkeys(SHARED_STATS, 0)  # what this worker already added to the shared counters
        self.shared_at = 0.0

    @classmethod
    def from_crawler(cls, crawler) -> LeasedScheduler:
        return cls(crawler)

    # --- Scrapy's scheduler interface
    def open(self, spider):
        return deferred_from_coro(self._open(spider))

    async def _open(self, spider) -> None:
        s = self.settings
        self.spider = spider
        self.site_cap = int(getattr(spider, "max_pages_per_site", 0) or 0)
        self.frontier = frontier_for(s, spider.name, self.worker, self.stats)
        await self._decide_crawl_id()
        await self.frontier.allocate()
        # A worker restarted under the same WORKER_ID (a StatefulSet pod) holds nothing: what its past self leased
        # goes back now rather than after the heartbeat it would otherwise keep renewing.
        returned = await self.frontier.release_all()
        if returned:
            logger.warning("gave back %d leases of an earlier run of worker %s", returned, self.worker)
        self.ledger.on_finished = self._finished
        self.ledger.committer = self
        self.ledger.install()
        self.crawler.signals.connect(self._on_idle, signal=signals.spider_idle)
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self._claim_loop()), loop.create_task(self._flush_loop()),
                      loop.create_task(self._listen())]
        logger.info("cluster worker %s on the shared frontier %s* (lease timeout %.0f s)", self.worker,
                    self.frontier.keys.prefix, self.lease_timeout)

    async def _decide_crawl_id(self) -> None:
        """Every worker writes under the crawl id ``scrapy seed`` stored (or the first worker's start time)."""
        value = self.settings.get("CRAWL_ID")
        if not value:
            key = self.frontier.keys.crawl_id
            await self.frontier.call("crawl id", self.frontier.server.set, key, new_crawl_id(), nx=True)
            value = self.crawl_of_frontier = await self.frontier.crawl_id() or ""
        self.stats.set_value("crawl_id", safe_name(value))

    def close(self, reason: str):
        return deferred_from_coro(self.finish())

    async def finish(self) -> None:
        """Send what is pending, give back every lease not acknowledged, stop the tasks. Idempotent."""
        if self.stopping:
            return
        self.stopping = True
        self._release_unstarted()
        claimer, flusher, listener = self.tasks or (None, None, None)
        for task in (claimer, listener):
            if task is not None:
                task.cancel()
        self.outbox.set()
        if flusher is not None:  # never cancelled mid-flush: what it holds would be lost
            await asyncio.gather(flusher, return_exceptions=True)
        await self._flush()
        await self._share_stats(force=True)
        returned = await self.frontier.release_all()
        if returned:
            logger.info("gave %d leases back to the frontier", returned)
            self.stats.inc_value("frontier/released_at_exit", returned)
        await self.frontier.server.aclose()

    def has_pending_requests(self) -> bool:
        return bool(self.ready or self.follow_ups)

    def __len__(self) -> int:
        queued = self.status.queued if self.status is not None else 0
        return queued + len(self.ready) + len(self.follow_ups)

    def enqueue_request(self, request: Request) -> bool:
        if request.meta.get("lease") is not None:  # a retry or redirect hop of a leased request
            self.follow_ups.append(request)
            return True
        fr = self.spider.to_frontier(request)
        if fr is None:
            logger.warning("request %s has no frontier kind: fetched by this worker only", request)
            self.follow_ups.append(request)
            return True
        robots = self.obey_robots and not request.meta.get("dont_obey_robotstxt")
        site = self.spider.frontier_site(fr) if self.site_cap else ""
        self.pushes.append(Push(fr, filter=not request.dont_filter, site=site, robots=robots))
        self.outbox.set()
        return True

    def next_request(self) -> Request | None:
        if self.follow_ups:
            return self.follow_ups.popleft()
        if self.ready:
            request = self.ready.popleft()
            self.stats.inc_value("frontier/started")
            return request
        return None

    # --- from the ledger
    def _finished(self, lease_id: str, ok: bool) -> None:
        held = self.leases.pop(lease_id, None)
        if held is None:
            return
        lease, fr = held
        self.dones.append(lease)
        if ok and self.ledger.sink is None:  # no rows to wait for: the lease ends at the next flush
            self.acks.append(lease.id)
        elif ok:
            self.unacked += 1
        else:
            attempts = fr.attempts + (0 if self.draining else 1)
            if attempts >= self.max_attempts:
                logger.error("giving up %s after %d failed attempts", fr.url, attempts)
                self.stats.inc_value("frontier/gave_up")
                self.releases.append((lease, "!gave_up"))
            else:
                self.stats.inc_value("frontier/retried")
                self.releases.append((lease, encode(FrontierRequest(fr.kind, fr.url, fr.depth, fr.method, attempts, fr.data))))
        self.outbox.set()
        self.kick.set()

    # --- commits (the Parquet pipeline calls these through the ledger; scripts.py describes the protocol)
    async def seal(self, name: str, files: list[tuple[str, str]], leases: list[str]) -> None:
        await self._flush()  # first the requests these leases produced, and their freed host slots
        lost = await self.frontier.seal(name, files, leases)
        self.unacked -= len(leases)
        self._count_ended(len(leases), lost)

    async def published(self, name: str) -> None:
        await self.frontier.published(name)

    async def recovery_files(self) -> set[str]:
        return await self.frontier.recovery_files()

    def _count_ended(self, n: int, lost: int) -> None:
        self.stats.inc_value("frontier/acked", n - lost)
        if lost:
            logger.warning("%d leases had been taken back before their rows were committed (this worker missed its "
                           "heartbeat for LEASE_TIMEOUT): their rows may appear twice", lost)
            self.stats.inc_value("frontier/lease_lost", lost)

    async def _recover(self) -> bool:
        """Complete a sealed commit of a dead worker: rename what it left, or redo its requests if its files are
        nowhere to be seen (a lake this worker does not share)."""
        sink = self.ledger.sink
        recovery = await self.frontier.next_recovery()
        if recovery is None or sink is None:
            return False
        published = await asyncio.to_thread(sink.roll_forward, recovery.files)
        if await self.frontier.recovered(recovery, requeue=not published):
            if published:
                logger.warning("completed commit %s of a stopped worker (%d files)", recovery.name, len(recovery.files))
                self.stats.inc_value("frontier/commits_recovered")
            else:
                logger.warning("commit %s of a stopped worker is not in this lake: its %d requests are redone",
                               recovery.name, recovery.requests)
                self.stats.inc_value("frontier/commits_redone")
        return True

    def robots_read(self, host: str, delay: float) -> None:
        """A worker read ``host``'s robots.txt: the frontier may now give it more than one request at a time."""
        self.robots.append((host, delay))
        self.outbox.set()

    async def _clear_dead(self) -> bool:
        """Remove what a stopped worker staged but never sealed (its requests were redone). Not when the same name
        beats again (a restarted worker cleans up after its past self when it opens, and may be writing new files),
        and only files some seconds old."""
        sink = self.ledger.sink
        if sink is None:
            return False
        worker = await self.frontier.next_dead()
        if worker is None:
            return False
        if worker == self.worker or await self.frontier.is_alive(worker):
            return True
        keep = await self.frontier.recovery_files()
        older_than = time.time() - min(self.lease_timeout / 2, 10.0)
        removed = await asyncio.to_thread(sink.clear_leftovers, worker, keep, older_than)
        if removed:
            logger.info("removed %d temporary files that stopped worker %s never committed", removed, worker)
            self.stats.inc_value("frontier/leftovers_removed", removed)
        return True

    def _leave_for_new_crawl(self, crawl: str) -> None:
        """``scrapy seed`` started another crawl: this worker's rows would land under the old crawl id, so it
        finishes what it holds and stops (``scrapy work`` or a restart policy starts it again for the new crawl)."""
        logger.warning("the frontier now holds crawl %s, this worker writes crawl %s: finishing and stopping", crawl,
                       self.crawl_of_frontier)
        self.stats.set_value("frontier/crawl_changed_to", crawl)
        self.drain()
        asyncio.ensure_future(self.crawler.engine.close_spider_async(reason="crawl_changed"))

    # --- shutdown
    def drain(self) -> None:
        """Stop leasing; give back at once what was leased but not started."""
        self.draining = True
        self._release_unstarted()
        self.outbox.set()
        self.kick.set()

    def _release_unstarted(self) -> None:
        while self.ready:
            request = self.ready.popleft()
            held = self.leases.pop(request.meta["lease"], None)
            if held is not None:
                self.releases.append((held[0], held[0].payload))

    # --- idle: a worker leaves once the whole cluster has had nothing queued or leased for a while
    def _on_idle(self) -> None:
        if self.draining or self.stopping:
            return
        loop = asyncio.get_event_loop()
        now = loop.time()
        if self.unacked and self.ledger.sink is not None:
            self.ledger.sink.commit_soon()  # idle with rows waiting: commit now so the leases end
        if self.leases or self.pushes or self.acks or self.dones or self.releases or self.unacked:
            self.idle_since = None
            raise DontCloseSpider
        if self.status is None or now - self.status_at > 1.0:
            self.probe = True  # a fresh look at the frontier, then this check again
            self.kick.set()
            raise DontCloseSpider
        if self.status.queued or self.status.leased or self.status.recover:
            self.idle_since = None
            raise DontCloseSpider
        if self.idle_since is None:
            self.idle_since = now
            logger.info("the shared frontier is empty: leaving after %.0f s without new work", self.max_idle)
        if now - self.idle_since < self.max_idle:
            loop.call_later(min(1.0, self.max_idle), self._wake_engine)
            raise DontCloseSpider

    def _wake_engine(self) -> None:
        slot = getattr(self.crawler.engine, "_slot", None)  # Scrapy 2.19: the engine's CallLaterOnce
        if slot is not None and slot.closing is None:
            slot.nextcall.schedule()

    # --- background tasks
    async def _listen(self) -> None:
        """Turn "work appeared" messages into a kick of the claimer (no polling)."""
        while True:
            try:
                pubsub = self.frontier.server.pubsub()
                await pubsub.subscribe(self.frontier.keys.wake)
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=30)
                    if message is not None:
                        self.kick.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away: the claimer's own retries report it
                logger.debug("wake channel: %s", exc)
                await asyncio.sleep(1)

    async def _claim_loop(self) -> None:
        while True:
            try:
                await self._claim_forever()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not silently stop a worker from taking work
                logger.exception("frontier claim loop failed; restarting it in 1 s")
                self.stats.inc_value("frontier/claim_errors")
                await asyncio.sleep(1)

    async def _claim_forever(self) -> None:
        loop = asyncio.get_running_loop()
        beat = max(self.lease_timeout / 4, 0.5)
        while True:
            self.kick.clear()
            want = 0 if self.draining else max(0, self.prefetch - len(self.leases))
            claim = await self.frontier.claim(want, crawl_id=self.crawl_of_frontier)
            self.status, self.status_at = claim, loop.time()
            if self.crawl_of_frontier and claim.crawl_id != self.crawl_of_frontier and not self.draining:
                self._leave_for_new_crawl(claim.crawl_id)
            if claim.reaped:
                logger.warning("took back %d leases of workers that stopped beating", claim.reaped)
                self.stats.inc_value("frontier/reaped", claim.reaped)
            self._take(claim.leases)
            recovered = bool(claim.recover) and not self.draining and await self._recover()
            recovered = (bool(claim.dead) and not self.draining and await self._clear_dead()) or recovered
            if claim.leases or self.probe:
                self.probe = False
                self._wake_engine()
            if (want and len(claim.leases) == want) or recovered:
                continue
            timeout = beat
            if claim.next_ready is not None and want > len(claim.leases):
                timeout = min(timeout, max(claim.next_ready, 0.005))
            if claim.next_reap is not None:
                timeout = min(timeout, claim.next_reap + 0.05)
            try:
                await asyncio.wait_for(self.kick.wait(), timeout)
            except TimeoutError:
                pass
            await asyncio.sleep(CLAIM_COALESCE)  # several slots freed at once: one claim for them all

    def _take(self, leases: list[Lease]) -> None:
        for lease in leases:
            try:
                fr = decode(lease.host, lease.payload, self.spider.request_kinds)
                request = self.spider.from_frontier(fr)
            except Exception as exc:  # whatever an entry holds, it costs one log line, never the loop
                logger.warning("dropped a malformed frontier entry of %r: %s", lease.host[:80], exc)
                self.stats.inc_value("frontier/malformed")
                self.releases.append((lease, "!malformed"))
                self.outbox.set()
                continue
            request.meta["lease"] = lease.id
            self.leases[lease.id] = (lease, fr)
            self.ready.append(request)
            self.stats.inc_value("frontier/leased")

    async def _flush_loop(self) -> None:
        while not self.stopping:
            await self.outbox.wait()
            await asyncio.sleep(FLUSH_COALESCE)  # let a burst of pages add to the same round trip
            self.outbox.clear()
            try:
                await self._flush()
            except Exception:  # what the failed flush held is lost to this worker: its leases expire and are redone
                logger.exception("frontier flush failed")
                self.stats.inc_value("frontier/flush_errors")
                await asyncio.sleep(1)

    async def _flush(self) -> None:
        """Send everything produced so far, in the order that keeps the protocol safe: a parent's children are
        queued before its lease can be acknowledged."""
        async with self.flush_lock:
            await self._flush_locked()

    async def _flush_locked(self) -> None:
        pushes, self.pushes = self.pushes, []
        robots, self.robots = self.robots, []
        dones, self.dones = self.dones, []
        releases, self.releases = self.releases, []
        acks, self.acks = self.acks, []
        for start in range(0, len(pushes), 500):
            batch = pushes[start:start + 500]
            codes = await self.frontier.push(batch, self.site_cap)
            for code in codes:
                self.stats.inc_value(("dupefilter/filtered", "frontier/queued", "pages/over_site_limit")[int(code)])
        for host, delay in robots:
            await self.frontier.robots(host, delay)
        await self.frontier.done(dones)
        await self.frontier.release(releases)
        for start in range(0, len(acks), 1000):
            batch = acks[start:start + 1000]
            self._count_ended(len(batch), await self.frontier.seal("", [], batch))
        await self._share_stats()

    async def _share_stats(self, force: bool = False) -> None:
        now = asyncio.get_running_loop().time()
        if not force and now - self.shared_at < SHARED_STATS_INTERVAL:
            return
        self.shared_at = now
        current = {key: int(self.stats.get_value(key, 0) or 0) for key in SHARED_STATS}
        deltas = {key: n - self.shared[key] for key, n in current.items() if n != self.shared[key]}
        if deltas:
            await self.frontier.add_stats(deltas)
            self.shared = current
