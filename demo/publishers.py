"""The hermetic publisher web for the backlinks spider: sites that once linked to a shop, each page a case.

``PublisherWeb`` reuses :class:`demo.web.TestWeb`'s loopback server (lifecycle, request log, hanging answers) and
answers for its own hosts only, so the prospects tests and their web stay untouched. The shop whose backlinks are
verified is ``my-garden-shop.com`` (``SHOP``); it is never fetched, only linked to. Named hosts use ordinary TLDs
and reach loopback through ``dns_overrides``.

Publishers and the state each page exists to provoke (``PublisherWeb.cases``: the input rows, each with the
state, reason and flags it must get):

- ``garden-weekly.com`` (robots.txt disallows ``/members/``):
  live: ``/guest-post.html`` (a followed link in the article, a self-referencing canonical; gains
  ``rel="nofollow"`` in version 2), ``/best-match.html`` (the trowel linked from the sidebar, nofollow from the
  footer and followed from the article: the row describes the article link, ``matches`` = 3),
  ``/resources.html`` (one page, many rows: an exact URL, ``domain:``, a prefix, and a product it does not link),
  ``/moved-post.html`` (301 to ``/2024/moved-post.html``, which holds the link);
  degraded: ``/roundup.html`` (nofollow; followed from version 2), ``/sponsored.html`` (``rel="sponsored"``, as
  agreed), ``/anchor.html`` (a new anchor text; a followed link where nofollow was agreed),
  ``/page-nofollow.html`` (``<meta name="robots" content="nofollow">``), ``/comments.html`` (a ugc link in the
  comments);
  lost: ``/removed.html`` (page fine, link gone), ``/gone-post.html`` (404), ``/retired.html`` (410),
  ``/soft-missing.html`` (a 200 "Page not found" page), ``/merged-post.html`` (301 to ``/archive/``, which does
  not link), ``/noindex.html`` (meta robots), ``/header-noindex.html`` (``X-Robots-Tag: noindex``),
  ``/syndicated.html`` (canonical names ``original-stories.com``);
  unverified: ``/members/interview.html`` and ``/members/guest-post.html`` (robots_disallowed; robots.txt answers
  after half a second, so both are asked while it loads).
- ``busy-news.org``: ``/always-500.html`` (page_error after retries), ``/rate-limited.html`` (429 forever).
- ``wall-protected.com``: every page a 403 challenge with ``cf-mitigated: challenge`` (blocked).
- ``slow-magazine.com``: ``/feature.html`` never answers (timeout); its robots.txt answers at once.
- ``expired-blog.com``: absent from ``dns_overrides``, so NXDOMAIN (dns_nxdomain).

Changing web, for the diff between scheduled crawls (``PublisherWeb.diff_cases(version)``): in version 2 the
guest post's link turns nofollow (degraded), the roundup's turns followed (improved), ``/spring-list.html``
drops its link (lost), ``/upcoming.html`` publishes the promised link (new), ``/columns.html`` moves its link
from the article to the sidebar (degraded: out of the content) and ``busy-news.org/weekly.html`` starts failing
with 500 (unverified: unchanged, we could not look). Version 3 puts ``/spring-list.html``'s link back (restored).
"""

from __future__ import annotations

from collections.abc import Callable

from demo.web import HANG, NOT_FOUND, Reply, TestWeb, _html, _page, _redirect

SHOP = "my-garden-shop.com"
GARDEN = "garden-weekly.com"
BUSY = "busy-news.org"
WALL = "wall-protected.com"
SLOW = "slow-magazine.com"
EXPIRED = "expired-blog.com"  # no DNS
PUBLISHER_HOSTS = (GARDEN, BUSY, WALL, SLOW)

TROWEL_ANCHOR = "ergonomic garden trowel"


