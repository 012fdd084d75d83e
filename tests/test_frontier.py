"""The Redis frontier protocol on a real redis-server, without Scrapy: entries as data, leases, per-host slots and
delays for all workers together, heartbeats and take-back, and what a queued request costs in Redis memory."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import redis

from crawler.frontier.bloom import bloom_size
from crawler.frontier.codec import FrontierRequest, MalformedEntry, decode, encode
from crawler.frontier.store import Frontier, Push, client

KINDS = {"page", "check"}


def run(coro):
    return asyncio.run(coro)


def frontier(url: str, worker: str, **kw) -> Frontier:
    options = dict(capacity=100_000, error_rate=1e-4, per_host=2, delay=0.0, lease_timeout=30.0)
    options.update(kw)
    return Frontier(client(url), "t", worker, **options)


# --- entries
def test_entries_are_compact_versioned_data_and_anything_else_is_refused():
    fr = FrontierRequest("page", "https://example.com/blog/2024/05/how-to-grow-tomatoes?page=2", depth=3)
    raw = encode(fr)
    assert raw == '[1,"page",3,1,"/blog/2024/05/how-to-grow-tomatoes?page=2"]' and len(raw) < 60
    assert decode("example.com", raw, KINDS) == fr
    back = FrontierRequest("check", "http://a.org:8080/x", 1, "HEAD", 2, {"k": [1]})
    assert decode("a.org:8080", encode(back), KINDS) == back
    for bad in ["pickle\x80", "{}", '{"_class": "os.system", "url": "http://a.org/"}', '[1, "os.system", 0, 0, "/"]',
                '[1, "page", "0", 0, "/"]', '[1, "page", 0, 2, "/"]', '[1, "page", 0, 0, "http://b.org/"]',
                '[1, "page", 0, 0, "/", "POST"]', '[1, "page", 0, 0, "/", "GET", -1]', "[" * 10_000, "x" * 70_000]:
        with pytest.raises(MalformedEntry):
            decode("a.org", bad, KINDS)
    with pytest.raises(MalformedEntry):
        decode("a.org/evil", '[1, "page", 0, 0, "/"]', KINDS)


# --- protocol
def test_a_host_gets_at_most_its_slots_across_workers_and_leases_end_only_when_sealed(redis_url):
    async def scenario():
        a, b = frontier(redis_url, "a"), frontier(redis_url, "b")
        urls = [FrontierRequest("page", f"http://site.com/p/{i}") for i in range(5)]
        codes = await a.push([Push(u) for u in urls] + [Push(urls[0])])
        assert codes == [1, 1, 1, 1, 1, 0]  # the repeat is seen before
        first = await a.claim(10)
        second = await b.claim(10)
        assert len(first.leases) == 2 and second.leases == []  # per-host limit 2, for both workers together
        assert (first.queued, first.leased) == (3, 2)
        await a.done(first.leases[:1])  # one response processed: its slot frees, its lease stays
        third = await b.claim(10)
        assert len(third.leases) == 1 and third.leased == 3
        assert await a.seal("", [], [first.leases[0].id]) == 0  # its rows committed (none to record)
        await a.done(first.leases[1:])
        await a.release([(first.leases[1], first.leases[1].payload)])  # given back: queued again, at the head
        again = await a.claim(10)
        assert [x.payload for x in again.leases] == [first.leases[1].payload]
        status = await b.claim(0)
        assert (status.queued, status.leased) == (2, 2)
        for f in (a, b):
            await f.server.aclose()

    run(scenario())


def test_a_dead_workers_leases_are_taken_back_after_its_heartbeat_expires(redis_url):
    async def scenario():
        dead = frontier(redis_url, "dead", lease_timeout=0.3)
        alive = frontier(redis_url, "alive", lease_timeout=30)
        await dead.push([Push(FrontierRequest("page", f"http://h{i}.com/")) for i in range(3)])
        held = await dead.claim(10)
        assert len(held.leases) == 3
        assert (await alive.claim(10)).leases == []
        await asyncio.sleep(0.4)
        back = await alive.claim(10)
        assert back.reaped == 3 and sorted(x.host for x in back.leases) == ["h0.com", "h1.com", "h2.com"]
        assert await dead.seal("", [], [x.id for x in held.leases]) == 3  # too late: reported as lost, not double-counted
        assert (back.queued, back.leased) == (0, 3)
        for f in (dead, alive):
            await f.server.aclose()

    run(scenario())


def test_a_dead_workers_sealed_commit_is_completed_once_or_its_requests_redone(redis_url):
    async def scenario():
        dead = frontier(redis_url, "dead", lease_timeout=0.3)
        alive = [frontier(redis_url, w, lease_timeout=30) for w in ("a1", "a2")]
        await dead.push([Push(FrontierRequest("page", f"http://h{i}.com/")) for i in range(4)])
        held = await dead.claim(10)
        await dead.done(held.leases)
        files = [("pages/_part-dead-00000.parquet.tmp", "pages/part-dead-00000.parquet")]
        assert await dead.seal("dead-1", files, [x.id for x in held.leases[:2]]) == 0
        assert await dead.seal("dead-2", files[:0], [held.leases[2].id]) == 0  # no files: nothing to record
        assert await dead.seal("dead-3", [("x/_t", "x/t")], [held.leases[3].id]) == 0
        await dead.published("dead-3")  # renamed in time: forgotten
        assert await dead.recovery_files() == {files[0][0]}  # its temporary file must survive clean-ups
        status = await alive[0].claim(0)
        assert (status.queued, status.leased, status.recover) == (0, 0, 0)  # sealed leases ended
        await asyncio.sleep(0.4)
        status = await alive[0].claim(0)
        assert (status.reaped, status.recover) == (0, 1)  # the commit waits for someone to complete it
        one, two = [await f.next_recovery() for f in alive]
        assert one == two and one.files == files and one.requests == 2
        assert await alive[0].recovered(one, requeue=True)
        assert not await alive[1].recovered(two, requeue=True)  # reported twice: acted on once
        back = await alive[1].claim(10)
        assert back.recover == 0 and sorted(x.payload for x in back.leases) == sorted(x.payload for x in held.leases[:2])
        for f in (dead, *alive):
            await f.server.aclose()

    run(scenario())


def test_a_delay_spaces_a_hosts_requests_from_the_end_of_the_previous_one(redis_url):
    async def scenario():
        a, b = frontier(redis_url, "a"), frontier(redis_url, "b")
        await a.push([Push(FrontierRequest("page", f"http://slow.com/{i}"), robots=True) for i in range(3)])
        first = await a.claim(10)
        assert len(first.leases) == 1  # robots.txt not read yet: one at a time
        await a.robots("slow.com", 0.5)  # Crawl-delay: 0.5
        assert (await b.claim(10)).leases == []  # still one in flight
        await a.done(first.leases)
        done_at = time.monotonic()
        waiting = await b.claim(10)
        assert waiting.leases == [] and 0.3 < waiting.next_ready <= 0.5
        while not (got := await b.claim(10)).leases:
            await asyncio.sleep(0.02)
        assert time.monotonic() - done_at >= 0.45 and len(got.leases) == 1
        for f in (a, b):
            await f.server.aclose()

    run(scenario())


def test_a_full_site_cap_refuses_pages_and_reset_forgets_the_previous_crawl(redis_url):
    async def scenario():
        f = frontier(redis_url, "a")
        pages = [Push(FrontierRequest("page", f"http://s.com/{i}"), site="s.com") for i in range(5)]
        assert await f.push(pages, site_cap=3) == [1, 1, 1, 2, 2]
        await f.reset("next")
        assert await f.crawl_id() == "next"
        assert await f.push(pages[:1], site_cap=3) == [1]  # the dupefilter was cleared too
        await f.server.aclose()

    run(scenario())


def test_seen_requests_stay_seen_and_new_ones_are_rarely_taken_for_seen(redis_url):
    async def scenario():
        f = frontier(redis_url, "a", capacity=40_000, error_rate=1e-3)
        await f.allocate()
        urls = [FrontierRequest("check", f"http://site{i % 50}.com/page/{i}", method="HEAD") for i in range(20_000)]
        assert set(await f.push([Push(u) for u in urls])) == {1}
        assert set(await f.push([Push(u) for u in urls])) == {0}  # no false negative, ever
        others = await f.push([Push(FrontierRequest("check", f"http://other.org/{i}", method="HEAD")) for i in range(20_000)])
        assert others.count(0) <= 40  # at most ~1e-3 while the filter fills to capacity
        server = redis.Redis.from_url(redis_url)
        bloom = sum(server.memory_usage(k) for k in server.keys("t:dupefilter:*"))
        assert bloom / 40_000 < 3  # bytes per seen URL at capacity (a SET of fingerprints costs ~85)
        await f.server.aclose()

    run(scenario())


def test_a_queued_request_costs_under_100_bytes_of_redis(redis_url):
    """Typical crawl: ~50-byte paths on a few hundred hosts (a page queue per site, checks spread over hosts)."""
    server = redis.Redis.from_url(redis_url)

    async def scenario():
        f = frontier(redis_url, "a", capacity=1_000, error_rate=1e-2)
        await f.allocate()
        before = server.info("memory")["used_memory"]
        batch = [Push(FrontierRequest("page", f"https://www.site{i % 200}.com/blog/2024/05/article-about-topic-{i}"),
                      filter=False) for i in range(50_000)]
        for start in range(0, len(batch), 1000):
            await f.push(batch[start:start + 1000])
        after = server.info("memory")["used_memory"]
        await f.server.aclose()
        return (after - before) / len(batch)

    per_request = run(scenario())
    print(f"redis bytes per queued request: {per_request:.1f}")
    assert per_request <= 100
    entry = server.lindex("t:q:www.site0.com", 0)
    assert json.loads(entry) == [1, "page", 0, 1, "/blog/2024/05/article-about-topic-0"]


def test_bloom_sizing_follows_the_textbook_formula():
    bits, hashes = bloom_size(1_000_000, 1e-4)
    assert 19.1 < bits / 1_000_000 < 19.3 and hashes == 13
