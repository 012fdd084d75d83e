"""The hermetic test web: one HTTP server on loopback that plays many named sites, chosen by the Host header.

Why it exists: the crawler's product is a verdict per external link (ok / broken / unknown, with a reason) and a
set of fetched pages. Both need ground truth that never touches the network. Every name below uses an ordinary TLD
(docs/pitfalls.md §3: ``.test`` would collapse into one registered domain) and is mapped to loopback by the crawler's
``DNS_OVERRIDES`` (see ``dns_overrides``). The server listens on a free port, so every URL carries it.

Niche sites (``seeds``, crawled by the ``prospects`` spider); together they hold every link shape an extractor
must get right:

- ``gardening-notes.com``: robots.txt disallows ``/private/`` (a linked private page must not be fetched and its
  outbound link must not appear); ``<base href>`` pointing to ``/archive/``; relative, ``../`` and fragment
  links; an image link ``<a><img alt></a>``; ``rel="nofollow"``; ``javascript:``, ``mailto:``, ``tel:`` and
  ``data:`` hrefs (counted, never targets); a linked PDF and a linked JPEG; an internal 301 (``/old-guide.html``).
  Its subdomain ``blog.gardening-notes.com`` is the same site and has no robots.txt (404: allow all).
- ``trail-running-club.org``: protocol-relative links (internal and external), an image map (``<area href>``),
  the same dead link twice on one page, ``rel="sponsored ugc"`` and ``rel="noopener noreferrer"``, an internal
  broken page (``/results-2019.html``, 404) and a depth-3 page.
- ``homebrew-corner.net``: a page served as ``text/html; charset=windows-1252`` whose title and anchor text hold
  "Café crème", and one with no charset in the header but ``<meta charset="iso-8859-1">``.

``dead-links.com/gone`` is linked from all three sites (several pages each) and ``dead-links.com/teapot`` from one,
so prospects can be ranked by referring domains and pages.

External targets, and the verdict each one exists to provoke (``expected_checks``, reasons as in
``crawler.checks.verdict``). HEAD and GET give the same status and headers; HEAD has no body.

- ok: ``ok-resource.com`` (``/``, ``/guide``, ``/changing``); ``head-hater.com/page`` (HEAD 405, GET 200) and
  ``head-forbidden.com/page`` (HEAD 403, GET 200): a checker must fall back to GET before judging;
  ``moved-resource.com/old`` (301 -> ``/new``): ok with the redirect recorded; ``flaky-server.com/recovers`` (503
  with ``Retry-After: 1`` on the first hit, then 200) and ``rate-limited.com/recovers`` (429 once): a checker that
  does not retry reports false "broken" (docs/pitfalls.md §4). Hits are counted per host+path, server-side.
- broken: ``dead-links.com`` ``/gone`` 404, ``/removed`` 410, ``/teapot`` 418 (http_4xx);
  ``moved-resource.com/chain-to-404`` 302 -> 301 -> 404 (the final answer decides); ``loop.com/a`` <-> ``/b``
  (redirect_loop); ``many-hops.com/start``: 12 redirects before a 200 (too_many_redirects, cap is 10);
  ``flaky-server.com/always-500`` (http_5xx after retries); ``nxdomain-expired.com`` is absent from the overrides
  (dns_nxdomain: an expired domain); ``refused-host.com`` maps to 127.0.0.2 where nothing listens
  (connection_refused); ``https://tls-broken.com:PORT/page`` speaks TLS to this plain-HTTP port (tls_error);
  ``soft-missing.com/old-article`` is a 200 titled "Page not found" (soft_404); ``home-redirect.com``'s deep
  article 301s to ``/`` (soft_404: dead pages redirected home) and ``refresh-home.com``'s deep guide answers 200
  with a ``<meta refresh>`` to ``/`` (soft_404 too); ``expired-brand.com/`` 302s to a hugedomains.com
  sale page and ``for-sale-domain.net/`` is a 200 parking template (parked).
- unknown: ``bot-wall.com/page`` 403 with ``cf-mitigated: challenge`` and ``linkedin-like.com`` status 999
  (blocked: the page may exist), ``shop-bot-wall.com/dp/B000123`` a 503 whose only hint is an HTML comment about
  "automated access" (blocked, not http_5xx); ``rate-limited.com/always`` 429 forever (rate_limited); ``slow-host.com`` never
  answers (timeout); ``flaky-dns.com`` maps to ``SERVFAIL`` (dns_error).

Judged by their body alone (``demo/bodies.py``, linked from ``homebrew-corner.net``'s ``/suppliers.html`` and
``/reading.html``): for-sale and parking templates in seven languages, a pay-per-click parking page, a lapsed
registration, a script, a meta refresh and a 302 to a parking host or a registrar's for-sale path (parked); nginx,
Apache, IIS and ASP.NET default 404 pages served with 200 and soft-404 pages in six languages (soft_404); and pages
that use the same words and are fine: articles about 404 errors and about buying domains, a search that found
nothing, a shop whose button script goes to a marketplace, the registrar's help page (ok).

IPv6: ``ipv6-only.com`` (its only address is ``::1``: ``/`` ok, ``/old-catalogue`` 404) and ``dual-stack.com``
(``127.0.0.2|::1``: the IPv4 address refuses, ``/page`` answers over IPv6, ok) are served by a second listener on
``::1``, same port; each listener answers the other's hosts 421, so their verdicts prove the family used, and
``families`` counts requests per (host, ``ipv4``/``ipv6``). Where ``::1`` cannot be bound (``ipv6`` False) they
are neither linked nor expected.

``slow-pages.com`` (``slow_seed``, not in ``seeds``): a home page linking 12 pages that each answer after
``slow_delay`` seconds, to measure per-host concurrency. ``max_concurrency`` counts requests in flight per Host
(without port), from the moment a request is read until its response is written.

Changing web: ``version`` (default 1) may be set between two crawls to test the backlinks diff. In version 2,
``ok-resource.com/changing`` answers 404 (a link target that died), the link to ``ok-resource.com/guide`` on
gardening's tomato guide gains ``rel="nofollow"`` (a degraded link) and homebrew's equipment page drops its link
to ``ok-resource.com/`` (a lost link; the target stays linked elsewhere). ``expected_checks`` follows ``version``.

Conditional GET: the HTML pages of the niche sites carry validators and answer ``304 Not Modified`` to a request
whose validators still match (RFC 9110 §13.1): ``ETag`` (a hash of the body) and ``Last-Modified`` on
gardening-notes.com (and its blog) and trail-running-club.org, ``Last-Modified`` only on homebrew-corner.net. A page
whose body differs from version 1 is "modified" on a later date. ``answers`` logs ``(method, host, path, status,
body bytes)`` of every answer written.

Run ``python -m demo.web`` to serve the web until Ctrl-C; it prints the port, seeds and ``DNS_OVERRIDES``.
"""

