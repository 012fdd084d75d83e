"""Hostname overrides: crawl named sites on chosen addresses (a test web on loopback, a staging mirror).

``DNS_OVERRIDES`` maps host names to IPv4 addresses, as a dict or as ``host=ip,host=ip`` on the command line.
With ``DNS_OVERRIDES_STRICT = True`` every other name fails as NXDOMAIN *without asking any resolver*, so a crawl
of a test web can never leak a lookup or a request off the machine. The special address ``SERVFAIL`` makes a name
fail as a temporary resolver error, which lets tests exercise the ``dns_error`` verdict.

Lookup failures have a kind: :class:`NXDomainError` (the name does not exist: an expired-domain opportunity) or
:class:`TemporaryDNSError` (the resolver could not answer: unknown, not broken). Twisted's HostnameEndpoint replaces
any resolver error with a plain ``DNSLookupError``, so the kind cannot travel with the exception; the resolver
remembers it per name instead, and :func:`failure_kind` tells the link checker.
"""

from __future__ import annotations

import socket
from typing import Any

from twisted.internet import defer, threads
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

from scrapy.resolver import dnscache
from scrapy.utils.datatypes import LocalCache

SERVFAIL = "SERVFAIL"
_failures: LocalCache[str, type] = LocalCache(10000)  # name -> NXDomainError | TemporaryDNSError, last lookup


class NXDomainError(DNSLookupError):
    """The name does not exist (NXDOMAIN)."""


class TemporaryDNSError(DNSLookupError):
    """The resolver failed to answer (SERVFAIL, timeout): try again later."""


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


def lookup(name: str, overrides: dict[str, str], strict: bool) -> str:
    """Resolve ``name`` to an IPv4 address (blocking): overrides first, then the system resolver unless strict."""
    try:
        ip = _lookup(name, overrides, strict)
    except DNSLookupError as exc:
        _failures[name.lower().rstrip(".")] = type(exc)
        raise
    _failures.pop(name.lower().rstrip("."), None)
    return ip


def _lookup(name: str, overrides: dict[str, str], strict: bool) -> str:
    key = name.lower().rstrip(".")
    if key in overrides:
        ip = overrides[key]
        if ip == SERVFAIL:
            raise TemporaryDNSError(f"{name}: SERVFAIL (override)")
        return ip
    try:
        socket.inet_aton(key)
        return key  # already an IPv4 literal
    except OSError:
        pass
    if strict:
        raise NXDomainError(f"{name}: NXDOMAIN (not in DNS_OVERRIDES, DNS_OVERRIDES_STRICT is on)")
    try:
        infos = socket.getaddrinfo(key, None, socket.AF_INET, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise classify_gaierror(exc)(f"{name}: {exc.strerror}") from None
    return infos[0][4][0]


@implementer(IResolverSimple)
class OverrideResolver:
    """Scrapy ``TWISTED_DNS_RESOLVER``: overrides in-process, everything else on a thread, cached like Scrapy's."""

    def __init__(self, reactor: Any, overrides: dict[str, str], strict: bool, timeout: float):
        self.reactor = reactor
        self.overrides = overrides
        self.strict = strict
        self.timeout = timeout

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> "OverrideResolver":
        s = crawler.settings
        return cls(reactor, parse_overrides(s.get("DNS_OVERRIDES")), s.getbool("DNS_OVERRIDES_STRICT"), s.getfloat("DNS_TIMEOUT"))

    def install_on_reactor(self) -> None:
        self.reactor.installResolver(self)

    def getHostByName(self, name: str, timeout: Any = ()) -> defer.Deferred:
        if name in dnscache:
            return defer.succeed(dnscache[name])
        key = name.lower().rstrip(".")
        if key in self.overrides or self.strict:
            try:
                ip = lookup(name, self.overrides, self.strict)
            except DNSLookupError as exc:
                return defer.fail(exc)
            return defer.succeed(ip)
        d = threads.deferToThreadPool(self.reactor, self.reactor.getThreadPool(), lookup, name, self.overrides, False)
        d.addCallback(self._cache, name)
        return d

    @staticmethod
    def _cache(ip: str, name: str) -> str:
        dnscache[name] = ip
        return ip
