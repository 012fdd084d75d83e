"""Hostname overrides, and the address guard: crawl named sites on chosen addresses (a test web on loopback, a
staging mirror), and connect to nothing else that is not a public address.

``DNS_OVERRIDES`` maps host names to addresses, IPv4 or IPv6, as a dict or as ``host=ip,host=ip`` on the command
line; a name may have several (``host=127.0.0.2|::1``, or a list in a dict), tried as a real name's A and AAAA
records are. With ``DNS_OVERRIDES_STRICT = True`` every other name fails as NXDOMAIN *without asking any resolver*,
so a crawl of a test web can never leak a lookup or a request off the machine. The special address ``SERVFAIL``
makes a name fail as a temporary resolver error, which lets tests exercise the ``dns_error`` verdict.

Both address families: a name is asked for A and AAAA records at once (``getaddrinfo`` with ``AF_UNSPEC``), so a
site with only AAAA records is reached over IPv6 instead of being taken for NXDOMAIN (a false "expired domain"). The
resolver hands Twisted's ``HostnameEndpoint`` every allowed address (it is an ``IHostnameResolver``), and the
endpoint tries them in turn, a new attempt every 0.3 s until one connects (RFC 8305, "Happy Eyeballs"): the family
that works here wins. A site none of whose addresses this machine can route to (an IPv6-only site seen from a
network without IPv6) fails with a "no route" error, which the checker calls ``unknown`` (``no_route``), not broken.

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
from collections.abc import Iterable, Sequence
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import HostResolution, dnscache
from scrapy.utils.datatypes import LocalCache
from twisted.internet import defer, threads
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IHostnameResolver, IResolverSimple
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


def parse_overrides(value: Any) -> dict[str, tuple[str, ...]]:
    """Read ``DNS_OVERRIDES`` from a dict, a JSON-ish dict from settings, or ``host=ip,host=ip``: each name to its
    addresses, in order. Several addresses are written ``a|b`` (or as a list in a dict); an IPv6 address may be
    bracketed. Anything that is not an address (or ``SERVFAIL``) raises ``ValueError`` naming it: a typo must not
    turn into a connection to somewhere else."""
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
    return {str(h).strip().lower().rstrip("."): _override_addresses(str(h), ip) for h, ip in pairs}


def _override_addresses(host: str, value: Any) -> tuple[str, ...]:
    items = value.split("|") if isinstance(value, str) else list(value)
    addresses = []
    for item in (str(i).strip() for i in items):
        if item == SERVFAIL:
            addresses.append(item)
            continue
        ip = parse_ip(item) if item else None
        if ip is None or (":" not in item and str(ip) != item):  # "127.1" is an address to inet_aton, not here
            raise ValueError(f"DNS_OVERRIDES: {host.strip()}={value}: {item!r} is not an IP address")
        addresses.append(connect_address(ip))
    if not addresses:
        raise ValueError(f"DNS_OVERRIDES: {host.strip()} has no address")
    if SERVFAIL in addresses and len(addresses) > 1:
        raise ValueError(f"DNS_OVERRIDES: {host.strip()}: SERVFAIL stands alone")
    return tuple(dict.fromkeys(addresses))


def classify_gaierror(exc: socket.gaierror) -> type[DNSLookupError]:
    """NXDOMAIN-like answers are final; everything else from the system resolver is temporary."""
    if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
        return NXDomainError
    return TemporaryDNSError


def failure_kind(name: str) -> type | None:
    """How the last lookup of ``name`` failed (NXDomainError or TemporaryDNSError), or None if it did not."""
    return _failures.get(name.lower().rstrip("."))


def lookup(name: str, overrides: dict[str, tuple[str, ...]], strict: bool, allowed: tuple[IPNetwork, ...] = ()
           ) -> str:
    """The first address :func:`lookup_all` gives: for a client that connects to one address only."""
    return lookup_all(name, overrides, strict, allowed)[0]


def lookup_all(name: str, overrides: dict[str, tuple[str, ...]], strict: bool, allowed: tuple[IPNetwork, ...] = ()
               ) -> tuple[str, ...]:
    """Resolve ``name`` to the addresses to try, in order (blocking): overrides first (trusted as they are), then
    IP literals, then the system resolver (A and AAAA) unless strict; whatever is not an override is judged by the
    guard, address by address."""
    key = name.lower().rstrip(".")
    try:
        addresses = _lookup(key, overrides, strict, allowed)
    except DNSLookupError as exc:
        _failures[key] = type(exc)
        raise
    _failures.pop(key, None)
    return addresses


def _lookup(key: str, overrides: dict[str, tuple[str, ...]], strict: bool, allowed: tuple[IPNetwork, ...]
            ) -> tuple[str, ...]:
    if key in overrides:
        addresses = overrides[key]
        if isinstance(addresses, str):  # a dict written by hand, not read by parse_overrides
            addresses = tuple(a.strip() for a in addresses.split("|"))
        if SERVFAIL in addresses:
            raise TemporaryDNSError(f"{key}: SERVFAIL (override)")
        return addresses
    literal = parse_ip(key)
    if literal is not None:
        address = guard(key, connect_address(literal), allowed)
        if strict and not in_networks(literal, allowed):  # public, but strict means nothing off the machine
            raise BlockedAddressError(key, address, "public", "DNS_OVERRIDES_STRICT admits ALLOWED_NETWORKS only")
        return (address,)
    if strict:
        raise NXDomainError(f"{key}: NXDOMAIN (not in DNS_OVERRIDES, DNS_OVERRIDES_STRICT is on)")
    try:
        # AF_UNSPEC: A and AAAA. With AF_INET, a name that has only AAAA records fails like a name that does not
        # exist (EAI_NODATA / EAI_NONAME), and an IPv6-only site became a false "expired domain".
        infos = socket.getaddrinfo(key, None, socket.AF_UNSPEC, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise classify_gaierror(exc)(f"{key}: {exc.strerror}") from None
    return guard_all(key, order_addresses(info[4][0] for info in infos), allowed)


def order_addresses(addresses: Iterable[str]) -> tuple[str, ...]:
    """The resolver's answer in the order to try it: duplicates dropped, IPv4 and IPv6 alternating from the family
    the system resolver put first (its order follows RFC 6724 and the machine's own routes), as RFC 8305 §4 asks,
    so one unreachable family costs one attempt, not all of its addresses."""
    unique = list(dict.fromkeys(addresses))
    if not unique:
        return ()
    first_v6 = ":" in unique[0]
    same = [a for a in unique if (":" in a) == first_v6]
    other = [a for a in unique if (":" in a) != first_v6]
    ordered = []
    for i in range(max(len(same), len(other))):
        ordered.extend(group[i] for group in (same, other) if i < len(group))
    return tuple(ordered)


def guard_all(name: str, addresses: Sequence[str], allowed: tuple[IPNetwork, ...]) -> tuple[str, ...]:
    """The addresses of ``addresses`` a connection may use, in order; :class:`BlockedAddressError` (the first
    refusal) when none may. A name that answers a public and an internal address is reached on the public one
    only: the internal one is never handed to a connection."""
    allowed_addresses, refusals = [], []
    for address in addresses:
        try:
            allowed_addresses.append(guard(name, address, allowed))
        except BlockedAddressError as exc:
            refusals.append(exc)
    if not allowed_addresses:
        raise refusals[0] if refusals else NXDomainError(f"{name}: no address")
    return tuple(allowed_addresses)


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


@implementer(IHostnameResolver, IResolverSimple)
class OverrideResolver:
    """Scrapy ``TWISTED_DNS_RESOLVER``: overrides and IP literals in-process, everything else on a thread, cached
    like Scrapy's; the address guard on every answer (only allowed addresses are cached, and a cached answer is
    judged again), each refusal counted in the stats (``netguard/blocked``, ``netguard/blocked/<category>``).

    Installed as the reactor's *name* resolver (``IHostnameResolver``): Twisted wraps a simple resolver's answer in
    an ``IPv4Address`` whatever it is, so an IPv6 answer would be dialled as IPv4; here every address goes to
    ``HostnameEndpoint`` with its own family, and all of a name's addresses are handed over, to be tried in turn.
    A failed lookup ends with no address, which ``HostnameEndpoint`` reports as a plain ``DNSLookupError`` (as
    it did for the simple resolver); :func:`failure_kind` keeps how it failed."""

    def __init__(self, reactor: Any, overrides: dict[str, tuple[str, ...]], strict: bool, timeout: float,
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
        self.reactor.installNameResolver(self)

    def resolve(self, name: str) -> defer.Deferred:
        """The addresses to try for ``name``, in order (a Deferred firing with a tuple of strings)."""
        key = name.lower().rstrip(".")
        try:
            if name in dnscache and key not in self.overrides:
                cached = dnscache[name]
                addresses = guard_all(key, (cached,) if isinstance(cached, str) else tuple(cached), self.allowed)
                _failures.pop(key, None)
                return defer.succeed(addresses)
            if key in self.overrides or self.strict or parse_ip(key) is not None:
                return defer.succeed(lookup_all(name, self.overrides, self.strict, self.allowed))
        except DNSLookupError as exc:
            _failures[key] = type(exc)
            return defer.fail(self._blocked(exc))
        d = threads.deferToThreadPool(self.reactor, self.reactor.getThreadPool(), lookup_all, name, self.overrides,
                                      False, self.allowed)
        d.addCallbacks(self._cache, self._blocked_failure, callbackArgs=(name,))
        return d

    def getHostByName(self, name: str, timeout: Any = ()) -> defer.Deferred:
        """``IResolverSimple``: the first address only (for callers that connect to one)."""
        return self.resolve(name).addCallback(lambda addresses: addresses[0])

    def resolveHostName(self, resolutionReceiver: Any, hostName: str, portNumber: int = 0,
                        addressTypes: Sequence[type] | None = None, transportSemantics: str = "TCP") -> Any:
        """``IHostnameResolver``: every allowed address of ``hostName``, each as the address type of its family."""
        try:
            hostName.encode("ascii")
        except UnicodeEncodeError:  # as Twisted's own resolvers do: the IDNA form goes to the lookup
            from twisted.internet._idna import _idnaBytes

            hostName = _idnaBytes(hostName).decode("ascii")
        resolution = HostResolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)

        def deliver(addresses: tuple[str, ...]) -> None:
            for address in addresses:
                kind = IPv6Address if ":" in address else IPv4Address
                if addressTypes is None or kind in addressTypes:
                    resolutionReceiver.addressResolved(kind("TCP", address, portNumber))

        d = self.resolve(hostName)
        d.addCallback(deliver)
        d.addErrback(lambda failure: None)  # no address: HostnameEndpoint fails with DNSLookupError
        d.addBoth(lambda _: resolutionReceiver.resolutionComplete())
        return resolution

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
    def _cache(addresses: tuple[str, ...], name: str) -> tuple[str, ...]:
        dnscache[name] = addresses
        return addresses
