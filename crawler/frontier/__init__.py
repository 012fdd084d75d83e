"""The frontier: what is still to fetch, what has been seen, and who holds what.

On one machine it is Scrapy's own scheduler. In cluster mode (``REDIS_URL`` set) it is a leased, polite frontier
in Redis shared by every worker (``scheduler.py`` for Scrapy's side, ``store.py`` and ``scripts.py`` for Redis'
side, ``keys.py`` for every key name): requests travel as plain JSON data (``codec.py``, never pickle or class
names), each is leased until its rows are committed (``ledger.py``), per-host concurrency and delays hold for the
whole cluster, and ``scrapy seed`` starts a crawl (``cluster.py``).
"""
