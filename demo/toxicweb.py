"""A hermetic web of linking pages for the toxic-link audit: each page links to the shop ``my-garden-shop.com``
and exists to show one risk reason (or none), with its ground truth in ``CASES``.

``ToxicWeb`` reuses :class:`demo.web.TestWeb`'s loopback server and answers for its own hosts only, so the other
test webs stay untouched. The crawl runs with ``TOXIC_LANGUAGES=en`` (``SETTINGS``) and the default thresholds.

- ``clean-garden-blog.com``: an editorial link in an English article: no reason.
- ``link-farm.net/directory.html``: 150 external links to 120 sites: many_outbound_links, many_linked_domains.
- ``hidden-links.org``: the link inside ``display: none`` (``/css.html``), off-screen at ``left: -9999px``
  (``/offscreen.html``), under an element with the ``hidden`` attribute (``/attribute.html``): hidden_link.
- ``footer-credits.com``: the link in the footer of three pages: sitewide_placement (over the lake).
- ``garden-deals-a.com``, ``-b.com``, ``-c.com``: one page kit (same layout classes, different text) and the same
  anchor "Buy cheap garden trowel": shared_template and commercial_anchor (over the lake).
- ``cheap-trowels.xyz``: spam_tld.
- ``noindex-pages.com``: ``/draft.html`` (meta robots noindex): page_noindex; ``/copy.html`` (canonical to another
  site): canonical_elsewhere.
- ``russian-garden.ru/obzor.html``: ``<html lang="ru">``: language_mismatch.
- ``sponsored-hub.com/partners.html``: 15 rel=sponsored links: many_sponsored_links.
"""

from __future__ import annotations

from collections.abc import Callable

from demo.web import NOT_FOUND, Reply, TestWeb, _page

SHOP = "my-garden-shop.com"
TROWEL_PATH = "/products/trowel"
SETTINGS = {"TOXIC_LANGUAGES": "en"}
COMMERCIAL = "Buy cheap garden trowel"

CLEAN = "clean-garden-blog.com"
FARM = "link-farm.net"
HIDDEN = "hidden-links.org"
FOOTER = "footer-credits.com"
DEALS = ("garden-deals-a.com", "garden-deals-b.com", "garden-deals-c.com")
SPAM_TLD = "cheap-trowels.xyz"
NOINDEX = "noindex-pages.com"
RUSSIAN = "russian-garden.ru"
SPONSORED = "sponsored-hub.com"
HOSTS = (CLEAN, FARM, HIDDEN, FOOTER, *DEALS, SPAM_TLD, NOINDEX, RUSSIAN, SPONSORED)

# (host, path) -> the reasons the audit must give, page reasons and lake reasons alike
CASES: dict[tuple[str, str], frozenset[str]] = {
    (CLEAN, "/review.html"): frozenset(),
    (FARM, "/directory.html"): frozenset({"many_outbound_links", "many_linked_domains"}),
    (HIDDEN, "/css.html"): frozenset({"hidden_link"}),
    (HIDDEN, "/offscreen.html"): frozenset({"hidden_link"}),
    (HIDDEN, "/attribute.html"): frozenset({"hidden_link"}),
    (FOOTER, "/page-1.html"): frozenset({"sitewide_placement"}),
    (FOOTER, "/page-2.html"): frozenset({"sitewide_placement"}),
    (FOOTER, "/page-3.html"): frozenset({"sitewide_placement"}),
    **{(host, "/best-trowels.html"): frozenset({"shared_template", "commercial_anchor"}) for host in DEALS},
    (SPAM_TLD, "/best.html"): frozenset({"spam_tld"}),
    (NOINDEX, "/draft.html"): frozenset({"page_noindex"}),
    (NOINDEX, "/copy.html"): frozenset({"canonical_elsewhere"}),
    (RUSSIAN, "/obzor.html"): frozenset({"language_mismatch"}),
    (SPONSORED, "/partners.html"): frozenset({"many_sponsored_links"}),
}


