"""A Bloom-filter dupefilter in Redis: the cluster's "seen" set at ~2.4 bytes per URL instead of ~85.

scrapy-redis keeps every request fingerprint as a 40-character hex string in a Redis SET: 80-90 bytes of Redis
memory per URL, ~85 GB per billion URLs (field notes §1). A Bloom filter answers the same question, "was this
request seen?", from a few bits per URL: with ``DUPEFILTER_ERROR_RATE = 1e-4``, 19.2 bits (2.4 bytes) at full
capacity. The price is a false positive: a new URL taken for seen, and so never fetched, at most once in 10,000 at
capacity and far less below it. The filter is sized for ``DUPEFILTER_CAPACITY`` URLs (Redis allocates the bitmap
as soon as a bit near its end is set, so size it for the crawl, not for the largest crawl you can imagine); past
capacity the error rate climbs, which the filter logs once.

Test-and-set is one Lua script, so it is atomic across workers: of two workers that see the same URL at the same
time, exactly one is told it is new. One round trip per request, like the SET it replaces. Bitmaps are split into
shards of at most 2^32 bits (Redis' limit for one string), each URL's bits in one shard.

Enable in cluster mode with ``DUPEFILTER_CLASS = "crawler.frontier.bloom.BloomDupeFilter"`` (``-s
DUPEFILTER_CLASS=...``): the cluster add-on keeps a class you set yourself.
"""

from __future__ import annotations

import logging
import math

from crawler.frontier.redis import connect

logger = logging.getLogger(__name__)

MAX_SHARD_BITS = 2**32
# SETBIT returns the old bit: the URL is new if any of its bits was still 0. Counts new URLs for the capacity check.
_TEST_AND_SET = """
local new = 0
for i = 1, #ARGV do
  if redis.call('SETBIT', KEYS[1], ARGV[i], 1) == 0 then new = 1 end
end
if new == 1 then return redis.call('INCR', KEYS[2]) end
return 0
"""


def bloom_size(capacity: int, error_rate: float) -> tuple[int, int]:
    """Bits and hash count of a Bloom filter holding ``capacity`` items at ``error_rate`` false positives."""
    if capacity < 1 or not 0 < error_rate < 1:
        raise ValueError("DUPEFILTER_CAPACITY must be >= 1 and DUPEFILTER_ERROR_RATE between 0 and 1")
    bits = math.ceil(-capacity * math.log(error_rate) / math.log(2) ** 2)
    hashes = max(1, round(bits / capacity * math.log(2)))
    return bits, hashes


def bit_positions(fingerprint: bytes, hashes: int, shard_bits: int, shards: int) -> tuple[int, list[int]]:
    """The shard and the bit positions of one fingerprint (a SHA-1 digest), by double hashing (Kirsch-Mitzenmacher)."""
    h1 = int.from_bytes(fingerprint[0:8], "big")
    h2 = int.from_bytes(fingerprint[8:16], "big") | 1
    shard = int.from_bytes(fingerprint[16:20], "big") % shards
    return shard, [(h1 + i * h2) % shard_bits for i in range(hashes)]


class BloomDupeFilter:
    """scrapy-redis compatible dupefilter (``from_spider``, ``request_seen``, ``clear``, ``close``, ``log``)."""

    def __init__(self, server, key: str, capacity: int, error_rate: float, fingerprinter, stats=None):
        self.server = server
        self.key = key
        self.capacity = capacity
        bits, self.hashes = bloom_size(capacity, error_rate)
        self.shards = math.ceil(bits / MAX_SHARD_BITS)
        self.shard_bits = math.ceil(bits / self.shards)
        self.fingerprinter = fingerprinter
        self.stats = stats
        self.script = server.register_script(_TEST_AND_SET)
        self.warned = False
        self._allocate()

    def _allocate(self) -> None:
        """Create each shard at its exact size: grown bit by bit, Redis over-allocates strings up to twice."""
        size = (self.shard_bits + 7) // 8
        for shard in range(self.shards):
            key = f"{self.key}:{shard}"
            if not self.server.exists(key):
                self.server.set(key, bytes(size), nx=True)

    @classmethod
    def from_spider(cls, spider) -> "BloomDupeFilter":
        crawler = spider.crawler
        s = crawler.settings
        key = s.get("SCHEDULER_DUPEFILTER_KEY", "%(spider)s:dupefilter") % {"spider": spider.name}
        return cls(
            connect(s.get("REDIS_URL")),
            key,
            s.getint("DUPEFILTER_CAPACITY", 10_000_000),
            s.getfloat("DUPEFILTER_ERROR_RATE", 1e-4),
            crawler.request_fingerprinter,
            crawler.stats,
        )

    def request_seen(self, request) -> bool:
        shard, positions = bit_positions(self.fingerprinter.fingerprint(request), self.hashes, self.shard_bits, self.shards)
        count = self.script(keys=[f"{self.key}:{shard}", f"{self.key}:count"], args=positions)
        if not count:
            return True
        if count > self.capacity and not self.warned:
            self.warned = True
            logger.warning("the Bloom dupefilter %s holds more than its capacity (%d URLs): false positives now "
                           "exceed the configured rate; raise DUPEFILTER_CAPACITY for the next crawl", self.key, self.capacity)
        return False

    def clear(self) -> None:
        self.server.delete(f"{self.key}:count", *(f"{self.key}:{i}" for i in range(self.shards)))
        self._allocate()

    def close(self, reason: str = "") -> None:
        pass

    def log(self, request, spider) -> None:
        if self.stats is not None:
            self.stats.inc_value("dupefilter/filtered")
