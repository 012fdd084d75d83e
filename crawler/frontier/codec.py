"""Requests as the frontier stores them: a versioned, compact JSON array of plain fields, never code.

Scrapy's ``request_from_dict`` imports whatever class a ``_class`` key names and resolves callbacks by name, so a
request dict read from Redis would let anyone who can write to Redis choose code for every worker (docs/pitfalls.md
§7). Here an entry says only *what* to fetch: the spider turns its ``kind`` into a request through a fixed table
of its own methods (``FrontierSpider.request_kinds``), and an entry that does not decode is dropped, counted and
logged, never half-used.

Layout (version 1), stored in the queue of its host, so the scheme and host are not repeated::

    [1, kind, depth, https?, path_and_query, method, attempts, data]

trailing defaults (``GET``, ``0``, ``{}``) are left out. A 40-character path makes a ~60-byte entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from crawler.fingerprint import fingerprint

VERSION = 1
METHODS = ("GET", "HEAD")
MAX_ENTRY = 64 * 1024  # an entry longer than this is not one of ours


class MalformedEntry(ValueError):
    """A frontier entry that is not a request this version wrote."""


@dataclass(frozen=True)
class FrontierRequest:
    kind: str  # which of the spider's request builders rebuilds it ("page", "check", "source"...)
    url: str  # absolute http(s) URL, normalized
    depth: int = 0
    method: str = "GET"
    attempts: int = 0  # times a worker took it and failed without a row (crashed callback, aborted check)
    data: dict = field(default_factory=dict)  # plain JSON the builder needs (a backlinks entry)

    @property
    def host(self) -> str:
        """The politeness unit: scheme-less ``host[:port]`` as it appears in the URL."""
        return urlsplit(self.url).netloc.lower()

    def fingerprint(self) -> bytes:
        """What the dupefilter remembers: kind, method and canonical URL, as on one machine (``crawler/fingerprint.py``)."""
        return fingerprint(self.kind, self.method, self.url)


def encode(request: FrontierRequest) -> str:
    parts = urlsplit(request.url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise MalformedEntry(f"not an http(s) URL: {request.url[:200]}")
    rest = request.url[len(parts.scheme) + 3 + len(parts.netloc):] or "/"
    fields: list = [VERSION, request.kind, request.depth, 1 if parts.scheme == "https" else 0, rest,
                    request.method, request.attempts, request.data]
    defaults = ("GET", 0, {})
    while len(fields) > 5 and fields[-1] == defaults[len(fields) - 6]:
        fields.pop()
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def decode(host: str, raw: str | bytes, kinds) -> FrontierRequest:
    """Rebuild an entry of ``host``'s queue; ``kinds`` is the set of kinds the spider knows."""
    if len(raw) > MAX_ENTRY:
        raise MalformedEntry(f"entry of {len(raw)} bytes")
    try:
        fields = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise MalformedEntry(f"not JSON: {str(exc)[:100]}") from None
    if not isinstance(fields, list) or len(fields) < 5 or len(fields) > 8:
        raise MalformedEntry("not a version-1 entry (a JSON array of 5 to 8 fields)")
    version, kind, depth, https, rest, *more = fields
    method = more[0] if len(more) > 0 else "GET"
    attempts = more[1] if len(more) > 1 else 0
    data = more[2] if len(more) > 2 else {}
    problems = []
    if version != VERSION:
        problems.append(f"version {version!r}")
    if not isinstance(kind, str) or kind not in kinds:
        problems.append(f"unknown kind {str(kind)[:40]!r}")
    if type(depth) is not int or depth < 0:
        problems.append(f"depth {depth!r}")
    if https not in (0, 1):
        problems.append(f"scheme flag {https!r}")
    if not isinstance(rest, str) or not rest.startswith("/"):
        problems.append("path")
    if method not in METHODS:
        problems.append(f"method {str(method)[:20]!r}")
    if type(attempts) is not int or attempts < 0:
        problems.append(f"attempts {attempts!r}")
    if not isinstance(data, dict):
        problems.append("data")
    if not host or any(c in host for c in "/?#\\ \n"):
        problems.append(f"host {host[:60]!r}")
    if problems:
        raise MalformedEntry(", ".join(problems))
    url = f"{'https' if https else 'http'}://{host}{rest}"
    return FrontierRequest(kind=kind, url=url, depth=depth, method=method, attempts=attempts, data=data)
