"""The Bloom dupefilter of cluster mode, on a real Redis: never forgets, rarely confuses, and stays small."""

from __future__ import annotations

import redis
from scrapy import Request
from scrapy.utils.request import RequestFingerprinter

from crawler.frontier.bloom import BloomDupeFilter, bloom_size


def make(url, capacity=40_000, rate=1e-3):
    return BloomDupeFilter(redis.Redis.from_url(url), "t:dupefilter", capacity, rate, RequestFingerprinter())


def test_sizing_follows_the_textbook_formula():
    bits, hashes = bloom_size(1_000_000, 1e-4)
    assert 19.1 < bits / 1_000_000 < 19.3 and hashes == 13


def test_seen_requests_are_always_seen_and_new_ones_almost_never(redis_url):
    df = make(redis_url)
    urls = [f"http://site{i % 50}.com/page/{i}" for i in range(20_000)]
    assert not any(df.request_seen(Request(u)) for u in urls)  # all new at first (no false positive at 1e-3 here)
    assert all(df.request_seen(Request(u)) for u in urls)  # no false negative, ever
    assert df.request_seen(Request(urls[0], method="HEAD")) is False  # another request for the same URL
    others = sum(df.request_seen(Request(f"http://other.org/{i}")) for i in range(20_000))
    assert others <= 40  # under 1e-3 of 20,000 while the filter fills up to its capacity
    server = redis.Redis.from_url(redis_url)
    assert int(server.get("t:dupefilter:count")) == 20_001 + (20_000 - others)
    used = sum(server.memory_usage(k) for k in server.keys("t:dupefilter:*"))
    assert used / 40_000 < 3  # bytes per seen URL (the exact SET costs ~85)


def test_two_clients_agree_on_who_saw_a_url_first(redis_url):
    a, b = make(redis_url), make(redis_url)
    results = [(a.request_seen(Request(f"http://x.com/{i}")), b.request_seen(Request(f"http://x.com/{i}"))) for i in range(500)]
    assert all(r == (False, True) for r in results)
    a.clear()
    assert not b.request_seen(Request("http://x.com/1"))