from __future__ import annotations

import email.utils
import errno
import hashlib
import socket
import socketserver
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.robotparser import RobotFileParser

from crawler.urls import normalize_url
from demo import bodies

LOOPBACK = "127.0.0.1"
IPV6_LOOPBACK = "::1"
NOWHERE = "127.0.0.2"  # loopback too, but nothing listens there: connection refused
SERVFAIL = "SERVFAIL"  # the crawler's resolver treats this override as a temporary DNS failure

NICHE_HOSTS = ("gardening-notes.com", "blog.gardening-notes.com", "trail-running-club.org", "homebrew-corner.net")
SEED_HOSTS = ("gardening-notes.com", "trail-running-club.org", "homebrew-corner.net")
SLOW_HOST = "slow-pages.com"
SLOW_PAGE_COUNT = 12
TARGET_HOSTS = (
    "ok-resource.com", "head-hater.com", "head-forbidden.com", "moved-resource.com", "flaky-server.com",
    "rate-limited.com", "dead-links.com", "loop.com", "many-hops.com", "tls-broken.com", "soft-missing.com",
    "home-redirect.com", "expired-brand.com", "www.hugedomains.com", "for-sale-domain.net", "bot-wall.com",
    "linkedin-like.com", "slow-host.com", "refresh-home.com", "shop-bot-wall.com", *bodies.BODY_HOSTS,
)
# Served on ::1 only (the IPv4 listener answers them 421, the IPv6 one answers nothing else): ipv6-only.com has
# only an IPv6 address, dual-stack.com an IPv4 one where nothing listens and an IPv6 one that answers.
IPV6_HOSTS = ("ipv6-only.com", "dual-stack.com")
MANY_HOPS = 12

# (scheme, host, path) -> (verdict, reason) in version 1; the port is added by TestWeb.expected_checks.
_EXPECTED = {
    ("http", "ok-resource.com", "/"): ("ok", "ok"),
    ("http", "ok-resource.com", "/guide"): ("ok", "ok"),
    ("http", "ok-resource.com", "/changing"): ("ok", "ok"),
    ("http", "head-hater.com", "/page"): ("ok", "ok"),
    ("http", "head-forbidden.com", "/page"): ("ok", "ok"),
    ("http", "moved-resource.com", "/old"): ("ok", "ok"),
    ("http", "flaky-server.com", "/recovers"): ("ok", "ok"),
    ("http", "rate-limited.com", "/recovers"): ("ok", "ok"),
    ("http", "dead-links.com", "/gone"): ("broken", "http_404"),
    ("http", "dead-links.com", "/removed"): ("broken", "http_410"),
    ("http", "dead-links.com", "/teapot"): ("broken", "http_4xx"),
    ("http", "moved-resource.com", "/chain-to-404"): ("broken", "http_404"),
    ("http", "loop.com", "/a"): ("broken", "redirect_loop"),
    ("http", "many-hops.com", "/start"): ("broken", "too_many_redirects"),
    ("http", "flaky-server.com", "/always-500"): ("broken", "http_5xx"),
    ("http", "nxdomain-expired.com", "/page"): ("broken", "dns_nxdomain"),
    ("http", "refused-host.com", "/page"): ("broken", "connection_refused"),
    ("https", "tls-broken.com", "/page"): ("broken", "tls_error"),
    ("http", "soft-missing.com", "/old-article"): ("broken", "soft_404"),
    ("http", "home-redirect.com", "/blog/2019/05/deep-article.html"): ("broken", "soft_404"),
    ("http", "expired-brand.com", "/"): ("broken", "parked"),
    ("http", "for-sale-domain.net", "/"): ("broken", "parked"),
    ("http", "bot-wall.com", "/page"): ("unknown", "blocked"),
    ("http", "shop-bot-wall.com", "/dp/B000123"): ("unknown", "blocked"),
    ("http", "refresh-home.com", "/guides/2017/winter-pruning.html"): ("broken", "soft_404"),
    ("http", "linkedin-like.com", "/in/someone"): ("unknown", "blocked"),
    ("http", "rate-limited.com", "/always"): ("unknown", "rate_limited"),
    ("http", "slow-host.com", "/page"): ("unknown", "timeout"),
    ("http", "flaky-dns.com", "/page"): ("unknown", "dns_error"),
    **{("http", host, path): verdict for (host, path), verdict in bodies.BODY_TARGETS.items()},
}
# Linked, and so checked, only where this machine has an IPv6 loopback (TestWeb.ipv6)
_EXPECTED_IPV6 = {
    ("http", "ipv6-only.com", "/"): ("ok", "ok"),
    ("http", "ipv6-only.com", "/old-catalogue"): ("broken", "http_404"),
    ("http", "dual-stack.com", "/page"): ("ok", "ok"),
}