def _site(u: Callable[..., str], version: int) -> dict[str, dict[str, Reply]]:
    """host -> path -> Reply for the publishers; ``u(host, path)`` makes a URL on this web."""
    trowel, home = u(SHOP, "/products/trowel"), u(SHOP)
    blog_post = u(SHOP, "/blog/pruning-roses")
    nav = '<a href="/">Home</a> <a href="/guest-post.html">Guest posts</a> <a href="/resources.html">Resources</a>'

    def page(title: str, article: str, *, sidebar: str = "", footer: str = "", head: str = "", status: int = 200,
             headers: tuple[tuple[str, str], ...] = ()) -> Reply:
        body = _page(GARDEN, title, article, nav=nav, sidebar=sidebar, head=head)
        if footer:
            body = body.replace("<footer>", f"<footer>{footer} ", 1)
        return Reply(status, body.encode(), headers=headers)

    def prose(link: str) -> str:
        """Two paragraphs of an article with ``link`` in the second, as a guest post holds its link."""
        return ("<p>Every spring we sharpen, oil and sort the tools before the first seedlings go out. A tool that "
                "fits the hand saves the wrist over a long afternoon of planting.</p>\n"
                f"<p>After testing a dozen models we settled on one {link} and have not looked back since. "
                "It digs clean holes in heavy clay without bending.</p>")

    trowel_link = f'<a href="{trowel}">{TROWEL_ANCHOR}</a>'
    guest_rel = ' rel="nofollow"' if version >= 2 else ""
    roundup_rel = "" if version >= 2 else ' rel="nofollow"'
    spring_link = "a trowel" if version == 2 else f'a <a href="{trowel}">{TROWEL_ANCHOR}</a>'
    upcoming_link = f'<a href="{trowel}">{TROWEL_ANCHOR}</a>' if version >= 2 else "trowel (link coming soon)"
    columns_in_article = version < 2
    garden = {
        # slow enough that every first request to the host waits for it: all of them must obey it
        "/robots.txt": Reply(200, b"User-agent: *\nDisallow: /members/\n", "text/plain", delay=0.5),
        "/": page("Garden Weekly", "<p>Tools, seeds and plots: a weekly letter for people with soil under their "
                  "nails.</p>"),
        "/guest-post.html": page("Ten tools for spring", prose(f'<a href="{trowel}"{guest_rel}>{TROWEL_ANCHOR}</a>'),
                                 head=f'<link rel="canonical" href="{u(GARDEN, "/guest-post.html")}">'),
        "/best-match.html": page(
            "Tools we keep", prose(trowel_link),
            sidebar=f'<h2>Shops</h2><ul><li><a href="{trowel}">Trowels</a></li><li><a href="{home}">Garden shop</a></li></ul>',
            footer=f'<a href="{trowel}" rel="nofollow">Trowel</a>'),
        "/resources.html": page("Resources", (
            "<p>The shops and guides our readers ask about most often, checked every season by the editors.</p>\n"
            f'<p>For hand tools we like <a href="{home}">My Garden Shop</a>, in particular its '
            f'<a href="{trowel}">trowels</a>. Their guide to <a href="{blog_post}">pruning roses</a> is the '
            "clearest we know.</p>")),
        "/moved-post.html": _redirect(301, u(GARDEN, "/2024/moved-post.html")),
        "/2024/moved-post.html": page("Ten tools for spring (2024 edition)", prose(trowel_link)),
        "/roundup.html": page("Weekly roundup", prose(f'<a href="{trowel}"{roundup_rel}>{TROWEL_ANCHOR}</a>')),
        "/sponsored.html": page("Sponsored: a better trowel", prose(f'<a href="{trowel}" rel="sponsored">{TROWEL_ANCHOR}</a>')),
        "/anchor.html": page("Spring checklist", (
            prose(f'<a href="{trowel}">click here</a>')
            + f'\n<p>The whole range is on the <a href="{home}">shop front page</a>.</p>')),
        "/page-nofollow.html": page("Reader tips", prose(trowel_link), head='<meta name="robots" content="nofollow">'),
        "/comments.html": page("Which trowel?", prose("trowel") + (
            '\n<section id="comments" class="comments"><h2>Comments</h2><div class="comment"><p>I bought mine at '
            f'<a href="{trowel}" rel="ugc nofollow">{TROWEL_ANCHOR}</a>, no regrets.</p></div></section>')),
        "/removed.html": page("Ten tools for spring (updated)", prose("trowel")),
        "/gone-post.html": page("404 Not Found", "<p>This post does not exist.</p>", status=404),
        "/retired.html": page("410 Gone", "<p>This post was retired.</p>", status=410),
        "/soft-missing.html": page("Page not found", "<p>Sorry, we could not find that page. Try the search box.</p>"),
        "/merged-post.html": _redirect(301, u(GARDEN, "/archive/")),
        "/archive/": page("Archive", '<p>Older posts: <a href="/guest-post.html">Ten tools for spring</a>.</p>'),
        "/noindex.html": page("Draft: tools", prose(trowel_link), head='<meta name="robots" content="noindex, follow">'),
        "/header-noindex.html": page("Print version", prose(trowel_link), headers=(("X-Robots-Tag", "noindex"),)),
        "/syndicated.html": page("Ten tools (syndicated)", prose(trowel_link),
                                 head=f'<link rel="canonical" href="{u("original-stories.com", "/ten-tools")}">'),
        "/members/interview.html": page("Members: interview", prose(trowel_link)),
        "/members/guest-post.html": page("Members: guest post", prose(trowel_link)),
        "/spring-list.html": page("Spring list", prose(spring_link)),
        "/upcoming.html": page("Coming up", prose(upcoming_link)),
        "/columns.html": page(
            "Columns", prose(trowel_link if columns_in_article else "trowel"),
            sidebar="" if columns_in_article else f'<h2>Our pick</h2><a href="{trowel}">{TROWEL_ANCHOR}</a>'),
    }

    busy = {
        "/always-500.html": _html("Server error", "", 500),
        "/rate-limited.html": _html("Too many requests", "", 429, (("Retry-After", "1"),)),
        "/weekly.html": (_html("Weekly", f"<p>This week: {trowel_link}.</p>") if version < 2
                         else _html("Server error", "", 500)),
    }
    return {GARDEN: garden, BUSY: busy}


