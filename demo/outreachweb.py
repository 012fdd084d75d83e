"""A hermetic web for outreach: two gardening sites that link to resources which die between two crawls, each site
with its contact points, and the dead resources' own sites.

``OutreachWeb`` reuses :class:`demo.web.TestWeb`'s loopback server and answers for its own hosts only. ``version``
1 is the web before, 2 after the resources died:

- ``vegetable-patch.com``: ``/`` (menu: *Über uns* to ``/ueber-uns/``, *Kontakt* to ``/kontakt``; footer: a
  ``mailto:`` link, Twitter and Facebook profiles, a Twitter share button) and ``/compost.html``, an article that
  links to the three resources in its text.
- ``balcony-garden.org``: ``/`` and ``/soil.html``, which links to two of them; a ``/contact-us/`` page and a
  LinkedIn company profile, no email.
- ``dead-guides.com/composting``: a guide; in version 2 a 404. Crawled as a seed site in the first crawl, so our
  lake holds it as a page (``warc/``).
- ``gone-tools.net/soil-ph``: a page; in version 2 a 410. Only ever link-checked, so our lake holds it in the
  link-check archive (``crawldiagnostics/``).
- ``never-archived.org/gone``: a 404 in both versions: only a web archive has a copy (the test puts one there).
- ``twitter.com``, ``facebook.com``, ``linkedin.com``: answer 200 to anything, so profile links check ``ok`` (over
  plain HTTP on the web's port, like every link here; a profile's row names its canonical ``https://`` URL).
"""

from __future__ import annotations

from demo.web import NOT_FOUND, Reply, TestWeb, _html, _page

VEG = "vegetable-patch.com"
BALCONY = "balcony-garden.org"
GUIDES = "dead-guides.com"
TOOLS = "gone-tools.net"
NEVER = "never-archived.org"
SOCIAL = ("twitter.com", "facebook.com", "linkedin.com")
HOSTS = (VEG, BALCONY, GUIDES, TOOLS, NEVER, *SOCIAL)

GUIDE_TITLE = "The complete composting guide"
GUIDE_PARAGRAPHS = (
    "Composting turns kitchen scraps and garden waste into the dark, crumbly soil conditioner every bed needs.",
    "Mix two parts brown material, such as dry leaves and cardboard, with one part green material like grass.",
    "Turn the heap every two weeks and keep it as moist as a wrung-out sponge; it is ready in three months.",
)
SOIL_TITLE = "Measuring soil pH at home"
SOIL_PARAGRAPHS = (
    "A cheap test kit tells you within an hour whether your beds are acid, neutral or alkaline soil.",
    "Most vegetables prefer a pH between 6.0 and 7.0; blueberries want it far lower, around 4.5 to 5.5.",
)
NEVER_TITLE = "Seed saving for beginners"
NEVER_PARAGRAPHS = (
    "Saving your own seed starts with open-pollinated varieties, which come true from one year to the next.",
    "Let the best plants go to seed, dry the pods on a screen indoors and store the seed cool and dark.",
)
EMAIL = "hello@vegetable-patch.com"


def resource_page(title: str, paragraphs: tuple[str, ...]) -> bytes:
    """A resource page as the archive holds it: a menu and a footer around the article."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title></head><body>'
            f'<nav><p>Home | Guides | Shop and more pages of this site</p></nav>'
            f"<main><h1>{title}</h1><p>By the team</p>{body}</main>"
            f"<footer><p>Copyright 2019, all rights reserved by the authors of this guide.</p></footer>"
            f"</body></html>\n").encode()


def _sites(u, version: int) -> dict[str, dict[str, Reply]]:
    guide, soil, never = u(GUIDES, "/composting"), u(TOOLS, "/soil-ph"), u(NEVER, "/gone")
    veg_nav = '<a href="/">Home</a> <a href="/ueber-uns/">Über uns</a> <a href="/kontakt">Kontakt</a>'
    veg_footer = (f'<a href="mailto:{EMAIL}?subject=Hello">Write to us</a> '
                  f'<a href="{u("twitter.com", "/vegpatch")}">Twitter</a> '
                  f'<a href="{u("facebook.com", "/vegetablepatch")}">Facebook</a> '
                  f'<a href="{u("twitter.com", "/intent/tweet?url=x")}">Share</a>')

    def veg(title: str, article: str) -> Reply:
        return Reply(200, _page(VEG, title, article, nav=veg_nav, sidebar=veg_footer).encode())

    balcony_nav = '<a href="/">Home</a> <a href="/contact-us/">Contact</a>'
    balcony_side = f'<a href="{u("linkedin.com", "/company/balcony-garden")}">LinkedIn</a>'

    def balcony(title: str, article: str) -> Reply:
        return Reply(200, _page(BALCONY, title, article, nav=balcony_nav, sidebar=balcony_side).encode())

    alive = version < 2
    return {
        VEG: {
            "/": veg("Vegetable patch", '<p>Notes from our allotment. Start with <a href="/compost.html">compost</a>.</p>'),
            "/compost.html": veg("Compost first", (
                f'<p>Before anything else, read <a href="{guide}">the complete composting guide</a> and start a heap.</p>'
                f'<p>Then check your beds with <a href="{soil}">a home soil pH test</a> before you sow.</p>'
                f'<p>Keep some of your own seed, as <a href="{never}">this seed saving primer</a> explains.</p>')),
            "/ueber-uns/": veg("Über uns", "<p>Two allotment holders writing since 2015.</p>"),
            "/kontakt": veg("Kontakt", f"<p>Mail {EMAIL}.</p>"),
        },
        BALCONY: {
            "/": balcony("Balcony garden", '<p>Small space growing. See <a href="/soil.html">soil</a>.</p>'),
            "/soil.html": balcony("Soil in pots", (
                f'<p>Pots need rich soil: <a href="{guide}">this composting guide</a> shows how to make it.</p>'
                f'<p>Acid lovers in pots? <a href="{soil}">Test the pH</a> every spring.</p>')),
            "/contact-us/": balcony("Contact", "<p>Use the form below.</p>"),
        },
        GUIDES: {
            "/": _html("Dead guides", f'<p><a href="{guide}">Composting</a></p>'),
            "/composting": Reply(200, resource_page(GUIDE_TITLE, GUIDE_PARAGRAPHS)) if alive else NOT_FOUND,
        },
        TOOLS: {"/soil-ph": Reply(200, resource_page(SOIL_TITLE, SOIL_PARAGRAPHS)) if alive else
                _html("Gone", "<p>This page was removed.</p>", 410)},
        NEVER: {},
    }


class OutreachWeb(TestWeb):
    """The outreach web as a context manager: ``with OutreachWeb() as web: ...``. See the module docstring."""

    __test__ = False

    @property
    def dns_overrides(self) -> dict[str, str]:
        return {host: self.host for host in HOSTS}

    @property
    def seeds(self) -> list[str]:
        return [self.url(VEG), self.url(BALCONY)]

    def _answer(self, method: str, host: str, path: str, hit: int) -> Reply:
        if host in SOCIAL:
            return _html("Profile", "<p>A profile.</p>")
        site = _sites(self.url, self.version).get(host)
        if site is None:
            return Reply(421, b"not a host of this web")
        return site.get(path.split("?", 1)[0], NOT_FOUND)
