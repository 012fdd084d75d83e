"""One way to open a Redis connection, for the frontier, the seed command and the crawl id."""

from __future__ import annotations

import redis


def connect(url: str) -> redis.Redis:
    """A client with decoded string replies and a clear error when the server is not there."""
    client = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=5, health_check_interval=30)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        raise redis.ConnectionError(f"cannot reach Redis at {url}: {exc}") from None
    return client