@dataclass(frozen=True)
class Reply:
    """One canned answer. ``delay`` waits before answering; ``hang`` never answers."""

    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    hang: bool = False


def _html(title: str, text: str = "", status: int = 200, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    body = (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title></head>\n'
            f"<body><h1>{title}</h1>{text}</body></html>\n")
    return Reply(status, body.encode(), headers=headers)


def _redirect(status: int, location: str) -> Reply:
    return Reply(status, f'<a href="{location}">Moved</a>\n'.encode(), headers=(("Location", location),))


NOT_FOUND = _html("404 Not Found", "<p>The requested page does not exist.</p>", 404)
HANG = Reply(0, hang=True)
_REASON_PHRASES = {999: "Request denied"}


def _page(site: str, title: str, article: str, *, nav: str, sidebar: str = "", meta: str = '<meta charset="utf-8">',
          head: str = "") -> str:
    """A realistic small page: header with nav, main article, sidebar, footer (link positions differ in each)."""
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head>{meta}<title>{title} | {site}</title>{head}</head>\n<body>\n'
        f'<header><a class="logo" href="/">{site}</a>\n<nav>{nav}</nav></header>\n'
        f"<main><article><h1>{title}</h1>\n{article}\n</article></main>\n"
        f'<aside class="sidebar">{sidebar}</aside>\n'
        f'<footer><p>&copy; 2024 {site}. Written by hand, no cookies.</p> <a href="/">Home</a></footer>\n'
        "</body></html>\n"
    )


def _utf8(text: str, status: int = 200) -> Reply:
    return Reply(status, text.encode())