def _sites(u: Callable[..., str]) -> dict[str, dict[str, Reply]]:
    trowel = u(SHOP, TROWEL_PATH)
    link = f'<a href="{trowel}">ergonomic garden trowel</a>'

    def article(host: str, title: str, body: str, *, head: str = "", footer: str = "", lang: str = "en") -> Reply:
        html = _page(host, title, body, nav='<a href="/">Home</a>', head=head)
        html = html.replace('<html lang="en">', f'<html lang="{lang}">', 1)
        if footer:
            html = html.replace("<footer>", f"<footer>{footer} ", 1)
        return Reply(200, html.encode())

    def prose(inner: str) -> str:
        return ("<p>We planted three beds of leeks this spring and kept notes on every tool we used along the way.</p>"
                f"\n<p>For the seedlings we used {inner} and it held up through a wet April in heavy clay.</p>")

    farm_links = "\n".join(f'<li><a href="http://garden-site-{i % 120}.net/page-{i}">Site {i}</a></li>'
                           for i in range(149))
    sponsored_links = "\n".join(f'<li><a rel="sponsored" href="http://partner-{i}.example.com/">Partner {i}</a></li>'
                                for i in range(14))

    def kit(host: str, n: int) -> Reply:
        """One page kit for three sites: the same layout classes, different words."""
        words = ["sturdy", "light", "cheap"][n]
        html = (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="generator" content="SiteKit 3.2">'
            f"<title>Best trowels | {host}</title></head>\n"
            '<body class="sk-body sk-theme-green"><div id="sk-wrap" class="sk-wrap">'
            f'<header class="sk-header"><a class="sk-logo" href="/">{host}</a>'
            '<nav class="sk-nav"><ul class="sk-menu"><li class="sk-item"><a href="/">Home</a></li></ul></nav></header>'
            '<main class="sk-main"><article class="sk-post">'
            f"<h1>The {words} trowels of the year</h1>"
            f'<p>Our {words} picks for your garden. <a href="{trowel}">{COMMERCIAL}</a> today.</p>'
            '</article></main><aside class="sk-sidebar"><div class="sk-widget">Archives</div></aside>'
            '<footer class="sk-footer"><span class="sk-copy">SiteKit</span></footer></div></body></html>\n'
        )
        return Reply(200, html.encode())

    return {
        CLEAN: {"/review.html": article(CLEAN, "A season with one trowel", prose(link))},
        FARM: {"/directory.html": article(FARM, "Garden directory", prose(link) + f"\n<ul>{farm_links}</ul>")},
        HIDDEN: {
            "/css.html": article(HIDDEN, "Tools", prose("a trowel") + f'\n<div style="display: none">{link}</div>'),
            "/offscreen.html": article(HIDDEN, "More tools", prose(
                f'<span style="position:absolute; left:-9999px">{link}</span> a trowel')),
            "/attribute.html": article(HIDDEN, "Even more tools", prose("a trowel") + f"\n<p hidden>{link}</p>"),
        },
        FOOTER: {f"/page-{i}.html": article(FOOTER, f"Post {i}", prose("a trowel"),
                                            footer=f'Sponsored by <a href="{trowel}">My Garden Shop</a>.')
                 for i in (1, 2, 3)},
        **{host: {"/best-trowels.html": kit(host, n)} for n, host in enumerate(DEALS)},
        SPAM_TLD: {"/best.html": article(SPAM_TLD, "Best trowels", prose(link))},
        NOINDEX: {
            "/draft.html": article(NOINDEX, "Draft", prose(link), head='<meta name="robots" content="noindex">'),
            "/copy.html": article(NOINDEX, "Copy", prose(link),
                                  head=f'<link rel="canonical" href="{u("original-stories.com", "/tools")}">'),
        },
        RUSSIAN: {"/obzor.html": article(RUSSIAN, "Обзор садовых инструментов", (
            "<p>Этой весной мы посадили лук-порей и записывали впечатления о каждом инструменте.</p>\n"
            f"<p>Для рассады мы использовали {link}, и он выдержал дождливый апрель.</p>"), lang="ru")},
        SPONSORED: {"/partners.html": article(SPONSORED, "Our partners", prose(
            f'<a rel="sponsored" href="{trowel}">ergonomic garden trowel</a>') + f"\n<ul>{sponsored_links}</ul>")},
    }


class ToxicWeb(TestWeb):
    """The toxic-link web as a context manager: ``with ToxicWeb() as web: ...``. See the module docstring."""

    __test__ = False

    @property
    def dns_overrides(self) -> dict[str, str]:
        return {host: self.host for host in HOSTS}

    @property
    def trowel(self) -> str:
        return self.url(SHOP, TROWEL_PATH)

    @property
    def cases(self) -> dict[str, frozenset[str]]:
        """source URL -> the reasons it must get."""
        return {self.url(host, path): reasons for (host, path), reasons in CASES.items()}

    def _answer(self, method: str, host: str, path: str, hit: int) -> Reply:
        site = _sites(self.url).get(host)
        if site is None:
            return Reply(421, b"not a host of this web")
        return site.get(path.split("?", 1)[0], NOT_FOUND)
