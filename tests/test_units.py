"""Plain functions, tested without Twisted: URLs, seeds, DNS overrides, verdicts, link
extraction and the Parquet part writer."""

from __future__ import annotations

import errno
import os
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
import pytest

from crawler.checks import verdict as v
from crawler.dns import (
    BlockedAddressError,
    NXDomainError,
    TemporaryDNSError,
    failure_kind,
    guard_all,
    lookup,
    lookup_all,
    order_addresses,
    parse_overrides,
)
from crawler.extract.links import extract_links
from crawler.extract.page import UnparseablePage, decode_html, is_html, page_facts, parse_html
from crawler.lake import LocalLake
from crawler.netguard import parse_networks
from crawler.seeds import read_seeds
from crawler.urls import normalize_url, registered_domain, resolve_href
from pipelines.parquet import PartWriter
from tests.records import check_row


# --- URLs
@pytest.mark.parametrize(
    "raw, expected",
    [
        ("HTTP://WWW.Example.COM:80/a/../b?z=1&a=2#frag", "http://www.example.com/b?z=1&a=2"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com:443/x y", "https://example.com/x%20y"),
        ("http://example.com:8080/p", "http://example.com:8080/p"),
        ("https://Café.com/ü", "https://xn--caf-dma.com/%C3%BC"),
    ],
)
def test_normalize_url(raw, expected):
    assert normalize_url(raw) == expected


def test_resolve_href_skips_non_targets():
    base = "https://a.com/dir/page.html"
    assert resolve_href("//cdn.b.org/x", base) == ("https://cdn.b.org/x", None)
    assert resolve_href("../up.html#top", base) == ("https://a.com/up.html", None)
    for href, reason in [("mailto:x@a.com", "mailto"), ("JavaScript:void(0)", "javascript"), ("tel:+1", "tel"),
                         ("data:text/plain,hi", "data"), ("#top", "fragment"), ("  ", "empty"), ("http://a.com:99999/", "invalid")]:
        assert resolve_href(href, base) == (None, reason)


@pytest.mark.parametrize("base", ["http://example.com/a/b?q=1#f", "https://EXAMPLE.com:8443/x/",
                                  "http://u:p@h.com/p", "https://[::1]:80/x"])
def test_resolve_href_remembered_per_origin_is_what_the_page_would_get(base):
    """hrefs starting with "/" or with their own scheme are remembered per origin (crawler/urls.py): the answer
    must be the one computed against the page's own base URL, whatever page of the origin asked first."""
    from crawler.urls import _resolve

    other_page = base.split("?")[0].rsplit("/", 1)[0] + "/elsewhere/deeper.html?x=2"
    for href in ["/", "//evil.com/x", "/a/../b", "/\\evil", "HTTP://X.COM/a/./b", "https://h:99999/", "/a?b#c",
                 "http://[::1]/", "http://u:p@h/x", "/%zz", "/ spaces in /x", "https://h/..", "http:/x", "https:x"]:
        resolve_href(href, other_page)  # remembered from another page of the origin first
        resolve_href(href, "ftp://other.org/p"), resolve_href(href, "http://other.org/p")  # and of other origins
        assert resolve_href(href, base) == _resolve(href, base), href
    long_href = "/" + "a" * 5000
    assert resolve_href(long_href, base) == _resolve(long_href, base)


def test_registered_domain_uses_the_bundled_suffix_list():
    assert registered_domain("blog.example.co.uk") == "example.co.uk"
    assert registered_domain("a.b.trail-running-club.org") == "trail-running-club.org"
    assert registered_domain("127.0.0.1") == "127.0.0.1"


# --- seeds
def test_seed_file_reports_bad_lines_and_keeps_the_rest(tmp_path):
    f = tmp_path / "seeds.txt"
    f.write_text("# comment\nexample.com\n\nhttps://blog.example.org/start  # inline note\nftp://x.com\nno dots\nexample.com\n-bad-.com\n")
    seeds, errors = read_seeds(str(f))
    assert seeds == ["http://example.com/", "https://blog.example.org/start"]
    assert [(e.line, e.message) for e in errors] == [(5, "unsupported scheme 'ftp'"), (6, "contains whitespace"), (8, "not a valid host name")]
    assert "seed line 5" in str(errors[0])


def test_seed_list_on_the_command_line():
    assert read_seeds("a.com,https://b.org/x") == (["http://a.com/", "https://b.org/x"], [])


# --- DNS overrides
def test_dns_overrides_parse_and_strict_lookup():
    overrides = parse_overrides("Site.com=127.0.0.5, flaky.com=SERVFAIL")
    assert overrides == {"site.com": ("127.0.0.5",), "flaky.com": ("SERVFAIL",)}
    assert lookup("SITE.com.", overrides, strict=True) == "127.0.0.5"
    assert lookup("127.0.0.9", overrides, strict=True, allowed=parse_networks("127.0.0.8/31")) == "127.0.0.9"
    with pytest.raises(NXDomainError):
        lookup("unknown-name.com", overrides, strict=True)  # answered without any resolver
    assert failure_kind("unknown-name.com") is NXDomainError
    with pytest.raises(TemporaryDNSError):
        lookup("flaky.com", overrides, strict=True)
    assert failure_kind("flaky.com") is TemporaryDNSError
    with pytest.raises(ValueError, match="host=ip"):
        parse_overrides("nonsense")


def test_dns_overrides_take_ipv6_and_several_addresses():
    """``host=::1`` (the first "=" splits), brackets or not, several addresses with "|" or a list, in order."""
    overrides = parse_overrides("v6.com=::1, both.com=127.0.0.2|[::1], mapped.com=::ffff:127.0.0.3")
    assert overrides == {"v6.com": ("::1",), "both.com": ("127.0.0.2", "::1"), "mapped.com": ("127.0.0.3",)}
    assert parse_overrides({"both.com": ["127.0.0.2", "0:0::1"]}) == {"both.com": ("127.0.0.2", "::1")}
    assert lookup_all("both.com", overrides, strict=True) == ("127.0.0.2", "::1")
    assert lookup("v6.com", overrides, strict=True) == "::1"
    for bad in ("typo.com=127.0.0.l", "legacy.com=127.1", "servfail.com=SERVFAIL|127.0.0.1", "empty.com=|"):
        with pytest.raises(ValueError, match="DNS_OVERRIDES"):
            parse_overrides(bad)


def test_resolver_answers_are_tried_family_by_family():
    """RFC 8305 §4: alternate the families, starting with the one the system resolver put first; an address the
    guard refuses is never handed over, and only a name with no allowed address fails."""
    assert order_addresses(["::1", "::2", "127.0.0.1", "::1", "127.0.0.2"]) == ("::1", "127.0.0.1", "::2", "127.0.0.2")
    assert order_addresses(["127.0.0.1", "::1"]) == ("127.0.0.1", "::1") and order_addresses([]) == ()
    assert guard_all("mixed.example", ("127.0.0.7", "2606:4700::1111", "93.184.216.34"), ()) == (
        "2606:4700::1111", "93.184.216.34")
    with pytest.raises(BlockedAddressError, match="127.0.0.7 is loopback"):
        guard_all("internal.example", ("127.0.0.7", "fd00::5"), ())


# --- verdicts
@pytest.mark.parametrize(
    "status, headers, expected",
    [
        (404, {}, ("broken", "http_404")), (410, {}, ("broken", "http_410")), (418, {}, ("broken", "http_4xx")),
        (500, {}, ("broken", "http_5xx")), (429, {}, ("unknown", "rate_limited")), (403, {}, ("unknown", "blocked")),
        (403, {"cf-mitigated": "challenge"}, ("unknown", "blocked")), (999, {}, ("unknown", "blocked")),
        (503, {"cf-mitigated": "challenge"}, ("unknown", "blocked")), (401, {}, ("unknown", "blocked")),
        (200, {}, None), (206, {}, None),
    ],
)
def test_status_verdict(status, headers, expected):
    assert v.status_verdict(status, headers) == expected


def test_retry_after_seconds_and_http_date():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert v.parse_retry_after("120") == 120
    later = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert v.parse_retry_after(later, now=now) == pytest.approx(30)
    assert v.parse_retry_after("soon") is None and v.parse_retry_after(None) is None


def test_soft_404_and_parked_signals():
    assert v.redirect_verdict("http://a.com/blog/2019/post.html", ["http://a.com/"]) == ("broken", "soft_404")
    assert v.redirect_verdict("http://a.com/", ["https://a.com/"]) is None  # the home page moving to https is fine
    assert v.redirect_verdict("http://old.com/", ["https://www.hugedomains.com/domain_profile.cfm?d=old.com"]) == ("broken", "parked")
    assert v.redirect_verdict("http://a.com/x", ["http://a.com/y"]) is None
    assert v.body_verdict("Page Not Found", None, "") == ("broken", "soft_404")
    assert v.body_verdict("Oops", "Error 404", "") == ("broken", "soft_404")
    assert v.body_verdict("example.net", None, "This domain is for sale! Make an offer.") == ("broken", "parked")
    assert v.body_verdict("How we found our 4040 bees", "Beekeeping", "") == ("ok", "ok")
    assert v.body_verdict("Podcast episode #404", "404 ways to brew", "") == ("ok", "ok")  # a number, not a status
    assert v.body_verdict("404", None, "") == ("broken", "soft_404")
    assert v.body_verdict("404 - Page Not Found | Shop", None, "") == ("broken", "soft_404")


# --- pages and links
def test_decode_parse_and_page_facts():
    body = '<html><head><meta charset="windows-1252"><title>Caf\xe9</title><base href="/sub/">'.encode("cp1252")
    body += b'<link rel="canonical" href="c"><meta name="robots" content="NOINDEX, follow"></head><body><h1> A  b </h1></body></html>'
    text, encoding = decode_html(body, "text/html")
    assert encoding in ("cp1252", "windows-1252") and "Café" in text
    facts = page_facts(parse_html(text), "http://a.com/x/y.html")
    assert (facts.base_url, facts.title, facts.h1) == ("http://a.com/sub/", "Café", "A b")
    assert facts.canonical_url == "http://a.com/sub/c" and facts.meta_robots == "noindex, follow"
    with pytest.raises(UnparseablePage):
        parse_html("   ")
    assert is_html(None, b"<!DOCTYPE html><html>") and not is_html("application/pdf")


def test_extract_links_rows():
    html = """<html><body><nav><a href="/in">Home</a></nav>
      <p>Read <a href="https://other.org/x#f" rel="NoFollow Sponsored">the   study</a>.</p>
      <a href="https://sub.a.com/"><img src="i.png" alt="Logo"></a> <a href="mailto:x@a.com">m</a>
      <map><area href="https://map.net/" alt="Region"></map><a name="anchor-only">x</a></body></html>"""
    when = datetime(2026, 1, 2, tzinfo=UTC)
    links = extract_links(parse_html(html), "https://a.com/page", "https://a.com/page", fetched_at=when)
    rows = links.rows
    assert [r.target_url for r in rows] == ["https://a.com/in", "https://other.org/x", "https://sub.a.com/", "https://map.net/"]
    assert [r.external for r in rows] == [False, True, False, True]
    assert rows[1].anchor_text == "the study" and rows[1].rel == ["nofollow", "sponsored"]
    assert rows[1].nofollow and rows[1].sponsored and not rows[1].ugc
    assert (rows[2].anchor_text, rows[2].link_type) == ("Logo", "image")
    assert (rows[3].tag, rows[3].anchor_text) == ("area", "Region")
    assert links.skipped == {"mailto": 1} and len(links.elements) == 4
    assert rows[1].xpath == "/html/body/p/a"
    assert [r.ordinal for r in rows] == [0, 1, 2, 3] and {r.fetched_at for r in rows} == {when}
    assert rows[0].region is None  # not placed yet


# --- Parquet parts
def test_part_writer_commits_whole_files_and_keeps_rows_when_the_disk_fails(tmp_path, monkeypatch):
    w = PartWriter("checks", LocalLake(tmp_path), "t", "w1", row_group_size=2, compression="zstd")
    tmp_path = tmp_path / "t"
    rows = [check_row(url=f"http://a.com/{i:02d}", checked_at=datetime.now(UTC)) for i in range(12)]
    w.add(rows[:3])
    assert not tmp_path.exists()  # nothing on disk before a commit
    assert w.commit() == "t/part-w1-00000.parquet"
    w.add(rows[3:7])
    (tmp_path / "part-w1-00001.parquet").mkdir()  # the next name is taken: a fresh name, never an overwrite
    (tmp_path / "_part-w1-00002.parquet.tmp").touch()  # a sealed commit's temporary file: its name is taken too

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError):
        w.commit()
    assert w.pending == 4 and len(list(tmp_path.glob("*.parquet"))) == 2  # rows kept for the next commit
    assert sorted(p.name for p in tmp_path.glob("_*")) == ["_part-w1-00002.parquet.tmp"]  # nothing half-written
    monkeypatch.undo()
    (tmp_path / "_part-w1-00002.parquet.tmp").unlink()
    assert w.commit() == "t/part-w1-00004.parquet"
    w.add(rows[7:])
    assert w.commit() is not None and w.commit() is None  # nothing pending: no empty part
    (tmp_path / "part-w1-00001.parquet").rmdir()
    files = sorted(tmp_path.glob("*.parquet"))
    assert [p.name for p in files] == ["part-w1-00000.parquet", "part-w1-00004.parquet", "part-w1-00005.parquet"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("_")]
    urls = [u for f in files for u in pq.read_table(f).column("url").to_pylist()]
    assert sorted(urls) == [r.url for r in rows]
    assert pq.read_schema(files[0]).metadata[b"linkprospector.table"] == b"checks"


