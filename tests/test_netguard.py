"""The address guard and the hostile-URL handling around it, as plain functions (no Twisted, no sockets): which
addresses a connection may use (``crawler/netguard.py``), what the resolver answers (``crawler/dns.py``), how
hostile hosts normalize (``crawler/urls.py``) and what verdict a refusal gets. The crawl that proves nothing
reaches a canary server is ``tests/test_ssrf_crawl.py``."""

from __future__ import annotations

import ipaddress

import pytest

from crawler.checks import verdict as v
from crawler.dns import BlockedAddressError, BlockedRequest, NXDomainError, failure_kind, guard, lookup
from crawler.netguard import blocked_category, parse_ip, parse_networks
from crawler.urls import normalize_url, resolve_href


@pytest.mark.parametrize("address, category", [
    ("127.0.0.5", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.5", "loopback"),  # IPv4-mapped: the IPv4 decides
    ("64:ff9b::7f00:5", "loopback"),  # NAT64 of 127.0.0.5
    ("2002:7f00:5::1", "loopback"),  # 6to4 of 127.0.0.5
    ("8.8.8.8", None), ("93.184.216.34", None), ("2606:4700::1111", None), ("::ffff:8.8.8.8", None),
])
def test_loopback_in_every_form_is_refused_and_public_addresses_pass(address, category):
    assert blocked_category(ipaddress.ip_address(address)) == category


def test_every_special_purpose_block_of_the_table_is_refused_at_its_edges():
    """Every block of the guard's table (RFC 6890 and friends, cited there) refuses its first and last address,
    and every category is there for IPv4 and IPv6. (The tests name no address outside 127.0.0.0/8: they take them
    from the table.)"""
    from crawler.netguard import _BLOCKED

    for network, _ in _BLOCKED:  # (blocks overlap: ``::`` is unspecified inside the reserved ``::/96``)
        assert blocked_category(network[0]) is not None and blocked_category(network[-1]) is not None, network
    categories = {version: {c for n, c in _BLOCKED if n.version == version} for version in (4, 6)}
    everything = {"loopback", "private", "link_local", "multicast", "reserved", "unspecified"}
    assert categories[4] == everything | {"cgnat"} and categories[6] >= everything


def test_allowed_networks_open_holes_for_both_forms_of_an_address():
    allowed = parse_networks("127.0.0.0/29, ::1/128,127.0.1.3")
    assert [str(n) for n in allowed] == ["127.0.0.0/29", "::1/128", "127.0.1.3/32"]
    assert blocked_category(ipaddress.ip_address("127.0.0.5"), allowed) is None
    assert blocked_category(ipaddress.ip_address("::ffff:127.0.0.5"), allowed) is None
    assert blocked_category(ipaddress.ip_address("::1"), allowed) is None
    assert blocked_category(ipaddress.ip_address("127.0.0.9"), allowed) == "loopback"
    assert blocked_category(ipaddress.ip_address("127.0.1.4"), allowed) == "loopback"
    assert parse_networks(["127.0.2.0/24"]) == (ipaddress.ip_network("127.0.2.0/24"),)
    assert parse_networks("") == () and parse_networks([]) == ()
    with pytest.raises(ValueError, match="ALLOWED_NETWORKS: 'intranet'"):
        parse_networks("127.0.0.0/8,intranet")


@pytest.mark.parametrize("host, address", [
    ("127.0.0.5", "127.0.0.5"), ("2130706437", "127.0.0.5"), ("127.5", "127.0.0.5"), ("0x7f000005", "127.0.0.5"),
    ("0x7F.0.0.5", "127.0.0.5"), ("0177.0.0.5", "127.0.0.5"), ("127.000.000.005", "127.0.0.5"), ("127.0.0.5.", "127.0.0.5"),
    ("[::ffff:127.0.0.5]", "::ffff:7f00:5"), ("::1", "::1"), ("::1%lo", "::1"),
    ("example.com", None), ("cafe.be", None), ("1.2.3.com", None), ("", None),
])
def test_ip_literals_are_read_in_every_form_a_socket_or_browser_accepts(host, address):
    parsed = parse_ip(host)
    assert (None if parsed is None else parsed.compressed) == (None if address is None else ipaddress.ip_address(address).compressed)


def test_the_resolver_refuses_blocked_literals_in_any_form_and_remembers_why():
    overrides = {"site.com": "127.0.0.1", "staging.example.com": "127.0.2.3"}
    for host in ("127.0.0.5", "2130706437", "127.5", "0x7f000005", "::ffff:127.0.0.5", "[::1]"):
        for strict in (True, False):  # neither mode asks a resolver for a literal
            with pytest.raises(BlockedAddressError):
                lookup(host, overrides, strict)
            assert failure_kind(host) is BlockedAddressError
    # names in DNS_OVERRIDES are trusted wherever they point; ALLOWED_NETWORKS opens addresses by literal
    assert lookup("site.com", overrides, True) == "127.0.0.1"
    assert lookup("staging.example.com", overrides, False) == "127.0.2.3"
    assert failure_kind("site.com") is None
    allowed = parse_networks("127.0.0.5")
    assert lookup("2130706437", overrides, True, allowed) == "127.0.0.5"  # the socket gets the dotted quad
    assert lookup("::ffff:127.0.0.5", overrides, True, allowed) == "127.0.0.5"  # mapped: reached over IPv4
    # strict: a public literal would leave the machine, so it is refused too; unknown names stay NXDOMAIN
    with pytest.raises(BlockedAddressError, match="public, DNS_OVERRIDES_STRICT"):
        lookup("8.8.8.8", overrides, True)
    with pytest.raises(NXDomainError):
        lookup("unknown.example", overrides, True)


def test_a_resolved_name_is_judged_on_the_address_it_got():
    """What the threaded lookup applies to getaddrinfo's answer, and the resolver to a cached one: a public name
    that rebinds to an internal address is refused on the connection that would use the new address."""
    assert guard("rebinding.example", "93.184.216.34", ()) == "93.184.216.34"
    with pytest.raises(BlockedAddressError) as refused:
        guard("rebinding.example", "127.0.0.7", ())
    assert refused.value.category == "loopback"
    assert "rebinding.example: 127.0.0.7 is loopback" in str(refused.value)


def test_a_refused_connection_is_unknown_blocked_address_and_not_retried():
    error = BlockedAddressError("127.0.0.5", "127.0.0.5", "loopback")
    assert v.failure_reason(error, "127.0.0.5") == ("unknown", "blocked_address", False)
    assert v.failure_reason(BlockedRequest(error.detail), "127.0.0.5") == ("unknown", "blocked_address", False)
    # Twisted replaces the resolver's exception with a plain DNSLookupError: the resolver's memory decides
    from twisted.internet.error import DNSLookupError

    with pytest.raises(BlockedAddressError):
        lookup("0x7f000005", {}, True)
    assert v.failure_reason(DNSLookupError("Couldn't find the hostname '0x7f000005'"), "0x7f000005")[:2] == (
        "unknown", "blocked_address")


@pytest.mark.parametrize("href, expected", [
    ("http://[::ffff:127.0.0.5]:8080/x", "http://[::ffff:127.0.0.5]:8080/x"),
    ("http://[::1]:8080/", "http://[::1]:8080/"),
    ("https://[2606:4700::1111]:443/", "https://[2606:4700::1111]/"),
    ("http://2130706437:8080/a", "http://127.0.0.5:8080/a"),
    ("http://127.5/", "http://127.0.0.5/"),
    ("http://0x7F000005/", "http://127.0.0.5/"),
    ("http://user:secret@Example.com:80/p", "http://example.com/p"),
    ("http://token@example.com/p", "http://example.com/p"),
    ("http://:pw@example.com/", "http://example.com/"),
])
def test_hostile_hosts_normalize_to_urls_that_parse_without_credentials(href, expected):
    target, reason = resolve_href(href, "http://blog.example.org/")
    assert (target, reason) == (expected, None)
    assert normalize_url(target) == target
    from scrapy import Request

    Request(target)  # without brackets an IPv6 literal failed here: "Port could not be cast to integer"


def test_a_backlink_source_on_a_refused_address_is_unverified():
    from crawler.backlinks.decide import UNVERIFIED, failure_decision

    decision = failure_decision(BlockedRequest("127.0.0.5: 127.0.0.5 is loopback"), "127.0.0.5")
    assert (decision.state, decision.reason) == (UNVERIFIED, "blocked_address")


def test_a_cached_answer_is_judged_again():
    """Scrapy's DNS cache outlives an answer's TTL: a name cached with an internal address (rebinding) is refused
    by the resolver on the next connection, without a lookup. The Deferred has fired when it is returned."""
    from scrapy.resolver import dnscache

    from crawler.dns import OverrideResolver

    resolver = OverrideResolver(reactor=None, overrides={}, strict=False, timeout=1)
    dnscache["rebound.example"] = "127.0.0.7"
    try:
        failures = []
        resolver.getHostByName("rebound.example").addErrback(failures.append)
        assert failures and failures[0].check(BlockedAddressError)
        assert failure_kind("rebound.example") is BlockedAddressError
        dnscache["rebound.example"] = "93.184.216.34"
        answers = []
        resolver.getHostByName("rebound.example").addCallback(answers.append)
        assert answers == ["93.184.216.34"] and failure_kind("rebound.example") is None
    finally:
        dnscache.pop("rebound.example", None)


@pytest.mark.parametrize("href", ["http://[::1/", "http://[not-an-address]/", "http://[::1]:99999/"])
def test_a_broken_ipv6_literal_is_one_invalid_link(href):
    assert resolve_href(href, "http://blog.example.org/") == (None, "invalid")
