"""Which addresses the crawler may connect to: no loopback, private, link-local, CGNAT, multicast, reserved or
unspecified address, IPv4 or IPv6, unless the operator allowed it.

Why: a crawler follows links written by strangers from inside someone's network (a Kubernetes pod next to the
cloud metadata service at 169.254.169.254, a staging box with an admin panel on 10.0.0.5). Without a guard, one
``<a href="http://169.254.169.254/latest/meta-data/">`` on a crawled page makes the link checker fetch it, write
an ``ok`` row about it and archive the answer into WARC (server-side request forgery, OWASP SSRF Prevention Cheat
Sheet). The guard is applied by the resolver (``crawler/dns.py``) to the address a connection is about to use, so
it holds for pages, link checks, robots.txt and every redirect hop alike, and a name that resolves to a public
address once and to a private one later (DNS rebinding) is judged on the address actually connected to
(docs/pitfalls.md §8).

Operators open holes deliberately: names mapped by ``DNS_OVERRIDES`` are trusted (the demo web, the tests, a
staging mirror crawled under production names), and ``ALLOWED_NETWORKS`` lists networks that may be reached by
address or by any name.

These are plain functions over strings and :mod:`ipaddress` objects; nothing here does I/O.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890) plus multicast and reserved space: every block
# that is not a public unicast host on the Internet. Each entry: (network, the category named in logs and stats).
_BLOCKED: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), category)
    for net, category in (
        ("0.0.0.0/8", "unspecified"),  # "this network" (RFC 791); 0.0.0.0 reaches the local host on Linux
        ("10.0.0.0/8", "private"),  # RFC 1918
        ("100.64.0.0/10", "cgnat"),  # shared address space, RFC 6598
        ("127.0.0.0/8", "loopback"),  # RFC 1122
        ("169.254.0.0/16", "link_local"),  # RFC 3927: cloud metadata services live here
        ("172.16.0.0/12", "private"),  # RFC 1918
        ("192.0.0.0/24", "reserved"),  # IETF protocol assignments, RFC 6890
        ("192.0.2.0/24", "reserved"),  # TEST-NET-1, RFC 5737
        ("192.88.99.0/24", "reserved"),  # 6to4 relay anycast, deprecated by RFC 7526
        ("192.168.0.0/16", "private"),  # RFC 1918
        ("198.18.0.0/15", "reserved"),  # benchmarking, RFC 2544
        ("198.51.100.0/24", "reserved"),  # TEST-NET-2, RFC 5737
        ("203.0.113.0/24", "reserved"),  # TEST-NET-3, RFC 5737
        ("224.0.0.0/4", "multicast"),  # RFC 5771
        ("240.0.0.0/4", "reserved"),  # RFC 1112, and 255.255.255.255 broadcast (RFC 919)
        ("::/128", "unspecified"),  # RFC 4291
        ("::1/128", "loopback"),  # RFC 4291
        ("::/96", "reserved"),  # IPv4-compatible addresses, deprecated by RFC 4291
        ("64:ff9b:1::/48", "private"),  # local-use IPv4/IPv6 translation, RFC 8215
        ("100::/64", "reserved"),  # discard-only, RFC 6666
        ("2001::/23", "reserved"),  # IETF protocol assignments (Teredo included), RFC 2928 / RFC 4380
        ("2001:db8::/32", "reserved"),  # documentation, RFC 3849
        ("fc00::/7", "private"),  # unique local addresses, RFC 4193
        ("fe80::/10", "link_local"),  # RFC 4291
        ("fec0::/10", "private"),  # site-local, deprecated by RFC 3879 but still routed by some stacks
        ("ff00::/8", "multicast"),  # RFC 4291
    )
)

# IPv6 prefixes that carry an IPv4 address in their last 32 bits (or, for 6to4, bits 16-47): the packet ends up at
# that IPv4 address, so it is the IPv4 address that is judged.
_MAPPED = ipaddress.ip_network("::ffff:0:0/96")  # IPv4-mapped, RFC 4291 §2.5.5.2
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix, RFC 6052
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")  # 6to4, RFC 3056

# What inet_aton(3) accepts: one to four parts, each decimal, octal (leading 0) or hex (0x). Browsers read these
# hosts as IPv4 addresses too (WHATWG URL Standard, "IPv4 parser"): http://2130706433/ is http://127.0.0.1/.
_LEGACY_IPV4 = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)(\.(0[xX][0-9a-fA-F]*|[0-9]+)){0,3}\.?$")


def parse_networks(value: Any) -> tuple[IPNetwork, ...]:
    """Read ``ALLOWED_NETWORKS``: a list, or ``"10.1.0.0/16,127.0.0.5"`` from the command line. A bare address
    is a network of one address. A malformed entry raises ``ValueError`` naming it: a typo must not silently
    leave the guard stricter (or looser) than meant."""
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    networks = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text.strip("[]"), strict=False))
        except ValueError as exc:
            raise ValueError(f"ALLOWED_NETWORKS: {text!r} is not an address or network ({exc})") from None
    return tuple(networks)


def parse_ip(host: str) -> IPAddress | None:
    """The address a URL host names, or ``None`` for a name.

    Accepts dotted quads, IPv6 with or without brackets (a zone id such as ``%eth0`` is dropped), and the legacy
    IPv4 forms that inet_aton and browsers accept (``2130706437``, ``127.5``, ``0x7f000005``, ``0177.0.0.1``):
    those reach the same address as the dotted quad, so they must be judged as that address."""
    text = host.strip().lower().strip("[]").rstrip(".") if host else ""
    if not text:
        return None
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            return None
    try:
        return ipaddress.IPv4Address(text)
    except ValueError:
        pass
    if _LEGACY_IPV4.match(text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, NAT64 or 6to4 IPv6 address delivers to, else ``None``."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip in _MAPPED or ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _SIX_TO_FOUR:
        return ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)
    return None


def blocked_category(ip: IPAddress, allowed: Iterable[IPNetwork] = ()) -> str | None:
    """Why ``ip`` may not be connected to (``loopback``, ``private``, ``link_local``, ``cgnat``, ``multicast``,
    ``reserved``, ``unspecified``), or ``None`` when it may: a public address, or one inside ``allowed``.

    An IPv6 address that carries an IPv4 address is judged as that IPv4 address (``::ffff:127.0.0.5`` is
    loopback), and is allowed when either form is inside ``allowed``."""
    if in_networks(ip, allowed):
        return None
    inner = embedded_ipv4(ip)
    target = inner if inner is not None else ip
    for network, category in _BLOCKED:
        if target.version == network.version and target in network:
            return category
    return None


def in_networks(ip: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    """``ip``, or the IPv4 address it carries, lies in one of ``networks``."""
    inner = embedded_ipv4(ip)
    return any(candidate is not None and candidate.version == net.version and candidate in net
               for net in networks for candidate in (ip, inner))


def connect_address(ip: IPAddress) -> str:
    """The text the socket layer connects to: dotted quad for IPv4 and for IPv4-mapped IPv6 (the same host over
    IPv4, which every stack can reach), IPv6 text otherwise."""
    if isinstance(ip, ipaddress.IPv6Address) and ip in _MAPPED:
        return str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return str(ip)
