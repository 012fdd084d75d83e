"""The frontier: what is still to fetch, and what has been seen.

On one machine it is Scrapy's own in-memory scheduler. In cluster mode (``REDIS_URL`` set) it is a scrapy-redis
scheduler whose queue and dupefilter live in Redis, shared by every worker, with requests serialized as JSON
(``serializer.py``: never pickle) and seeds handed out from a Redis list (``cluster.py``).
"""
