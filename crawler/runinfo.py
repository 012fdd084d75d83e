"""Who is writing and for which crawl: the two names every output file carries.

``CRAWL_ID`` names a run (a partition of every table: ``crawl=<id>``). On one machine it defaults to the UTC start
time. In cluster mode all workers must write into the same partition, so the first one to start (or ``scrapy
seed``) stores the id in Redis under ``<spider>:crawl_id`` and the others read it from there
(``crawler/frontier/scheduler.py``).
``WORKER_ID`` names the process in part-file names so workers never write the same file.
"""

from __future__ import annotations

import os
import re
import socket
from datetime import UTC, datetime

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def new_crawl_id() -> str:
    """The UTC start time, sortable, and read as a string by every lake reader: polars parses
    ``crawl=20261121T103000Z`` as a datetime and fails; ``20261121-103000Z`` stays a string in polars, DuckDB,
    pyarrow and Spark (tests/test_units.py reads a lake with those installed)."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%SZ")


def safe_name(value: str) -> str:
    """A path-safe version of an id (it becomes part of a directory or file name)."""
    cleaned = _SAFE.sub("-", str(value)).strip("-.")
    if not cleaned:
        raise ValueError(f"unusable id {value!r}")
    return cleaned


def worker_id(settings) -> str:
    return safe_name(settings.get("WORKER_ID") or f"{socket.gethostname()}-{os.getpid()}")


def crawl_id(crawler) -> str:
    """The crawl id of this run, decided once per crawler (in cluster mode by the scheduler, from Redis)."""
    stats = crawler.stats
    known = stats.get_value("crawl_id")
    if known:
        return known
    value = safe_name(crawler.settings.get("CRAWL_ID") or new_crawl_id())
    stats.set_value("crawl_id", value)
    return value