def _niche_sites(u: Callable[..., str], port: int, version: int, ipv6: bool = False) -> dict[str, dict[str, Reply]]:
    """host -> path -> Reply for the three seed sites (and the blog subdomain). ``u(host, path)`` makes a URL;
    ``port`` is for the protocol-relative and https links; ``ipv6``: link the targets served on ::1."""
    g, b, t, h = NICHE_HOSTS
    ok, dead = "ok-resource.com", "dead-links.com"
    robots = lambda text: Reply(200, text.encode(), "text/plain")  # noqa: E731

    g_nav = (f'<a href="/">Home</a> <a href="/guides/">Guides</a> <a href="{u(b)}">Blog</a> '
             '<a href="/about.html">About</a>')
    guide_rel = ' rel="nofollow"' if version >= 2 else ""
    gardening = {
        "/robots.txt": robots("User-agent: *\nDisallow: /private/\n"),
        "/": _utf8(_page(g, "Gardening Notes", (
            "<p>Notes from a small allotment: what grew, what failed and what we would plant again next spring.</p>\n"
            '<p>Start with our <a href="/guides/">growing guides</a>, or read the '
            '<a href="/old-guide.html">classic tomato guide</a>.</p>\n'
            f'<p>The seasonal diary lives on <a href="{u(b)}">the blog</a>.</p>'),
            nav=g_nav, sidebar=f'<h2>Friends</h2><a href="{u(dead, "/gone")}">Regional seed swap directory</a>')),
        "/old-guide.html": _redirect(301, u(g, "/guides/tomatoes.html")),
        "/guides/": _utf8(_page(g, "Growing guides", (
            '<ul><li><a href="tomatoes.html">Tomatoes</a> (see <a href="tomatoes.html#watering">watering</a>)</li>\n'
            '<li><a href="roses.html">Roses</a></li></ul>\n'
            '<p>Print the <a href="/files/seed-calendar.pdf">seed calendar (PDF)</a> or look at '
            '<a href="/images/tomato.jpg">a photo of this year\'s crop</a>.</p>\n'
            '<p>New here? Read <a href="../about.html">about us</a>.</p>'), nav=g_nav)),
        "/guides/tomatoes.html": _utf8(_page(g, "Growing tomatoes", (
            "<p>Tomatoes want sun, rich soil and steady water. Pinch out side shoots on cordon varieties.</p>\n"
            f'<p>Before planting, follow this <a href="{u(ok, "/guide")}"{guide_rel}>soil testing guide</a> and keep '
            f'the <a href="{u("moved-resource.com", "/old")}">blight factsheet</a> at hand.</p>\n'
            '<h2 id="watering">Watering</h2>\n'
            f'<p>Water at the base in the morning; our <a href="{u("flaky-server.com", "/recovers")}">local weather '
            f'station</a> tells you when to skip a day. An <a href="{u("soft-missing.com", "/old-article")}" '
            'rel="nofollow">old forum thread</a> has more tips.</p>\n'
            f'<p><a href="{u(ok)}"><img src="/images/tomato.jpg" alt="Ripe tomatoes on the vine"></a></p>'),
            nav=g_nav, sidebar=f'<a href="{u(dead, "/gone")}">Seed swap</a>')),
        "/guides/roses.html": _utf8(_page(g, "Roses for beginners", (
            "<p>Roses forgive a lot. Prune in late winter, feed in spring, mulch in autumn.</p>\n"
            '<p>Clippings go into the heap: see <a href="composting.html">composting rose clippings</a> and, '
            'for comparison, the <a href="../guides/tomatoes.html">tomato guide</a>.</p>\n'
            f'<p>We feed with <a href="{u("expired-brand.com")}">RoseBrand fertiliser</a>, prune as in '
            f'<a href="{u("home-redirect.com", "/blog/2019/05/deep-article.html")}">this pruning article</a> and '
            f'buy bare roots from the <a href="{u(dead, "/removed#members")}">rose society list</a>.</p>'),
            nav=g_nav, head=f'<base href="{u(g, "/archive/")}">')),
        "/archive/composting.html": _utf8(_page(g, "Composting rose clippings", (
            "<p>Chop thorny stems small, mix with greens, turn the heap monthly.</p>\n"
            f'<p>Bins from the <a href="{u("for-sale-domain.net")}">compost bin shop</a>; worms from a '
            f'<a href="{u("nxdomain-expired.com", "/page")}">worm farm supplier</a>.</p>'), nav=g_nav)),
        "/about.html": _utf8(_page(g, "About us", (
            "<p>Two allotment holders writing down what works.</p>\n"
            '<p><a href="mailto:hello@gardening-notes.com">Email us</a>, <a href="tel:+441234567890">call us</a>, '
            '<a href="javascript:void(0)">subscribe</a> or grab our <a href="data:text/plain;base64,SGVsbG8=">card</a>.'
            '</p>\n<p>Members can read the <a href="/private/notes.html">plot notes</a>.</p>\n'
            f'<p>We belong to <a href="{u(ok, "/changing")}">our allotment association</a>.</p>'), nav=g_nav)),
        "/private/notes.html": _utf8(_page(g, "Plot notes (members)", (
            f'<p>Robots.txt disallows this page: <a href="{u(ok, "/private-only")}">never checked</a>.</p>'),
            nav=g_nav)),
        "/files/seed-calendar.pdf": Reply(200, b"%PDF-1.4\n% seed calendar\n%%EOF\n", "application/pdf"),
        "/images/tomato.jpg": Reply(200, b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\xff\xd9", "image/jpeg"),
    }
    b_nav = f'<a href="/">Blog</a> <a href="{u(g)}">Gardening Notes</a>'
    blog = {
        "/": _utf8(_page(b, "The allotment diary", (
            '<p>Latest: <a href="/2023/spring-planting.html">spring planting</a>.</p>\n'
            f'<p>Swap spare seedlings via the <a href="{u(dead, "/gone")}">seed swap</a>.</p>'), nav=b_nav)),
        "/2023/spring-planting.html": _utf8(_page(b, "Spring planting", (
            "<p>Wait for the soil to warm before sowing beans.</p>\n"
            f'<p>Check the <a href="{u("loop.com", "/a")}">frost calendar</a> and read our '
            f'<a href="https://tls-broken.com:{port}/page">soil thermometer review</a>.</p>'), nav=b_nav)),
    }

    t_nav = ('<a href="/">Home</a> <a href="/races/">Races</a> '
             f'<a href="//{t}:{port}/training/hills.html">Training</a> <a href="/club/join.html">Join</a>')
    trail = {
        "/robots.txt": robots("User-agent: *\nDisallow: /admin/\n"),
        "/": _utf8(_page(t, "Trail Running Club", (
            "<p>We run the hills every Saturday at eight, rain or shine.</p>\n"
            '<img src="/images/course-map.png" usemap="#course" alt="Course map">\n<map name="course">'
            '<area shape="rect" coords="0,0,100,100" href="/training/hills.html" alt="Hill section">'
            f'<area shape="rect" coords="100,0,200,100" href="{u("many-hops.com", "/start")}" '
            'alt="Aid station sponsor">'
            f'</map>\n<p>See the <a href="//{t}:{port}/races/">race calendar</a> and the '
            '<a href="/results-2019.html">2019 results</a>.</p>'), nav=t_nav)),
        "/results-2019.html": _utf8(_page(t, "Page not found", "<p>No such page.</p>", nav=t_nav), 404),
        "/races/": _utf8(_page(t, "Races", (
            '<p>Our main event: the <a href="2024/mountain-50k.html">Mountain 50K</a> '
            '(<a href="2024/mountain-50k.html#route">route</a>).</p>'),
            nav=t_nav, sidebar=f'<a href="{u(dead, "/gone")}">Old regional race calendar</a>')),
        "/races/2024/mountain-50k.html": _utf8(_page(t, "Mountain 50K", (
            "<p>Fifty kilometres, 2,400 metres of climbing, three aid stations.</p>\n"
            f'<p>Prepare with <a href="../../training/hills.html">hill training</a>. Entries via '
            f'<a href="{u("bot-wall.com", "/page")}">registration</a>; chip timing by our '
            f'<a href="{u("head-hater.com", "/page")}">timing partner</a>; ask the '
            f'<a href="{u("linkedin-like.com", "/in/someone")}">race director</a>.</p>\n'
            f'<p>Follow runners on <a href="{u("slow-host.com", "/page")}">live tracking</a>, book the '
            f'<a href="{u("flaky-dns.com", "/page")}">shuttle bus</a>, download the '
            f'<a href="{u("moved-resource.com", "/chain-to-404")}">course GPX</a>. Past editions are in the '
            f'<a href="{u(dead, "/gone")}">old race calendar</a>.</p>'),
            nav=t_nav, sidebar=f'<a href="{u(dead, "/gone")}">Regional race calendar</a>')),
        "/training/hills.html": _utf8(_page(t, "Hill repeats", (
            "<p>Six to ten repeats of ninety seconds, jog down easy.</p>\n"
            f'<p>Log them in the <a href="{u("rate-limited.com", "/recovers")}">training plan app</a>, discuss on '
            f'the <a href="{u("rate-limited.com", "/always")}">heart-rate forum</a>, see a '
            f'<a href="{u(dead, "/teapot")}">sports physio</a> if your calves complain, and stretch with this '
            f'<a href="//{ok}:{port}/guide">stretching guide</a>.</p>'), nav=t_nav)),
        "/club/join.html": _utf8(_page(t, "Join the club", (
            "<p>Membership is twenty pounds a year and includes a club vest.</p>\n"
            f'<p>Discounts from our <a href="{u(ok)}" rel="sponsored ugc">shoe partner</a> and a '
            f'<a href="{u("head-forbidden.com", "/page")}" rel="noopener noreferrer" target="_blank">gait analysis '
            f'clinic</a>. Kit from the <a href="{u("refused-host.com", "/page")}">club kit shop</a>; old '
            f'<a href="{u("flaky-server.com", "/always-500")}" rel="nofollow">photo gallery</a>.</p>'), nav=t_nav)),
    }

    h_nav = ('<a href="/">Home</a> <a href="/recipes/">Recipes</a> <a href="/equipment.html">Equipment</a> '
             '<a href="/sponsors.html">Sponsors</a>')
    equipment_ok = f'Our <a href="{u(ok)}">fermenter review</a> still holds. ' if version < 2 else ""
    suppliers, reading = bodies.links(u)
    v6_suppliers = "".join(f'\n<li><a href="{u(host, path)}">{host}</a></li>'
                           for _, host, path in _EXPECTED_IPV6) if ipv6 else ""
    homebrew = {
        "/robots.txt": robots("User-agent: *\nDisallow: /cgi-bin/\n"),
        "/": _utf8(_page(h, "Homebrew Corner", (
            '<p>Small-batch beer at home. Start with our <a href="/recipes/">recipes</a>.</p>\n'
            f'<p>Older questions are in the <a href="{u(dead, "/gone")}">brewing forum archive</a>.</p>\n'
            '<p>Brewing abroad? See <a href="/suppliers.html">suppliers</a> and <a href="/reading.html">further '
            "reading</a>.</p>"), nav=h_nav)),
        "/recipes/": _utf8(_page(h, "Recipes", (
            '<ul><li><a href="cafe-creme-stout.html">Café crème stout</a></li>\n'
            '<li><a href="biere-de-garde.html">Bière de garde</a></li></ul>'), nav=h_nav)),
        "/recipes/cafe-creme-stout.html": Reply(200, _page(h, "Café crème stout", (
            "<p>A sweet stout with cold-brewed coffee added at bottling.</p>\n"
            f'<p>Coffee notes from the <a href="{u(ok, "/guide")}">Café crème brewing guide</a>; malt from a '
            f'<a href="{u(dead, "/removed")}">malt supplier</a>.</p>'), nav=h_nav, meta="").encode("cp1252"),
            "text/html; charset=windows-1252"),
        "/recipes/biere-de-garde.html": Reply(200, _page(h, "Bière de garde", (
            "<p>A malty farmhouse ale, lagered cold for six weeks.</p>\n"
            f'<p>Method: <a href="{u(ok, "/changing")}">Bière de garde à l\'ancienne</a>. Hops from the '
            f'<a href="{u("for-sale-domain.net")}">hop merchant</a>.</p>'), nav=h_nav,
            meta='<meta charset="iso-8859-1">').encode("latin-1"), "text/html"),
        "/equipment.html": _utf8(_page(h, "Equipment", (
            f"<p>{equipment_ok}A good <a href=\"{u('head-forbidden.com', '/page')}\">thermometer</a> matters more "
            f'than a shiny kettle. Kegging: see this <a href="{u("soft-missing.com", "/old-article")}">kegging '
            "tutorial</a>.</p>\n"
            f'<p>For cellar days, a <a href="{u("shop-bot-wall.com", "/dp/B000123")}">red-light headlamp</a>; '
            f'for the hop garden, the <a href="{u("refresh-home.com", "/guides/2017/winter-pruning.html")}">winter '
            "pruning guide</a>.</p>"), nav=h_nav)),
        "/suppliers.html": _utf8(_page(h, "Suppliers abroad", (
            f"<p>Shops and breweries our readers sent in.</p>\n<ul>\n{suppliers}{v6_suppliers}\n</ul>"), nav=h_nav)),
        "/reading.html": _utf8(_page(h, "Further reading", f"<ul>\n{reading}\n</ul>", nav=h_nav)),
        "/sponsors.html": _utf8(_page(h, "Sponsors", (
            f'<p>Yeast by <a href="{u("expired-brand.com")}" rel="sponsored">BrandX Yeast</a>; bottles from the '
            f'<a href="{u("moved-resource.com", "/old")}">bottle shop</a>.</p>'), nav=h_nav)),
    }
    return {g: gardening, b: blog, t: trail, h: homebrew}


def _slow_site(u: Callable[..., str], delay: float) -> dict[str, Reply]:
    links = "".join(f'<li><a href="/page-{i}.html">Page {i}</a></li>' for i in range(1, SLOW_PAGE_COUNT + 1))
    site = {"/robots.txt": Reply(200, b"User-agent: *\nDisallow:\n", "text/plain"),
            "/": _utf8(_page(SLOW_HOST, "Slow pages", f"<ul>{links}</ul>", nav='<a href="/">Home</a>'))}
    for i in range(1, SLOW_PAGE_COUNT + 1):
        page = _page(SLOW_HOST, f"Slow page {i}", "<p>Worth the wait.</p>", nav='<a href="/">Home</a>')
        site[f"/page-{i}.html"] = Reply(200, page.encode(), delay=delay)
    return site


def _target(u: Callable[..., str], version: int, method: str, host: str, path: str, hit: int) -> Reply:
    """The answer of an external target host; ``hit`` is how many times this host+path was asked (1 = first)."""
    head = method == "HEAD"
    if (body_target := bodies.answer(u, host, path)) is not None:
        status, headers, body = body_target
        return Reply(status, body, headers=headers)
    if host == "ipv6-only.com":
        return _html("IPv6-only Brewing Supplies", "<p>Reached over IPv6.</p>") if path == "/" else NOT_FOUND
    if host == "dual-stack.com":
        return _html("Dual Stack Malts", "<p>Reached over IPv6.</p>") if path == "/page" else NOT_FOUND
    if host == "ok-resource.com":
        if path in ("/", "/guide") or (path == "/changing" and version < 2):
            return _html("OK Resource", "<p>Everything is where it should be.</p>")
        return NOT_FOUND
    if host == "head-hater.com" and path == "/page":
        return Reply(405, headers=(("Allow", "GET"),)) if head else _html("Head Hater", "<p>GET works.</p>")
    if host == "head-forbidden.com" and path == "/page":
        return _html("Forbidden", "", 403) if head else _html("Head Forbidden", "<p>GET works.</p>")
    if host == "moved-resource.com":
        hops = {"/old": (301, "/new"), "/chain-to-404": (302, "/chain-step"), "/chain-step": (301, "/chain-end")}
        if path in hops:
            return _redirect(hops[path][0], u(host, hops[path][1]))
        return _html("Moved here", "<p>The new home.</p>") if path == "/new" else NOT_FOUND
    if host == "flaky-server.com":
        if path == "/recovers":
            return _html("Back", "<p>Recovered.</p>") if hit > 1 else _html("Busy", "", 503, (("Retry-After", "1"),))
        return _html("Server error", "", 500) if path == "/always-500" else NOT_FOUND
    if host == "rate-limited.com" and path in ("/recovers", "/always"):
        if path == "/recovers" and hit > 1:
            return _html("Training plan", "<p>Welcome back.</p>")
        return _html("Too many requests", "", 429, (("Retry-After", "1"),))
    if host == "dead-links.com":
        gone = {"/": 200, "/removed": 410, "/teapot": 418}.get(path, 404)
        return _html("Dead Links" if gone == 200 else f"Error {gone}", "", gone)
    if host == "loop.com" and path in ("/a", "/b"):
        return _redirect(302, "/b" if path == "/a" else "/a")  # relative Location on purpose
    if host == "many-hops.com":  # /start -> /hop/1 -> ... -> /hop/11 -> /end: MANY_HOPS redirects, then a 200
        hops = {"/start": "/hop/1", **{f"/hop/{i}": f"/hop/{i + 1}" for i in range(1, MANY_HOPS - 1)},
                f"/hop/{MANY_HOPS - 1}": "/end"}
        if path in hops:
            return _redirect(301, u(host, hops[path]))
        return _html("The end") if path == "/end" else NOT_FOUND
    if host == "soft-missing.com":  # every path but the home page is a 200 "not found" page
        if path == "/":
            return _html("Soft Missing Magazine", "<p>Articles about everything.</p>")
        return _html("Page not found", "<p>Sorry, we could not find that page. Try the search box.</p>")
    if host == "home-redirect.com":  # dead articles are sent to the home page
        return _html("Home Redirect Journal", "<p>Latest posts.</p>") if path == "/" else _redirect(301, u(host, "/"))
    if host == "expired-brand.com":
        return _redirect(302, u("www.hugedomains.com", "/domain_profile.cfm?d=expired-brand.com"))
    if host == "www.hugedomains.com":
        return _html("expired-brand.com is for sale | HugeDomains", "<p>Buy now for $2,995 or make an offer.</p>")
    if host == "for-sale-domain.net":  # a wildcard parking template: same page on every path
        return _html("for-sale-domain.net", "<p>This domain is for sale! Buy now / make an offer.</p>")
    if host == "bot-wall.com":
        return _html("Just a moment...", "<p>Checking your browser.</p>", 403, (("cf-mitigated", "challenge"),))
    if host == "shop-bot-wall.com":  # a 503 bot page that says what it is in an HTML comment only
        return Reply(503, b"<!DOCTYPE html><html><head><title>Sorry! Something went wrong!</title></head><body>"
                          b"<!-- To discuss automated access to our data please contact api-services@example.com -->"
                          b"<p>Sorry! Something went wrong on our end.</p></body></html>")
    if host == "refresh-home.com":  # dead guides answer 200 with a <meta refresh> to the home page
        if path == "/":
            return _html("Refresh Home Gardening", "<p>Latest guides.</p>")
        return Reply(200, b'<!DOCTYPE html><html><head><meta http-equiv="refresh" content="0; url=/">'
                          b"<title>Redirecting</title></head><body><p>Redirecting...</p></body></html>")
    if host == "linkedin-like.com":
        return _html("Request denied", "", 999)
    if host == "slow-host.com":
        return HANG
    if host == "tls-broken.com":  # only reachable by plain HTTP; over TLS the handshake fails first
        return _html("Plain page")
    if host in TARGET_HOSTS:
        return NOT_FOUND
    return _html("Misdirected request", f"<p>{host!r} is not a host of this web.</p>", 421)


def _http_date(value: str) -> float:
    """An HTTP date as a timestamp; an unreadable one is 0 (never fresh)."""
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return 0.0


def _bare_host(header: str) -> str:
    """``Host`` header -> host name without port, lower case."""
    host = header.strip().lower()
    name, _, port = host.rpartition(":")
    return (name if name and port.isdigit() else host).rstrip(".")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    web: TestWeb

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a client that hangs up mid-answer is normal here
            super().handle_error(request, client_address)


class _Server6(_Server):
    """The ::1 listener, for the hosts in ``IPV6_HOSTS``."""

    address_family = socket.AF_INET6

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks getfqdn("::1"): a reverse lookup that /etc/hosts may not answer, and a DNS
        # query must not leave the machine. The name is not needed.
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = IPV6_LOOPBACK, self.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as crawlers use it
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.web._track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.web._track(self.connection, open_=False)

    def handle(self) -> None:
        """A TLS ClientHello (first byte 0x16) gets a plain-text answer at once: the client's handshake fails with
        a TLS error instead of both sides waiting for each other until a timeout."""
        try:
            first = self.connection.recv(1, socket.MSG_PEEK)
            if first == b"\x16":
                body = b"This port speaks plain HTTP.\n"
                self.wfile.write(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                return
        except OSError:
            return
        if first:
            super().handle()

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def _serve(self, method: str) -> None:
        web = self.server.web
        host = _bare_host(self.headers.get("Host", ""))
        ipv6 = self.server.address_family == socket.AF_INET6
        hit = web._begin(method, host, self.path, ipv6)
        try:
            reply = web._misdirected(host, ipv6) or web._answer(method, host, self.path, hit)
            if reply.hang or reply.delay:
                web._stopping.wait(web.hang_seconds if reply.hang else reply.delay)
            if reply.hang or web._stopping.is_set():
                self.close_connection = True  # no answer at all
                return
            reply = web._conditional(host, self.path, reply, self.headers)
            self.send_response(reply.status, _REASON_PHRASES.get(reply.status))
            if reply.status != 304:
                self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers:
                self.send_header(name, value)
            if reply.status != 304:  # RFC 9110 §15.4.5: a 304 has no content
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            sent = len(reply.body) if method != "HEAD" and reply.status != 304 else 0
            if sent:
                self.wfile.write(reply.body)
            web._answered(method, host, self.path, reply.status, sent)
        except OSError:
            self.close_connection = True
        finally:
            web._end(host)

    def log_message(self, format: str, *args) -> None:
        pass


class TestWeb:
    """The test web as a context manager: ``with TestWeb() as web: ...``. See the module docstring."""

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self, host: str = LOOPBACK, port: int = 0, slow_delay: float = 0.3, hang_seconds: float = 30):
        self.host, self.port = host, port
        self.slow_delay, self.hang_seconds = slow_delay, hang_seconds
        self.version = 1
        self.max_concurrency: dict[str, int] = {}
        self.requests: list[tuple[str, str, str]] = []
        self.ipv6 = False  # set by start(): the IPv6 hosts are served (and linked) only if ::1 could be bound
        self.families: Counter[tuple[str, str]] = Counter()  # (host, "ipv4" | "ipv6") -> requests received
        self.answers: list[tuple[str, str, str, int, int]] = []  # method, host, path, status, body bytes sent
        self._hits: Counter[tuple[str, str]] = Counter()
        self._in_flight: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._sites: tuple[tuple[int, int], dict[str, dict[str, Reply]]] | None = None
        self._first: tuple[int, dict[str, dict[str, Reply]]] | None = None  # version 1's pages: Last-Modified
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._server6: _Server6 | None = None
        self._thread6: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------------------------
    def start(self) -> TestWeb:
        if self._server is not None:
            raise RuntimeError("TestWeb already started")
        self._stopping.clear()
        for attempt in range(20):  # the ::1 listener takes the IPv4 listener's port, so URLs stay one per host
            self._server = _Server((self.host, self.port), _Handler)
            try:
                self._server6 = _Server6((IPV6_LOOPBACK, self._server.server_address[1]), _Handler)
            except OSError as exc:
                self._server6 = None
                if exc.errno == errno.EADDRINUSE and not self.port and attempt < 19:
                    self._server.server_close()  # that port is taken on ::1: draw another one
                    continue
                if exc.errno not in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):  # no IPv6 loopback here: fine
                    self._server.server_close()
                    raise
            break
        self.port = self._server.server_address[1]
        self.ipv6 = self._server6 is not None
        for server in (self._server, self._server6):
            if server is not None:
                server.web = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"test-web:{self.port}", daemon=True)
        self._thread.start()
        if self._server6 is not None:
            self._thread6 = threading.Thread(target=self._server6.serve_forever, kwargs={"poll_interval": 0.05},
                                             name=f"test-web6:{self.port}", daemon=True)
            self._thread6.start()
        return self

    def stop(self) -> None:
        """Stop accepting, wake every waiting handler, close every open connection, join the threads (<= 5 s)."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        if self._server6 is not None:
            self._server6.shutdown()
            self._server6.server_close()
        with self._lock:
            open_connections = dict(self._connections)
        for conn in open_connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        deadline = time.monotonic() + 5
        for thread in [self._thread, self._thread6, *open_connections.values()]:
            if thread is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        self._server = self._thread = self._server6 = self._thread6 = None

    def __enter__(self) -> TestWeb:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- addresses and ground truth --------------------------------------------------------------------------------
    def url(self, host: str, path: str = "/") -> str:
        if not self.port:
            raise RuntimeError("TestWeb: call start() first, the port is not known yet")
        return f"http://{host}:{self.port}{path}"

    @property
    def dns_overrides(self) -> dict[str, str]:
        overrides = {host: self.host for host in (*NICHE_HOSTS, SLOW_HOST, *TARGET_HOSTS)}
        return {**overrides, "refused-host.com": NOWHERE, "flaky-dns.com": SERVFAIL,  # nxdomain-expired.com: absent
                "ipv6-only.com": IPV6_LOOPBACK, "dual-stack.com": f"{NOWHERE}|{IPV6_LOOPBACK}"}

    @property
    def seeds(self) -> list[str]:
        return [self.url(host) for host in SEED_HOSTS]

    @property
    def slow_seed(self) -> str:
        return self.url(SLOW_HOST)

    @property
    def expected_checks(self) -> dict[str, tuple[str, str]]:
        expected = {**_EXPECTED, **(_EXPECTED_IPV6 if self.ipv6 else {})}
        checks = {normalize_url(f"{scheme}://{host}:{self.port}{path}"): verdict
                  for (scheme, host, path), verdict in expected.items()}
        if self.version >= 2:
            checks[normalize_url(self.url("ok-resource.com", "/changing"))] = ("broken", "http_404")
        return checks

    @property
    def expected_pages(self) -> set[str]:
        """Every URL of the seed sites that robots.txt allows: pages, the PDF and JPEG, the internal 404 and the
        URL that answers the internal 301 (the crawler requests it; its target is a page as well)."""
        pages = set()
        for host, site in self._site_table().items():
            if host == SLOW_HOST:
                continue
            robots = RobotFileParser()
            robots.parse(site["/robots.txt"].body.decode().splitlines() if "/robots.txt" in site else [])
            pages |= {normalize_url(self.url(host, path)) for path in site
                      if path != "/robots.txt" and robots.can_fetch("*", self.url(host, path))}
        return pages

    @property
    def slow_expected_pages(self) -> set[str]:
        """The slow site's home page and its 12 slow pages."""
        slow_site = self._site_table()[SLOW_HOST]
        return {normalize_url(self.url(SLOW_HOST, path)) for path in slow_site if path != "/robots.txt"}

    def reset_counters(self) -> None:
        """Forget the request log, the concurrency maxima and the per-URL hit counts (flaky targets fail again)."""
        with self._lock:
            self.requests.clear()
            self.answers.clear()
            self.max_concurrency.clear()
            self.families.clear()
            self._hits.clear()

    # --- serving ---------------------------------------------------------------------------------------------------
    def _site_table(self) -> dict[str, dict[str, Reply]]:
        """host -> path -> Reply for the crawlable sites, rebuilt when ``version`` changes."""
        if self._sites is None or self._sites[0] != (self.version, self.port):
            sites = _niche_sites(self.url, self.port, self.version, self.ipv6)
            self._sites = ((self.version, self.port), {**sites, SLOW_HOST: _slow_site(self.url, self.slow_delay)})
        return self._sites[1]

    @staticmethod
    def _misdirected(host: str, ipv6: bool) -> Reply | None:
        """Each listener plays only its own hosts (421 for the others): an answer proves the address family."""
        if (host in IPV6_HOSTS) != ipv6:
            return _html("Misdirected request", f"<p>{host!r} is not served on this address.</p>", 421)
        return None

    def _answer(self, method: str, host: str, path: str, hit: int) -> Reply:
        bare_path = path.split("?", 1)[0]
        site = self._site_table().get(host)
        if site is not None:
            return site.get(bare_path, NOT_FOUND)
        return _target(self.url, self.version, method, host, bare_path, hit)

    def _begin(self, method: str, host: str, path: str, ipv6: bool = False) -> int:
        with self._lock:
            self.requests.append((method, host, path))
            self.families[(host, "ipv6" if ipv6 else "ipv4")] += 1
            self._in_flight[host] += 1
            self.max_concurrency[host] = max(self.max_concurrency.get(host, 0), self._in_flight[host])
            self._hits[(host, path)] += 1
            return self._hits[(host, path)]

    def _answered(self, method: str, host: str, path: str, status: int, sent: int) -> None:
        with self._lock:
            self.answers.append((method, host, path, status, sent))

    def _conditional(self, host: str, path: str, reply: Reply, request_headers) -> Reply:
        """A niche site's HTML page with its validators, or 304 when the request's validators still match."""
        if host not in NICHE_HOSTS or reply.status != 200 or not reply.content_type.startswith("text/html"):
            return reply
        bare_path = path.split("?", 1)[0]
        if self._first is None or self._first[0] != self.port:
            self._first = (self.port, _niche_sites(self.url, self.port, 1, self.ipv6))
        if self.version > 1 and reply.body != self._first[1].get(host, {}).get(bare_path, reply).body:
            modified = f"Sun, {14 + self.version:02d} Nov 2026 10:00:00 GMT"
        else:
            modified = "Sun, 01 Nov 2026 10:00:00 GMT"
        validators = [("Last-Modified", modified)]
        etag = None
        if host != "homebrew-corner.net":
            etag = '"' + hashlib.sha256(reply.body).hexdigest()[:20] + '"'
            validators.insert(0, ("ETag", etag))
        if_none_match, if_modified_since = request_headers.get("If-None-Match"), request_headers.get("If-Modified-Since")
        if if_none_match is not None:  # RFC 9110 §13.2.2: If-None-Match first; If-Modified-Since then ignored
            fresh = etag is not None and etag in [tag.strip() for tag in if_none_match.split(",")]
        else:
            fresh = if_modified_since is not None and _http_date(if_modified_since) >= _http_date(modified)
        if fresh:
            return Reply(304, b"", headers=tuple(validators))
        return Reply(reply.status, reply.body, reply.content_type, (*reply.headers, *validators), reply.delay, reply.hang)

    def _end(self, host: str) -> None:
        with self._lock:
            self._in_flight[host] -= 1

    def _track(self, conn: socket.socket, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections[conn] = threading.current_thread()
            else:
                self._connections.pop(conn, None)


def main() -> None:
    with TestWeb() as web:
        print(f"test web on {web.host}:{web.port}")
        print("seeds:", *web.seeds, sep="\n  ")
        print(f"slow seed: {web.slow_seed}")
        print("DNS_OVERRIDES=" + ",".join(f"{host}={ip}" for host, ip in web.dns_overrides.items()), flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
