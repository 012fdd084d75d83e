"""Every Redis key of the cluster frontier, in one place (the way scrapy-redis keeps its ``defaults.py``).

All keys of one spider share the prefix ``<spider>:``; several crawls of different spiders can share a Redis
database. The frontier needs a standalone Redis (or a primary with replicas): its Lua scripts touch keys they
compute themselves, which Redis Cluster does not allow.
"""

from __future__ import annotations


class Keys:
    def __init__(self, spider: str):
        p = f"{spider}:"
        self.prefix = p
        self.crawl_id = p + "crawl_id"  # string: the partition every worker writes under
        self.ready = p + "ready"  # zset host -> ms (server clock) at which it may next be fetched
        self.workers = p + "workers"  # zset worker -> ms at which its leases expire unless it beats again
        self.queued = p + "queued"  # counter: requests waiting in the host queues
        self.leased = p + "leased"  # counter: requests leased by some worker and not yet acked
        self.lease_seq = p + "lease_seq"  # counter: lease ids
        self.delays = p + "delays"  # hash host -> ms between two requests (robots.txt Crawl-delay)
        self.robots = p + "robots"  # hash host -> 1 once a worker has read the host's robots.txt
        self.dropped = p + "dropped"  # hash reason -> requests the frontier refused or gave up (stats)
        self.wake = p + "wake"  # pub/sub channel: "work appeared", so idle workers need not poll
        self.recover = p + "recover"  # list of sealed commit records of dead workers, to complete (scripts.py)
        self.stats = p + "stats"  # hash stat -> count, summed over workers (pages/crawled, checks/done...): status
        self.started = p + "started"  # string: ms (server clock) when the first worker of this crawl reported
        self.dead = p + "dead"  # list of workers whose leases were taken back: their leftover temporary files go
        self.unreadable = p + "recover:unreadable"  # list: commit records that did not parse, kept for a human
        self.input = p + "input"  # list of input entries for spiders that take files (warc), not requests
        self.seen = p + "dupefilter"  # Bloom filter: shards ``:<n>``, ``:count``, ``:size`` (bloom.py)

    def queue(self, host: str) -> str:
        return f"{self.prefix}q:{host}"  # list of encoded requests (codec.py), FIFO: breadth-first per host

    def host(self, host: str) -> str:
        return f"{self.prefix}h:{host}"  # hash: active (slots held cluster-wide)

    def leases(self, worker: str) -> str:
        return f"{self.prefix}leases:{worker}"  # hash lease id -> "<host>\n<encoded request>"

    def held(self, worker: str) -> str:
        return f"{self.prefix}held:{worker}"  # set of this worker's lease ids that still hold a host slot

    def commits(self, worker: str) -> str:
        return f"{self.prefix}commits:{worker}"  # hash commit name -> JSON record of a sealed, unpublished commit

    def site_pages(self, site: str) -> str:
        return f"{self.prefix}site_pages:{site}"  # counter: pages admitted for a site (max_pages_per_site)

    def patterns(self) -> list[str]:
        """Globs of every key a new crawl must clear."""
        p = self.prefix
        return [f"{p}q:*", f"{p}h:*", f"{p}leases:*", f"{p}held:*", f"{p}commits:*", f"{p}site_pages:*", f"{p}dupefilter*"]

    def singles(self) -> list[str]:
        return [self.ready, self.workers, self.queued, self.leased, self.delays, self.robots, self.dropped,
                self.recover, self.dead, self.unreadable, self.stats, self.started, self.input]
