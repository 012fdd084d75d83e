"""Hostname overrides, and the address guard: crawl named sites on chosen addresses (a test web on loopback, a
staging mirror), and connect to nothing else that is not a public address.

``DNS_OVERRIDES`` maps host names to IPv4 addresses, as a dict or as ``host=ip,host=ip`` on the command line.
With ``DNS_OVERRIDES_STRICT = True`` every other name fails as NXDOMAIN *without asking any resolver*, so a crawl
of a test web can never leak a lookup or a request off the machine. The special address ``SERVFAIL`` makes a name
fail as a temporary resolver error, which lets tests exercise the ``dns_error`` verdict.

Lookup failures have a kind: :class:`NXDomainError` (the name does not exist: an expired-domain opportunity) or
:class:`TemporaryDNSError` (the resolver could not answer: unknown, not broken). Twisted's HostnameEndpoint replaces
any resolver error with a plain ``DNSLookupError``, so the kind cannot travel with the exception; the resolver
remembers it per name instead, and :func:`failure_kind` tells the link checker.

Every TCP connection the HTTP download handler opens asks this resolver for its address, when it connects (Twisted's
``HostnameEndpoint`` asks the reactor's resolver for IP literals too). So this is where the address guard
(``crawler/netguard.py``) sits: an address that is loopback, private, link-local, CGNAT, multicast, reserved or
unspecified fails as :class:`BlockedAddressError` (verdict ``unknown``, reason ``blocked_address``) unless its name
is in ``DNS_OVERRIDES`` or it lies in ``ALLOWED_NETWORKS``. Pages, link checks, robots.txt and every redirect hop
connect through here, and a name is judged on the address it resolves to for this connection, cached or not, so
neither a redirect nor a name that changes its answer (DNS rebinding) gets round it. With
``DNS_OVERRIDES_STRICT`` the world is closed: an IP literal outside ``ALLOWED_NETWORKS`` is refused as well, public
or not, so a test crawl cannot leave the machine through a bare address either.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import dnscache
from scrapy.utils.datatypes import LocalCache
from twisted.internet import defer, threads
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

from crawler.netguard import IPNetwork, blocked_category, connect_address, in_networks, parse_ip, parse_networks

logger = logging.getLogger(__name__)

SERVFAIL = "SERVFAIL"
_failures: LocalCache[str, type] = LocalCache(10000)  # name -> NXDomainError | TemporaryDNSError, last lookup


class NXDomainError(DNSLookupError):
    """The name does not exist (NXDOMAIN)."""


class TemporaryDNSError(DNSLookupError):
    """The resolver failed to answer (SERVFAIL, timeout): try again later."""


class BlockedRequest(IgnoreRequest):
    """A request the address guard refused (raised by ``crawler/addressguard.py``): never retried, never sent.

    An IgnoreRequest, as Scrapy's own refusals (robots.txt, offsite) are, so that no middleware retries it or
    logs it as a download error; callbacks tell it apart by its type (reason ``blocked_address``)."""

    def __init__(self, detail: str):
        super().__init__(f"blocked_address: {detail}")
        self.detail = detail


class BlockedAddressError(DNSLookupError):
    """The name or literal leads to an address the crawler must not connect to (``crawler/netguard.py``).

    A DNSLookupError so that Twisted fails the connection quietly, before any socket is opened."""

    def __init__(self, name: str, address: str, category: str, why: str = "not in DNS_OVERRIDES or ALLOWED_NETWORKS"):
        self.name, self.address, self.category = name, address, category
        self.detail = f"{name}: {address} is {category.replace('_', '-')}, {why}"
        super().__init__(self.detail)


def parse_overrides(value: Any) -> dict[str, str]:
    """Read ``DNS_OVERRIDES`` from a dict, a JSON-ish dict from settings, or ``host=ip,host=ip``."""
    if not value:
        return {}
    if isinstance(value, dict):
        pairs = value.items()
    else:
        pairs = []
        for item in str(value).split(","):
            item = item.strip()
            if not item:
                continue
            host, sep, ip = item.partition("=")
            if not sep or not host.strip() or not ip.strip():
                raise ValueError(f"DNS_OVERRIDES: expected host=ip, got {item!r}")
            pairs.append((host, ip))
    return {str(h).strip().lower().rstrip("."): str(ip).strip() for h, ip in pairs}


def classify_gaierror(exc: socket.gaierror) -> type[DNSLookupError]:
    """NXDOMAIN-like answers are final; everything else from the system resolver is temporary."""
    if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
        return NXDomainError
    return TemporaryDNSError


def failure_kind(name: str) -> type | None:
    """How the last lookup of ``name`` failed (NXDomainError or TemporaryDNSError), or None if it did not."""
    return _failures.get(name.lower().rstrip("."))


def lookup(name: str, overrides: dict[str, str], strict: bool, allowed: tuple[IPNetwork, ...] = ()) -> str:
    """Resolve ``name`` to the address to connect to (blocking): overrides first (trusted as they are), then IP
    literals, then the system resolver unless strict; whatever is not an override is judged by the guard."""
    key = name.lower().rstrip(".")
    try:
        ip = _lookup(key, overrides, strict, allowed)
    except DNSLookupError as exc:
        _failures[key] = type(exc)
        raise
    _failures.pop(key, None)
    return ip


def _lookup(key: str, overrides: dict[str, str], strict: bool, allowed: tuple[IPNetwork, ...]) -> str:
    if key in overrides:
        ip = overrides[key]
        if ip == SERVFAIL:
            raise TemporaryDNSError(f"{key}: SERVFAIL (override)")
        return ip
    literal = parse_ip(key)
    if literal is not None:
        address = guard(key, connect_address(literal), allowed)
        if strict and not in_networks(literal, allowed):  # public, but strict means nothing off the machine
            raise BlockedAddressError(key, address, "public", "DNS_OVERRIDES_STRICT admits ALLOWED_NETWORKS only")
        return address
    if strict:
        raise NXDomainError(f"{key}: NXDOMAIN (not in DNS_OVERRIDES, DNS_OVERRIDES_STRICT is on)")
    try:
        infos = socket.getaddrinfo(key, None, socket.AF_INET, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise classify_gaierror(exc)(f"{key}: {exc.strerror}") from None
    return guard(key, infos[0][4][0], allowed)


_logged: LocalCache[str, bool] = LocalCache(1000)


def log_refusal(exc: BlockedAddressError) -> None:
    """One INFO line per refused name: pages that link to http://localhost/ or a router's 192.168.1.1 are
    common, so a refusal is routine, not a warning."""
    if exc.name not in _logged:
        _logged[exc.name] = True
        logger.info("not connecting to %s", exc.detail)


def guard(name: str, address: str, allowed: tuple[IPNetwork, ...]) -> str:
    """``address`` if a connection to it is allowed, else :class:`BlockedAddressError` naming why."""
    ip = parse_ip(address)
    category = "unparseable" if ip is None else blocked_category(ip, allowed)
    if category is not None:
        raise BlockedAddressError(name, address, category)
    return address


@implementer(IResolverSimple)
class OverrideResolver:
    """Scrapy ``TWISTED_DNS_RESOLVER``: overrides and IP literals in-process, everything else on a thread, cached
    like Scrapy's; the address guard on every answer (only allowed addresses are cached, and a cached answer is
    judged again), each refusal counted in the stats (``netguard/blocked``, ``netguard/blocked/<category>``)."""

    def __init__(self, reactor: Any, overrides: dict[str, str], strict: bool, timeout: float,
                 allowed: tuple[IPNetwork, ...] = (), stats: Any = None):
        self.reactor = reactor
        self.overrides = overrides
        self.strict = strict
        self.timeout = timeout
        self.allowed = allowed
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> OverrideResolver:
        """``crawler`` is the crawler process here (Scrapy builds the resolver once per reactor): it has settings
        but no stats; ``crawler.addressguard.GuardStats`` hands the crawler's stats over when the crawler starts."""
        s = crawler.settings
        return cls(reactor, parse_overrides(s.get("DNS_OVERRIDES")), s.getbool("DNS_OVERRIDES_STRICT"),
                   s.getfloat("DNS_TIMEOUT"), parse_networks(s.get("ALLOWED_NETWORKS")))

    def install_on_reactor(self) -> None:
        self.reactor.installResolver(self)

    def getHostByName(self, name: str, timeout: Any = ()) -> defer.Deferred:
        key = name.lower().rstrip(".")
        try:
            if name in dnscache and key not in self.overrides:
                address = guard(key, dnscache[name], self.allowed)
                _failures.pop(key, None)
                return defer.succeed(address)
            if key in self.overrides or self.strict or parse_ip(key) is not None:
                return defer.succeed(lookup(name, self.overrides, self.strict, self.allowed))
        except DNSLookupError as exc:
            _failures[key] = type(exc)
            return defer.fail(self._blocked(exc))
        d = threads.deferToThreadPool(self.reactor, self.reactor.getThreadPool(), lookup, name, self.overrides,
                                      False, self.allowed)
        d.addCallbacks(self._cache, self._blocked_failure, callbackArgs=(name,))
        return d

    def _blocked(self, exc: DNSLookupError) -> DNSLookupError:
        if isinstance(exc, BlockedAddressError):
            if self.stats is not None:
                self.stats.inc_value("netguard/blocked")
                self.stats.inc_value(f"netguard/blocked/{exc.category}")
            log_refusal(exc)
        return exc

    def _blocked_failure(self, failure: Any) -> Any:
        self._blocked(failure.value)
        return failure

    @staticmethod
    def _cache(ip: str, name: str) -> str:
        dnscache[name] = ip
        return ip