def test_a_row_that_does_not_fit_the_schema_costs_only_itself(tmp_path, caplog):
    w = PartWriter("checks", LocalLake(tmp_path), ".", "w1", row_group_size=100, compression="zstd")
    now = datetime.now(UTC)
    rows = [check_row(url=f"http://a.com/{i}", checked_at=now) for i in range(5)]
    rows[2].http_status = "two hundred"  # a string where the schema says int
    w.add(rows)
    w.add([check_row(url="http://a.com/later", checked_at=now)])
    path = tmp_path / w.commit()
    assert sorted(pq.read_table(path).column("url").to_pylist()) == sorted(
        [r.url for i, r in enumerate(rows) if i != 2] + ["http://a.com/later"])
    assert w.rejected == 1 and w.pending == 0
    assert "checks row dropped" in caplog.text and "two hundred" in caplog.text


def test_failures_are_judged_by_their_type_not_by_the_url_in_their_message():
    from scrapy.exceptions import DownloadTimeoutError

    from crawler.checks.verdict import failure_reason

    slow = DownloadTimeoutError("Getting https://shop.com/ssl-certificate-guide took longer than 2.0 seconds.")
    assert failure_reason(slow, "shop.com") == ("unknown", "timeout", True)
    from OpenSSL import SSL

    assert failure_reason(SSL.Error([("SSL routines", "", "certificate verify failed")]), "x.com")[:2] == ("broken", "tls_error")
    assert failure_reason(ConnectionError("reset while fetching http://a.com/timed-out-tls"), "a.com")[:2] == ("unknown", "connection_error")