# The rows of a backlinks input for this web, with the (state, reason, flags) each must get in version 1.
# Targets are symbolic (see PublisherWeb.target); anchors and rels are what the row expects ("" = no expectation).
CASES = (
    (GARDEN, "/guest-post.html", "trowel", TROWEL_ANCHOR, "follow", ("live", None, ())),
    (GARDEN, "/best-match.html", "trowel", TROWEL_ANCHOR, "", ("live", None, ())),
    (GARDEN, "/resources.html", "home", "", "", ("live", None, ())),
    (GARDEN, "/resources.html", "domain", "", "", ("live", None, ())),
    (GARDEN, "/resources.html", "blog*", "", "", ("live", None, ())),
    (GARDEN, "/resources.html", "shears", "", "", ("lost", "link_removed", ())),
    (GARDEN, "/moved-post.html", "trowel", "", "", ("live", None, ())),
    (GARDEN, "/roundup.html", "trowel", "", "", ("degraded", None, ("nofollow",))),
    (GARDEN, "/sponsored.html", "trowel", "", "sponsored", ("degraded", None, ("sponsored",))),
    (GARDEN, "/anchor.html", "trowel", TROWEL_ANCHOR, "", ("degraded", None, ("anchor_changed",))),
    (GARDEN, "/anchor.html", "home", "", "nofollow", ("degraded", None, ("rel_changed",))),
    (GARDEN, "/page-nofollow.html", "trowel", "", "", ("degraded", None, ("page_nofollow",))),
    (GARDEN, "/comments.html", "trowel", "", "", ("degraded", None, ("nofollow", "ugc"))),
    (GARDEN, "/removed.html", "trowel", "", "", ("lost", "link_removed", ())),
    (GARDEN, "/gone-post.html", "trowel", "", "", ("lost", "page_not_found", ())),
    (GARDEN, "/retired.html", "trowel", "", "", ("lost", "page_gone", ())),
    (GARDEN, "/soft-missing.html", "trowel", "", "", ("lost", "page_not_found", ())),
    (GARDEN, "/merged-post.html", "trowel", "", "", ("lost", "page_redirected", ())),
    (GARDEN, "/noindex.html", "trowel", "", "", ("lost", "noindex", ())),
    (GARDEN, "/header-noindex.html", "trowel", "", "", ("lost", "noindex", ())),
    (GARDEN, "/syndicated.html", "trowel", "", "", ("lost", "canonical_elsewhere", ())),
    (GARDEN, "/members/interview.html", "trowel", "", "", ("unverified", "robots_disallowed", ())),
    (GARDEN, "/members/guest-post.html", "trowel", "", "", ("unverified", "robots_disallowed", ())),
    (BUSY, "/always-500.html", "trowel", "", "", ("unverified", "page_error", ())),
    (BUSY, "/rate-limited.html", "trowel", "", "", ("unverified", "rate_limited", ())),
    (WALL, "/guest-post.html", "trowel", "", "", ("unverified", "blocked", ())),
    (SLOW, "/feature.html", "trowel", "", "", ("unverified", "timeout", ())),
    (EXPIRED, "/guest-post.html", "trowel", "", "", ("lost", "dns_nxdomain", ())),
)

