"""A Bloom-filter dupefilter in Redis: the cluster's "seen" set at ~2.4 bytes per URL instead of ~85.

scrapy-redis keeps every request fingerprint as a 40-character hex string in a Redis SET: 80-90 bytes of Redis
memory per URL, ~85 GB per billion URLs (docs/pitfalls.md §1). A Bloom filter answers the same question, "was this
request seen?", from a few bits per URL: with ``DUPEFILTER_ERROR_RATE = 1e-4``, 19.2 bits (2.4 bytes) at full
capacity. The price is a false positive: a new URL taken for seen, and so never fetched, at most once in 10,000 at
capacity and far less below it. The filter is sized for ``DUPEFILTER_CAPACITY`` URLs (Redis allocates the bitmap
as soon as a bit near its end is set, so size it for the crawl, not for the largest crawl you can imagine); past
capacity the error rate climbs, which the filter logs once.

Test-and-set runs inside the frontier's push script (``scripts.PUSH``), in the same step that queues the request,
so it is atomic across workers (of two workers that see the same URL at the same time, exactly one is told it is
new) and a URL is never marked seen without being queued. This module computes where a URL's bits are. Bitmaps are
split into shards of at most 2^32 bits (Redis' limit for one string), each URL's bits in one shard.
"""

from __future__ import annotations

import math

MAX_SHARD_BITS = 2**32


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