def test_no_route_to_any_address_is_unknown_not_broken():
    """An IPv6-only site seen from a machine without IPv6: connect(2) fails with ENETUNREACH (or socket(2) with
    EAFNOSUPPORT), which Twisted raises as NoRouteError / ConnectBindError. The site may be fine: unknown."""
    import errno

    from twisted.internet.error import ConnectBindError, ConnectError, getConnectError

    from crawler.checks.verdict import failure_reason

    unreachable = getConnectError((errno.ENETUNREACH, "Network is unreachable"))
    assert type(unreachable).__name__ == "NoRouteError"
    assert failure_reason(unreachable, "v6.example") == ("unknown", "no_route", False)
    for error in (ConnectError(errno.EHOSTUNREACH, "No route to host"), ConnectBindError(errno.EAFNOSUPPORT, "no v6"),
                  OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address")):
        assert failure_reason(error, "v6.example")[:2] == ("unknown", "no_route")
    refused = getConnectError((errno.ECONNREFUSED, "Connection refused"))  # seen clearly: still broken
    assert failure_reason(refused, "v6.example")[:2] == ("broken", "connection_refused")


def test_the_resolver_hands_each_address_to_twisted_with_its_family():
    """Twisted dials an IPv4Address over IPv4 whatever its text: an IPv6 answer must arrive as an IPv6Address, and
    every address of a name must arrive, in order, for HostnameEndpoint to try them in turn."""
    from twisted.internet.address import IPv4Address, IPv6Address

    from crawler.dns import OverrideResolver

    resolver = OverrideResolver(reactor=None, overrides=parse_overrides("both.com=127.0.0.2|::1,gone.com=SERVFAIL"),
                                strict=True, timeout=1)

    class Receiver:
        def __init__(self):
            self.addresses, self.done = [], False

        def resolutionBegan(self, resolution):
            pass

        def addressResolved(self, address):
            self.addresses.append(address)

        def resolutionComplete(self):
            self.done = True

    both, gone, literal = Receiver(), Receiver(), Receiver()
    resolver.resolveHostName(both, "both.com", 8080)
    resolver.resolveHostName(gone, "gone.com", 80)
    resolver.resolveHostName(literal, "[::1]", 80)  # a literal that is not allowed: no address, kind remembered
    assert both.done and both.addresses == [IPv4Address("TCP", "127.0.0.2", 8080), IPv6Address("TCP", "::1", 8080)]
    assert gone.done and gone.addresses == [] and failure_kind("gone.com") is TemporaryDNSError
    assert literal.done and literal.addresses == [] and failure_kind("[::1]") is BlockedAddressError


def test_soft_404_is_a_title_or_heading_that_says_so_in_any_language():
    cases = {
        ("Page not found | Shop", None): True,
        ("Page Not Found – MyBlog", "Oops! That page can\u2019t be found."): True,
        ("404 - File or directory not found.", "Server Error"): True,  # IIS: the h1 says nothing about it
        ("The resource cannot be found.", "Server Error in '/' Application."): True,  # ASP.NET
        ("IIS 10.0 Detailed Error - 404.0 - Not Found", None): True,
        ("Seite nicht gefunden – Brauerei", "Fehler 404: Diese Seite existiert leider nicht"): True,
        ("Erreur 404 - Brasserie", "Oups ! Cette page est introuvable."): True,
        ("Página no encontrada | Cervecería", "¡Vaya! No hemos podido encontrar esta página"): True,
        ("Página não encontrada - Cervejaria", "Erro 404"): True,
        ("Pagina non trovata", None): True,
        ("Pagina niet gevonden | Brouwerij", "Helaas, deze pagina bestaat niet (meer)"): True,
        ("Страница не найдена", None): True,
        ("Błąd 404 - nie znaleziono strony", None): True,
        ("页面不存在", "抱歉，您访问的页面找不到了"): True,
        ("ページが見つかりません | 地ビール工房", "お探しのページは見つかりませんでした"): True,
        ("Sorry, this product is no longer available | Shop", None): True,
        # about missing pages, or merely using the words: ok
        ("What a 404 error means | Webmaster Notes", "What a 404 error means"): False,
        ("404 Page Not Found - What It Means | Notes", "404 Page Not Found - What It Means"): False,
        ("404 Page Not Found - What It Means and How to Fix It", None): False,  # not a site name after the dash
        ("Seite nicht gefunden? So beheben Sie 404-Fehler", None): False,
        ("Page Not Found: Causes and Fixes", None): False,
        ("How to create a custom 404 page", None): False,
        ("Why free will does not exist", None): False,
        ("Search results for \u201ckveik\u201d | Brew Search", "Search results"): False,
        ("Nothing Found | Blog", "Nothing Found"): False,  # an empty search or archive, not a missing page
    }
    for (title, h1), expected in cases.items():
        assert v.looks_not_found(title, h1) is expected, (title, h1)


def test_parked_templates_in_other_languages_and_the_articles_that_quote_them():
    article = "Parked names say “This domain is for sale!” and “Make an offer on this domain”. " * 60
    assert len(article) > v.PARKED_TEXT_MAX
    for title, h1, text in [("hopfen-shop.com steht zum Verkauf", None, article),  # names itself: any length
                            ("x.net", "Ce nom de domaine est à vendre", ""), ("x.org", None, "¡Este dominio está a la venta!"),
                            ("x.nl", None, "Dit domein is te koop"), ("x.it", "Questo dominio è in vendita", ""),
                            ("x.pt", "Este domínio está à venda", ""), ("x.jp", None, "このドメインは販売中です"),
                            ("x.com", None, "This Web page is parked for FREE, courtesy of GoDaddy.com."),
                            ("x.com", None, "This domain name expired on 2026-10-01 and is pending renewal or deletion.")]:
        assert v.looks_parked(title, h1, text), (title, h1, text)
    assert not v.looks_parked("Domains for sale: a guide", "Domains for sale: a guide", article)
    assert not v.looks_parked("Villa in Bonn steht zum Verkauf | immobilien-bonn.de", None, article)  # not a domain
    assert v.is_parking_url("https://www.godaddy.com/forsale/old-shop.com?utm_source=x")
    assert not v.is_parking_url("https://www.godaddy.com/help/renew-a-domain")


def test_script_redirects_are_read_from_string_literals():
    js = """window.location.href = "https://sedo.com/search/?d=a.com"; top.location='/x';
            location.replace('https://dan.com/buy-domain/a.com'); document.location.assign("/y");
            if (location.href == "https://other.com/") {}"""
    assert v.script_redirects(js) == ["https://sedo.com/search/?d=a.com", "/x", "https://dan.com/buy-domain/a.com", "/y"]


def test_a_short_page_scripted_to_a_parking_host_is_parked_a_long_one_is_not():
    from crawler.checks.checker import judge_body

    page = b"<html><head><title>a.com</title><script>location = 'https://sedo.com/x?d=a.com'</script></head><body>%s</body></html>"
    assert judge_body("http://a.com/", "http://a.com/", [], page % b"<p>Loading</p>", "text/html") == (
        "broken", "parked", "https://sedo.com/x?d=a.com")
    long_text = b"<p>" + b"An article about brewing with a buy button. " * 100 + b"</p>"
    assert judge_body("http://a.com/", "http://a.com/", [], page % long_text, "text/html") == ("ok", "ok", None)
    elsewhere = page.replace(b"sedo.com", b"a.com") % b"<p>Loading</p>"  # a script to a page of its own: ok
    assert judge_body("http://a.com/", "http://a.com/", [], elsewhere, "text/html") == ("ok", "ok", None)


def test_bot_walls_are_known_by_their_words_and_meta_refresh_is_read_as_a_redirect():
    from crawler.checks import verdict as v

    amazon_like = b"<html><!-- To discuss automated access to our data please contact us --><p>Sorry!</p></html>"
    assert v.status_verdict(503, {}, amazon_like) == ("unknown", "blocked")
    assert v.status_verdict(503, {}, b"<p>Service temporarily unavailable</p>") == ("broken", "http_5xx")
    assert v.refresh_target("0; url=https://a.com/") == "https://a.com/"
    assert v.refresh_target("5;URL='/index.html'") == "/index.html"
    assert v.refresh_target("0;/") == "/"
    assert v.refresh_target("30") is None  # reloads itself: no target


def test_an_untested_scrapy_version_is_refused_in_one_line():
    from crawler.compat import check_scrapy

    check_scrapy("2.19.3")
    with pytest.raises(RuntimeError, match=r"needs Scrapy 2\.19\.x .* found 2\.20\.0: pip install 'scrapy>=2\.19,<2\.20'"):
        check_scrapy("2.20.0")


def test_a_workers_temporary_files_are_told_apart_from_a_longer_named_ones():
    from pipelines.parquet import own_temporary

    assert own_temporary("_part-node1-00003.parquet.tmp", "node1")
    assert not own_temporary("_part-node1-a-00003.parquet.tmp", "node1")  # another worker, alive perhaps
    assert own_temporary("_part-node1-a-00003.parquet.tmp", "node1-a")
    assert not own_temporary("part-node1-00003.parquet", "node1")


def test_a_crawl_id_reads_as_a_string_in_every_lake_reader(tmp_path):
    import duckdb
    import pyarrow as pa
    import pyarrow.dataset as ds

    from crawler.runinfo import new_crawl_id

    crawl = new_crawl_id()
    folder = tmp_path / "pages" / f"crawl={crawl}"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"url": ["http://a.com/"]}), folder / "part-w1-00000.parquet")
    assert ds.dataset(tmp_path / "pages", partitioning="hive").to_table().column("crawl").to_pylist() == [crawl]
    assert duckdb.sql(f"SELECT crawl FROM read_parquet('{tmp_path}/pages/*/*.parquet', hive_partitioning = true)"
                      ).fetchall() == [(crawl,)]
    try:
        import polars as pl
    except ImportError:  # not a dependency; checked when installed (it took 20261121T103000Z for a date)
        return
    assert pl.scan_parquet(f"{tmp_path}/pages/").collect()["crawl"].to_list() == [crawl]


def test_the_crawls_stats_collector_counts_as_scrapys_does():
    """crawler/stats.py drops Scrapy 2.19's per-access deprecation shim; every count a crawl reports must stay."""
    from scrapy.utils.test import get_crawler

    from crawler import settings as defaults
    from crawler.stats import StatsCollector

    crawler = get_crawler(settings_dict={name: value for name, value in vars(defaults).items() if name.isupper()})
    stats = crawler.stats
    assert type(stats) is StatsCollector
    stats.inc_value("pages/crawled")
    stats.inc_value("pages/crawled", 2)
    stats.inc_value("links/found", 5, start=10)
    stats.max_value("depth", 3)
    stats.max_value("depth", 1)
    stats.min_value("first", 7)
    stats.min_value("first", 2)
    stats.set_value("kept", "x")
    assert stats.get_value("pages/crawled") == 3
    assert stats.get_stats() == {"pages/crawled": 3, "links/found": 15, "depth": 3, "first": 2, "kept": "x"}
    assert stats.get_value("missing", 0) == 0