# Rows whose page changes with ``version``, and their state in versions 1, 2 and 3 (None: not in that input).
DIFF_CASES = (
    (GARDEN, "/guest-post.html", ("live", "degraded", "degraded")),
    (GARDEN, "/roundup.html", ("degraded", "live", "live")),
    (GARDEN, "/spring-list.html", ("live", "lost", "live")),
    (GARDEN, "/upcoming.html", ("lost", "live", "live")),
    (GARDEN, "/resources.html", ("live", "live", "live")),
    (GARDEN, "/columns.html", ("live", "live", "live")),
    (BUSY, "/weekly.html", ("live", "unverified", "unverified")),
    (GARDEN, "/sponsored.html", (None, "degraded", "degraded")),
)


class PublisherWeb(TestWeb):
    """The publisher web as a context manager: ``with PublisherWeb() as web: ...``. See the module docstring."""

    __test__ = False

    @property
    def dns_overrides(self) -> dict[str, str]:
        return {host: self.host for host in PUBLISHER_HOSTS}  # expired-blog.com: absent, so NXDOMAIN

    def target(self, name: str) -> str:
        """A target spec of the shop: ``trowel``, ``home``, ``shears`` (URLs), ``domain`` or ``blog*`` (a prefix)."""
        if name == "domain":
            return f"domain:{SHOP}"
        paths = {"trowel": "/products/trowel", "home": "/", "shears": "/products/shears", "blog*": "/blog/*"}
        return self.url(SHOP, paths[name])

    @property
    def cases(self) -> list[dict]:
        """``CASES`` as input rows with their expected outcome: ``source_url``, ``target``, ``expected_anchor``,
        ``expected_rel`` and ``expected`` = (state, reason, flags)."""
        return [
            {"source_url": self.url(host, path), "target": self.target(target), "expected_anchor": anchor,
             "expected_rel": rel, "expected": expected}
            for host, path, target, anchor, rel, expected in CASES
        ]

    def diff_cases(self, version: int) -> list[dict]:
        """The trowel rows of ``DIFF_CASES`` in the input of the crawl of ``version``, with ``expected`` = state."""
        return [
            {"source_url": self.url(host, path), "target": self.target("trowel" if path != "/resources.html" else "home"),
             "expected": states[version - 1]}
            for host, path, states in DIFF_CASES
            if states[version - 1] is not None
        ]

    def _answer(self, method: str, host: str, path: str, hit: int) -> Reply:
        """Called by TestWeb's request handler for every request."""
        bare_path = path.split("?", 1)[0]
        if host == WALL:
            return _html("Just a moment...", "<p>Checking your browser.</p>", 403, (("cf-mitigated", "challenge"),))
        if host == SLOW:
            return Reply(200, b"User-agent: *\nDisallow:\n", "text/plain") if bare_path == "/robots.txt" else HANG
        site = _site(self.url, self.version).get(host)
        if site is None:
            return _html("Misdirected request", f"<p>{host!r} is not a host of this web.</p>", 421)
        return site.get(bare_path, NOT_FOUND)
