"""Scrapy wiring of the address guard: refusals become clear, final errors, and are counted.

The guard itself is in the resolver (``crawler/dns.py``, rules in ``crawler/netguard.py``): every connection asks
it for its address when it connects, so nothing gets round it. What the resolver cannot do is say *why* a
connection failed: Twisted turns every resolver error into a plain ``DNSLookupError``, which Scrapy's
RetryMiddleware retries (three refused attempts per request) and its robots.txt middleware logs as an error with a
traceback (docs/pitfalls.md §8). So:

- :class:`AddressGuardMiddleware` (before robots.txt, ``DOWNLOADER_MIDDLEWARES`` 50) refuses a request whose host is
  an IP literal the guard would refuse anyway, in any of its spellings, before robots.txt or DNS are asked;
- :class:`BlockedConnectionMiddleware` (after RetryMiddleware in the exception chain, 600) turns the DNS failure
  of a *name* that resolved to a refused address into :class:`~crawler.dns.BlockedRequest`, before any retry;
- :class:`GuardStats` gives the resolver, which Scrapy builds before any crawler exists, the crawler's stats.

Both raise :class:`~crawler.dns.BlockedRequest` (an ``IgnoreRequest``): the check's verdict is ``unknown`` with
reason ``blocked_address``, a page gets a ``fetch_error`` row saying so, a backlink is ``unverified``.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import CannotResolveHostError
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import DNSLookupError

from crawler.dns import (
    BlockedAddressError,
    BlockedRequest,
    OverrideResolver,
    failure_kind,
    log_refusal,
    lookup,
    parse_overrides,
)
from crawler.netguard import parse_ip, parse_networks

logger = logging.getLogger(__name__)


class AddressGuardMiddleware:
    """Refuses a request for a refused IP literal at once: no robots.txt request, no retry, a clear reason. Names
    pass: only the resolver knows what they resolve to."""

    def __init__(self, crawler: Any):
        s = crawler.settings
        self.stats = crawler.stats
        self.overrides = parse_overrides(s.get("DNS_OVERRIDES"))
        self.strict = s.getbool("DNS_OVERRIDES_STRICT")
        self.allowed = parse_networks(s.get("ALLOWED_NETWORKS"))

    @classmethod
    def from_crawler(cls, crawler: Any) -> AddressGuardMiddleware:
        return cls(crawler)

    def process_request(self, request: Any) -> None:
        host = (urlparse_cached(request).hostname or "").lower()
        if host in self.overrides or parse_ip(host) is None:
            return None  # names are judged by the resolver, on the address they resolve to
        try:
            lookup(host, self.overrides, self.strict, self.allowed)  # a literal: no resolver is asked
        except BlockedAddressError as exc:
            _count(self.stats, exc)
            raise BlockedRequest(exc.detail) from exc
        return None


class BlockedConnectionMiddleware:
    """Turns the anonymous DNS failure of a connection the resolver refused into :class:`BlockedRequest`. At
    priority 600 it sees the exception before RetryMiddleware (550): Scrapy calls ``process_exception`` from the
    highest priority down, and a raised exception ends the chain, so nothing retries the refusal."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> BlockedConnectionMiddleware:
        return cls()

    def process_exception(self, request: Any, exception: Exception) -> None:
        if isinstance(exception, (CannotResolveHostError, DNSLookupError)):
            host = (urlparse_cached(request).hostname or "").lower()
            if failure_kind(host) is BlockedAddressError:
                raise BlockedRequest(f"{host} resolved to an address that is not allowed") from exception
        return None


class GuardStats:
    """Scrapy extension: the resolver counts its refusals in the stats of the crawler running in this process, and
    a crawl whose resolver is not ours (``TWISTED_DNS_RESOLVER`` changed) says loudly that only IP literals are
    guarded."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> GuardStats:
        from twisted.internet import reactor

        resolver = getattr(reactor, "nameResolver", None)  # installed as the name resolver (crawler/dns.py)
        if isinstance(resolver, OverrideResolver):
            resolver.stats = crawler.stats
        else:
            logger.warning("TWISTED_DNS_RESOLVER is not crawler.dns.OverrideResolver: names are not checked against "
                           "the address guard (only IP literals are)")
        return cls()


def _count(stats: Any, exc: BlockedAddressError) -> None:
    stats.inc_value("netguard/blocked")
    stats.inc_value(f"netguard/blocked/{exc.category}")
    log_refusal(exc)
