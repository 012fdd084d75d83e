"""Where each link sits on its page: the page region, whether it is part of the main text, and the words around it.

SEO users judge a link by its position (Screaming Frog's "link position", Ahrefs' ``is_content``): an editorial
link inside an article is worth more than the same link in a sitewide footer, and a backlink that moved out of the
content is *degraded*. This module answers that from the lxml tree the spider already parsed; trafilatura reads
the same tree (it copies it internally), so a page is downloaded, decoded and parsed once.

Regions
=======
``REGIONS`` names where a link sits. The first decision in this order wins:

1. **Per-site rules** (``LINK_REGION_RULES``, see :func:`compile_rules`): the first rule that matches the link or
   one of its ancestors.
2. **Page chrome among the link and its ancestors.** Each element may carry one label. Per element, strongest
   first: a breadcrumb marker (``aria-label`` mentioning breadcrumb, schema.org ``BreadcrumbList``); a main-area
   container (``main``, ``role=main``, ``itemprop=articleBody``); the comments/footer/sidebar words of its id and
   class; its HTML5 landmark or ARIA role (``nav``, ``header``, ``footer``, ``aside``, ``article``, ``navigation``,
   ``banner``, ``contentinfo``, ``complementary``, ``menu``); then its other words (navigation, header, widget,
   related/share/social/ad boxes, content). Ids and classes are split into words on ``-``, ``_``, spaces and
   camelCase and matched as whole words, so ``navy``, ``unavailable``, ``canvas`` and ``commentary`` mean nothing;
   ``aside`` and ``secondary`` count only as a whole class (``text-align-aside``, ``btn-secondary`` do not). In a
   BEM name (``GlobalNav__social-widget``) the element part's region words outrank the block's.
   Over the chain:

   - a **breadcrumb** anywhere wins: a trail is a trail wherever a theme puts it (phpBB repeats it in the footer).
   - **footer**, **sidebar** and **comments** *absorb* what they contain; the outermost one decides. A footer menu
     (``footer > nav``, which Screaming Frog calls navigation and warns about), footer widgets and social icons
     are ``footer``; a menu widget in a sidebar and a docs sidebar's page tree are ``sidebar``; a comment's own
     header, footer and reply links are ``comments``. Forum signatures and comment forms are ``comments`` too:
     text users add under a post, not the page's content. Forum posts themselves are ``content``.
   - otherwise the **nearest** of navigation and header decides: the menu inside a site header is ``navigation``
     while the logo beside it is ``header``; a table of contents or series menu inside an article
     (``article > nav``) and post-to-post links are ``navigation``. Social icons in the site's menu bar are
     ``header``, as in its banner; a header table cell holding a row of four or more links (a 2008 layout's
     ``td.topHeader``) is ``navigation``.
   - weak labels, ``sidebar`` only when nothing stronger encloses them: related/similar posts, share and social
     buttons, ads (social icons in a header stay ``header``), and a ``widget`` (Blogger calls its header and its
     post list widgets too).

   Scoping follows HTML-AAM: a ``header``/``footer`` inside ``article``, ``aside``, ``main`` or ``nav`` is that
   article's own header/footer (byline, categories, tags, "edit this page"), not the site banner or contentinfo;
   it decides nothing, whatever its class says, and neither does any element there whose class says header or
   footer (Docusaurus' ``theme-doc-footer-edit-meta-row``), so those links end up ``content``. The exception is a
   ``<footer>`` scoped by ``main`` alone that claims a copyright: libxml2 leaves a page's footer inside a
   ``<main>`` the page never closed. ``<section>``
   does not scope: themes use it as a plain wrapper. An ``aside`` in the site header or footer is part of it
   (social links beside the logo). One token naming both a side and a menu (``sidebar-nav``, ``left-bar-menu``)
   is a menu; a complementary word next to a tag/topic/embed word (``RelatedTags``, ``related-topics``,
   ``social-media-embed``) is the article's own. Class words alone mark item headers/footers too
   (``entry-header``, ``card-footer``, ``message-footer``, ``page-header``...). An ``aside`` inside an article is
   a call-out (content) unless it is labelled (``aria-label``). **Wrappers are not regions**: an element that
   contains the main area (``main``, ``articleBody``, ``entry-content``, ``post-body``... holding running text)
   or most of the page's running text decides nothing, whatever its classes say (``content-sidebar-wrap``,
   ``wy-nav-content``, page builders that wrap a whole article in ``<header>``); only the heaviest main-area
   container and those holding a fifth of the text count, so teaser cards reusing ``entry-content`` for their
   excerpts leave their "related posts" box a related box. ``html`` and ``body`` never
   decide; state classes (``menu-open``, ``has-sidebar``, ``navigation-not-searchable``), WordPress taxonomy
   classes (``tag-menu``) and page-builder widget classes (``elementor-widget-*``) say nothing about regions.
3. **Layout columns.** A grid column (``col-md-4``, ``span3``, ``large-4``, ``col--3``...) or table cell beside
   a sibling column holding at least twice its running text is a side column: ``navigation`` when it comes first
   and is a list of links (the left menu of a table layout), ``sidebar`` otherwise. With known widths the side
   column must be the narrower one; columns inside an article are the article's own layout.
4. **After the article.** The *article* is the outermost ``main``/``article``/main-area container around the main
   area (rule 6). A link after it whose run is not running text is ``sidebar``: "more stories" rows, teaser cards
   (each its own ``<article>``), sponsored slides, which are rule 2's related boxes without their words; ``footer``
   when it is after the page's footer or near a footer mark.
5. A link inside a content container (``main``, ``role=main``, ``article``, ``articleBody``, ``entry-content``,
   ``post-body``...) is ``content``.
6. **Where the running text is**, for pages without (enough) hints. Running text is every text node of at least
   25 characters outside links and outside the chrome; the *main area* is the deepest element holding 60% of it,
   when some links lie outside it. When the page has one ``<main>`` holding at least 15% of the running text,
   the main area is sought inside it (60% of *its* text): a long teaser grid after a short article is not the
   article. A link inside the main area is ``content``. Outside it, a link near a footer
   mark (``©``, "copyright 2021", "all rights reserved", "powered by", "last updated" in its block or the short
   blocks around it) or after the page's footer region (toolbars and banners appended to the page) is
   ``footer``; a link before the main area and before the page's first ``h1`` is ``header`` when it is an image
   (a logo) or alone, ``navigation`` when it belongs to a group of links (a menu). Anything else on a page with
   running text is ``content`` (sections of a landing page, lists after an intro).
7. Pages without any running text: a link in a weak content container (a ``content``/``post``/``entry`` word),
   a link trafilatura keeps, or a link in running text (its own run has at least 40 characters of non-link text,
   under half of it link text) is ``content``; anything else is ``unknown``.

trafilatura is only the tie-breaker of rule 7: its fast extraction keeps menus, footers and link lists on small
pages and drops link lists that are the page's content (measured on the fixtures), while rules 2-5 are exact on
hinted markup. It answers the other question, whether a link is part of the main text, below.

Main content
============
``main_content=True`` runs trafilatura (``fast=True``: the readability/justext comparison costs 2-15x more and
its justext output drops links) on the same tree with links kept. To map its output back to elements without
text guessing, each ``<a>`` gets a unique marker ``href`` for the duration of the call (restored in ``finally``;
trafilatura copies the tree and copies ``href`` verbatim into ``<ref target>``), so a kept link is found by
identity. When the output holds no link at all (trafilatura's baseline fallback returns plain text), a link is
kept when its text with its surrounding words appears in the main text. Links without text (image links, which
trafilatura always drops) count as kept when they sit between kept links. ``in_main_content`` is true for
``content`` links that trafilatura kept or that lie in a strong content container or the article of rule 4: fast
mode drops link lists ("further reading", resource lists, link roundups), which are the main content of such pages.
It is never true outside ``content``, so the two columns never contradict each other; ``position`` (character
offset in the main text, 0..1) and ``paragraph_index`` (its block among trafilatura's paragraphs, headings, list
items and cells) are set for main-content links only. A trafilatura crash is logged and the page is placed as with
``main_content=False``.

Text around a link
==================
A link's *block* is its nearest block-level ancestor; nested blocks split it into separate runs of inline text,
and a link's text columns come from its run only (``text_before``/``text_after`` up to 150 characters, cut at a
word boundary). ``sentence`` is set when the run is running text (rule 7), cut at sentence punctuation followed by
a capital, capped at 300 characters around the link; for a main-content link that is a whole list item (a resource
list) it is the list's lead-in: the last sentence of the paragraph before the list, or its heading. ``links_in_block`` counts every ``<a href>``/``<area href>``
in the run; ``block_link_density`` is the share of the run's characters (spaces aside) inside links, 0 for a run
without text.
``heading`` is the nearest preceding ``h1``-``h3``.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from functools import lru_cache

import lxml.etree
import lxml.html

from crawler.extract.page import collapse

LOGGER = logging.getLogger(__name__)
# trafilatura logs a warning for every page it finds little text in (common on real pages and WARC ingests): its
# verdict is our input, not news for the crawl log.
logging.getLogger("trafilatura").setLevel(logging.ERROR)

REGIONS = ("content", "navigation", "header", "footer", "sidebar", "comments", "breadcrumb", "unknown")

TEXT_LIMIT = 150
SENTENCE_LIMIT = 300
RUNNING_TEXT_MIN = 40  # non-link characters (spaces aside) that make a link's run running text (rule 7, ``sentence``)
AREA_TEXT_MIN = 25  # characters of a text node that count as running text for the main area (rule 6)
AREA_SHARE = 0.6  # share of the running text the main area holds
MAIN_SHARE = 0.15  # share of the running text a page's <main> needs for the main area to be sought inside it
WRAPPER_SHARE = 0.2  # share of the running text a main-area container needs to make its ancestors wrappers
MENU_LINKS = 4  # links in a group that make a header's row of links a menu (sign-in, cart and search are fewer)
SIDE_TEXT_MIN = 100  # running text a column needs before its neighbours count as side columns
FOOTER_WINDOW = 400  # characters around a link searched for a footer mark

BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details dialog dir div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hgroup hr html li main menu nav ol p pre section summary table tbody td tfoot th "
    "thead tr ul caption legend option select".split()
)
SKIPPED_TAGS = frozenset(("script", "style", "template", "head", "title"))
LINK_TAGS = ("a", "area")

# --- vocabulary of id/class words -------------------------------------------------------------------------------
BREADCRUMB_WORDS = frozenset(("breadcrumb", "breadcrumbs", "crumb", "crumbs", "breadcrumbtrail"))
COMMENT_WORDS = frozenset(
    ("comment", "comments", "commentlist", "respond", "disqus", "signature", "signatures", "signaturecontainer")
)
# "3 comments" links and counters in a post's meta line are not the comments section
COMMENT_POINTER_WORDS = frozenset(
    ("link", "links", "count", "counter", "number", "num", "icon", "btn", "button", "bubble", "total")
)
FOOTER_WORDS = frozenset(("footer", "colophon", "copyright", "sitefooter", "pagefooter", "globalfooter"))
HEADER_WORDS = frozenset(("header", "masthead", "topbar", "siteheader", "globalheader", "branding"))
# header/footer of a content item, not of the site: entry-footer, card-header, message-footer, blockquote-footer...
ITEM_WORDS = frozenset(
    "entry post article card panel modal dialog comment comments item product story table teaser media box author "
    "blockquote quote figure caption list message question answer".split()
)
ITEM_HEADER_WORDS = ITEM_WORDS | {"page", "archive", "widget", "title", "section", "hero", "intro"}
NAV_WORDS = frozenset(
    "nav navs navbar navigation navi menu menus menubar megamenu submenu topnav subnav sidenav mainnav sitenav "
    "navlinks navlist pagination pager paging toc tableofcontents dropdown navbox navboxes portlet portlets".split()
)
SIDEBAR_WORDS = frozenset(("sidebar", "sidebars", "widgetarea", "rail", "sidecol"))
SIDEBAR_TOKENS = frozenset(("aside", "secondary", "widget-area", "widget_area", "widgetarea"))
WIDGET_WORDS = frozenset(("widget", "widgets"))
SIDE_PARTS = frozenset(("bar", "col", "column", "rail", "panel"))
COMPLEMENTARY_WORDS = frozenset(
    "related relatedposts similar yarpp share sharing sharedaddy addtoany sharethis social socials ad ads advert "
    "adverts advertisement adsbygoogle sponsor sponsors promo".split()
)
# what is the article's own even with a complementary word: its tags ("RelatedTags", "related-topics") and the posts
# it embeds ("social-media-embed" around a quoted tweet)
OWN_WORDS = frozenset("tag tags topic topics keyword keywords embed embeds embedded".split())
CONTENT_WORDS = frozenset("content main article entry entries post posts story postbody hentry prose markdown".split())
CONTENT_SUBJECT_WORDS = frozenset(("entry", "post", "article", "story", "main"))
CONTENT_PART_WORDS = frozenset(("content", "body", "text"))
STRONG_CONTENT_TOKENS = frozenset(("postbody", "articlebody", "maincontent", "entrycontent", "storybody"))
# state and negation: "menu-open", "no-sidebar", "has-sidebar", "navigation-not-searchable" claim no region
STATE_WORDS = frozenset("has no not with without is toggle toggled open opened closed hidden show hide js".split())
BUILDER_PREFIXES = ("elementor", "et_pb", "vc_", "wpb_", "fl-", "jet-", "uagb-", "wp-block", "kb-", "gb-")
IGNORED_PREFIXES = ("tag-", "category-", "categories-", "format-", "post-format-")

ROLE_LABELS = {
    "navigation": "navigation",
    "menu": "navigation",
    "menubar": "navigation",
    "banner": "header",
    "contentinfo": "footer",
    "complementary": "sidebar",
    "main": "content!",
    "article": "article",
}
# HTML-AAM scoping, without <section>: themes use it as a plain wrapper far too often
SCOPING_TAGS = frozenset(("article", "aside", "main", "nav"))
LANDMARK_TAGS = frozenset(("nav", "header", "footer", "aside", "main", "article"))
# an aside in the site header or footer is part of it (social links beside the logo), not a sidebar
ASIDE_SCOPING_TAGS = frozenset(("article", "aside", "nav", "header", "footer"))

# Labels an element can carry: the chrome regions, the weak "complementary" and "widget" (sidebar when nothing
# stronger encloses them), "content!" (a main-area container: its ancestors are wrappers) and "content" (a hint).
CHROME_LABELS = frozenset(
    ("breadcrumb", "comments", "footer", "navigation", "header", "sidebar", "complementary", "widget")
)
ABSORBING = frozenset(("footer", "comments", "sidebar"))
ABSORBING_FIRST = ("breadcrumb", "comments", "footer", "sidebar")  # class labels that outrank the landmark
TOKEN_PRIORITY = ("navigation", "header", "complementary", "widget", "content!", "content")
# wrappers when they hold most text (a "share-zone" or "widget" around a whole article is not a share box)
BIG_CHROME = frozenset(("footer", "sidebar", "navigation", "header", "complementary", "widget"))

_SPLIT = re.compile(r"[-_\s:./]+")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_COLUMN = re.compile(
    r"^(?:(?:col|span|column|columns|cell)(?:-(?:xs|sm|md|lg|xl|xxl))?(?:--?(\d+))?|span(\d+)"
    r"|(?:small|medium|large)-(\d+)|(?:\w+:)?w-(\d+)/(\d+)|(?:\w+:)?col-span-(\d+)|pure-u(?:-\w+)?-(\d+)-(\d+))$"
)
_WS = re.compile(r"\s+")
_NON_WORD = re.compile(r"\W+")
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*\s+(?=[A-Z0-9\"'“‘(\[¿¡À-ÖØ-Þ])|[。！？]+")
_FOOTER_MARK = re.compile(
    r"©|\(c\)\s*(?:19|20)\d\d|copyright\s*(?:©|\(c\)|(?:19|20)\d\d)|all rights reserved|powered by|"
    r"last (?:updated|modified)",
    re.IGNORECASE,
)
_MAIN_BLOCKS = frozenset(("p", "head", "item", "cell", "code", "quote"))
# Running text for the main area: text nodes of AREA_TEXT_MIN characters or more, outside links and invisible parts
_RUNNING_TEXT = lxml.etree.XPath(
    f"//text()[string-length(normalize-space()) >= {AREA_TEXT_MIN}][not(ancestor::a or ancestor::head"
    " or ancestor::script or ancestor::style or ancestor::noscript or ancestor::template or ancestor::svg"
    " or ancestor::select or ancestor::textarea or ancestor::button)]"
)


# --- per-site rules ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RegionRule:
    region: str
    xpath: lxml.etree.XPath | None = None
    css_class: str | None = None
    site: str | None = None

    def applies_to(self, site: str | None) -> bool:
        if self.site is None:
            return True
        return site is not None and (site == self.site or site.endswith("." + self.site))


def compile_rules(spec) -> tuple[RegionRule, ...]:
    """Compile the ``LINK_REGION_RULES`` setting: a list of ``{"xpath": ..., "region": ...}`` or
    ``{"class": "token", "region": ...}`` dicts, each optionally limited to ``"site": "example.com"`` (that host and
    its subdomains). The first rule matching a link or one of its ancestors decides its region. Raises
    ``ValueError`` naming the faulty rule."""
    if spec is None:
        return ()
    if isinstance(spec, (str, bytes, dict)) or not hasattr(spec, "__iter__"):
        raise ValueError("LINK_REGION_RULES must be a list of rules")
    probe = lxml.html.fromstring("<div><p>probe</p></div>")
    rules = []
    for number, item in enumerate(spec, 1):
        where = f"LINK_REGION_RULES rule {number}"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: expected a dict, got {type(item).__name__}")
        unknown = set(item) - {"xpath", "class", "region", "site"}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        region = item.get("region")
        if region not in REGIONS:
            raise ValueError(f"{where}: region must be one of {REGIONS}, got {region!r}")
        if ("xpath" in item) == ("class" in item):
            raise ValueError(f"{where}: give exactly one of 'xpath' or 'class'")
        site = item.get("site")
        if site is not None:
            if not isinstance(site, str) or not site.strip(". "):
                raise ValueError(f"{where}: 'site' must be a host name")
            site = site.strip(". ").lower()
        if "xpath" in item:
            expression = item["xpath"]
            if not isinstance(expression, str) or not expression.strip():
                raise ValueError(f"{where}: 'xpath' must be a non-empty string")
            try:
                xpath = lxml.etree.XPath(expression)
                xpath(probe)
            except lxml.etree.XPathError as exc:
                raise ValueError(f"{where}: invalid XPath {expression!r}: {exc}") from None
            rules.append(RegionRule(region=region, xpath=xpath, site=site))
        else:
            token = item["class"]
            if not isinstance(token, str) or len(token.split()) != 1:
                raise ValueError(f"{where}: 'class' must be one class token")
            rules.append(RegionRule(region=region, css_class=token.strip(), site=site))
    return tuple(rules)


def _rule_region(link, rules, matched: list) -> str | None:
    chain = (link, *link.iterancestors())
    for rule, elements in zip(rules, matched):
        if rule.xpath is not None:
            if any(element in elements for element in chain):
                return rule.region
        elif any(rule.css_class in (element.get("class") or "").split() for element in chain):
            return rule.region
    return None


# --- what one element says ---------------------------------------------------------------------------------------
@lru_cache(maxsize=8192)
def token_labels(token: str) -> frozenset[str]:
    """The labels one class or id token carries, by whole words (``site-footer`` -> footer). In a BEM name
    (``block__element``, getbem.com/naming) the element part says what the element is: ``GlobalNav__social-widget``
    is a social widget that happens to sit in the navigation block, so its region words outrank the block's."""
    lowered = token.lower()
    if lowered.startswith(IGNORED_PREFIXES):
        return frozenset()
    if "__" in token:
        own = token_labels(token.rsplit("__", 1)[1])
        if own & CHROME_LABELS:
            return own
    words = {w.lower() for part in _SPLIT.split(token) for w in _WORD.findall(part)}
    if not words or words & STATE_WORDS:
        return frozenset()
    builder = lowered.startswith(BUILDER_PREFIXES)
    labels = set()
    if words & BREADCRUMB_WORDS:
        labels.add("breadcrumb")
    if words & COMMENT_WORDS and not words & COMMENT_POINTER_WORDS:
        labels.add("comments")
    if words & FOOTER_WORDS and not words & ITEM_WORDS:
        labels.add("footer")
    if words & HEADER_WORDS and not words & ITEM_HEADER_WORDS:
        labels.add("header")
    if words & NAV_WORDS:
        labels.add("navigation")
    if not builder and (
        words & SIDEBAR_WORDS
        or lowered in SIDEBAR_TOKENS
        or ("side" in words and words & SIDE_PARTS)
        or (words & {"left", "right"} and words & SIDE_PARTS)
    ):
        labels.add("sidebar")
    if words & WIDGET_WORDS and not builder:
        labels.add("widget")
    if words & COMPLEMENTARY_WORDS and not words & OWN_WORDS:
        labels.add("complementary")
    if {"sidebar", "navigation"} <= labels and not words & WIDGET_WORDS:
        labels.discard("sidebar")  # one token naming a menu at the side (sidebar-nav, left-bar-menu) is a menu
    if lowered in STRONG_CONTENT_TOKENS or _names_content_body(token):
        labels.add("content!")
    if words & CONTENT_WORDS:
        labels.add("content")
    return frozenset(labels)


def _names_content_body(token: str) -> bool:
    """``entry-content``, ``td-post-content``, ``article-body``, ``main-content``: a subject word directly followed
    by a body word. ``contentRow-main`` (a layout row) is not."""
    words = [w.lower() for part in _SPLIT.split(token) for w in _WORD.findall(part)]
    return any(a in CONTENT_SUBJECT_WORDS and b in CONTENT_PART_WORDS for a, b in zip(words, words[1:]))


def _scoped(element, scoping_tags) -> bool:
    return any(ancestor.tag in scoping_tags for ancestor in element.iterancestors())


def _landmark(element) -> str | None:
    role = (element.get("role") or "").strip().lower().split(" ", 1)[0]
    if role in ROLE_LABELS:
        return ROLE_LABELS[role]
    tag = element.tag
    if tag == "nav":
        return "navigation"
    if tag in ("header", "footer"):
        if tag == "footer" and _site_footer_in_main(element):
            return "footer"
        return None if _scoped(element, SCOPING_TAGS) else tag
    if tag == "aside":
        named = element.get("aria-label") or element.get("aria-labelledby") or element.get("title")
        return "sidebar" if named or not _scoped(element, ASIDE_SCOPING_TAGS) else None
    if tag == "article":
        return "article"
    return None


def _site_footer_in_main(element) -> bool:
    """A ``<footer>`` whose only scoping ancestor is ``main`` and that carries a copyright mark is the site's footer:
    libxml2 leaves a page's footer inside a ``<main>`` the page never closed, and a main area's own footer does not
    claim the site's copyright."""
    scopes = {a.tag for a in element.iterancestors() if a.tag in SCOPING_TAGS}
    return scopes == {"main"} and bool(_FOOTER_MARK.search(element.text_content()))


def element_label(element) -> str | None:
    """The one label an element carries, or None (order in the module docstring, rule 2)."""
    if element.tag not in LANDMARK_TAGS and not element.keys():
        return None
    aria_label = (element.get("aria-label") or "").lower()
    if "breadcrumb" in aria_label or "BreadcrumbList" in (element.get("itemtype") or ""):
        return "breadcrumb"
    if element.tag == "main" or element.get("itemprop") in ("articleBody", "mainContentOfPage"):
        return "content!"
    labels = set()
    for token in (element.get("class") or "").split():
        labels |= token_labels(token)
    if element.get("id"):
        labels |= token_labels(element.get("id"))
    if labels & {"header", "footer"} and _scoped(element, SCOPING_TAGS):
        labels -= {"header", "footer"}  # inside an article or main: that article's own header/footer
    for label in ABSORBING_FIRST:
        if label in labels:
            return label
    landmark = _landmark(element)
    if landmark is not None:
        return landmark
    for label in TOKEN_PRIORITY:
        if label in labels:
            return label
    return None


# --- text runs ---------------------------------------------------------------------------------------------------
@dataclass
class Run:
    """Inline text of one block between nested blocks, whitespace collapsed, with the span of every link in it."""

    text: str = ""
    spans: dict = field(default_factory=dict)  # link element -> (start, end)
    chars: int = 0  # characters of the text, spaces not counted
    link_chars: int = 0  # of those, inside links
    links: int = 0
    _boundaries: list | None = None

    def sentence_bounds(self) -> list[tuple[int, int]]:
        if self._boundaries is None:
            self._boundaries = [m.span() for m in _SENTENCE_END.finditer(self.text)]
        return self._boundaries


class _RunBuilder:
    def __init__(self):
        self.runs: list[Run] = []
        self.parts: list[str] = []
        self.length = 0
        self.spans: dict = {}
        self.links = 0

    def add(self, raw: str | None) -> None:
        if not raw:
            return
        text = _WS.sub(" ", raw)
        if text.startswith(" ") and (self.length == 0 or self.parts[-1].endswith(" ")):
            text = text[1:]
        if text:
            self.parts.append(text)
            self.length += len(text)

    def space(self) -> None:
        if self.length and not self.parts[-1].endswith(" "):
            self.parts.append(" ")
            self.length += 1

    def close(self) -> None:
        # add() never lets a run start with a space, so only the end needs trimming
        text = "".join(self.parts).rstrip()
        run = Run(text=text, chars=len(text) - text.count(" "), links=self.links)
        for element, (start, end) in self.spans.items():
            start, end = min(start, len(text)), min(end, len(text))
            while start < end and text[start] == " ":
                start += 1
            run.spans[element] = (start, end)
            run.link_chars += end - start - text.count(" ", start, end)
        if run.text or run.spans:
            self.runs.append(run)
        self.parts, self.length, self.spans, self.links = [], 0, {}, 0


def block_runs(block) -> list[Run]:
    """Split a block's inline content into runs; nested blocks are their own blocks and are not entered, except
    inside a link (a block-level "card" link is one link). Iterative, so deep markup cannot exhaust the stack."""
    builder = _RunBuilder()
    builder.add(block.text)
    # frames: (children left to visit, inside a link, the element, where its link text starts, block inside a link)
    stack = [(iter(block), False, None, None, False)]
    while stack:
        children, in_link, element, link_start, spaced = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if link_start is not None:
                builder.spans[element] = (link_start, builder.length)
            if spaced:
                builder.space()
            if element is not None:
                builder.add(element.tail)
            continue
        tag = child.tag
        if not isinstance(tag, str) or tag in SKIPPED_TAGS:
            builder.add(child.tail)
            continue
        if tag in BLOCK_TAGS and not in_link:
            builder.close()
            builder.add(child.tail)
            continue
        block_in_link = tag in BLOCK_TAGS  # and in_link, or it would have been skipped above
        if tag == "br" or block_in_link:
            builder.space()
        opens_link = tag in LINK_TAGS and not in_link and child.get("href") is not None
        if opens_link:
            builder.links += 1
        start = builder.length if opens_link else None
        builder.add(child.text)
        stack.append((iter(child), in_link or opens_link, child, start, block_in_link))
    builder.close()
    return builder.runs


def _last_descendant(element):
    last = element
    while len(last):
        last = last[-1]
    return last


def _block_of(element):
    for ancestor in element.iterancestors():
        if ancestor.tag in BLOCK_TAGS:
            return ancestor
    return element


def _clip_end(text: str, limit: int) -> str:
    """The last ``limit`` characters of ``text``, not starting mid-word."""
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    if not text[-limit - 1].isspace() and " " in cut:
        cut = cut.split(" ", 1)[1]
    return cut.strip()


def _clip_start(text: str, limit: int) -> str:
    """The first ``limit`` characters of ``text``, not ending mid-word."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if not text[limit].isspace() and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.strip()


def is_running_text(run: Run) -> bool:
    return run.chars - run.link_chars >= RUNNING_TEXT_MIN and run.link_chars * 2 < run.chars


def sentence_of(run: Run, start: int, end: int) -> str:
    """The sentence of ``run`` holding the span ``start:end``, capped at ``SENTENCE_LIMIT`` around the span."""
    first, last = 0, len(run.text)
    for b_start, b_end in run.sentence_bounds():
        if b_end <= start:
            first = b_end
        elif b_start >= end:
            last = b_end
            break
    sentence = run.text[first:last].strip()
    if len(sentence) <= SENTENCE_LIMIT:
        return sentence
    room = max(SENTENCE_LIMIT - (end - start), 0) // 2
    return run.text[max(first, start - room) : min(last, end + room)].strip()


# --- main content (trafilatura) ----------------------------------------------------------------------------------
@dataclass
class MainContent:
    """What trafilatura kept: link index -> (position 0..1, paragraph index), and its plain text."""

    kept: dict
    text: str


def _walk_main(body, markers: dict) -> MainContent:
    kept_offsets: dict[int, tuple[int, int]] = {}
    offset = 0
    counter = 0
    stack: list[int] = []

    def walk(element) -> None:
        nonlocal offset, counter
        is_block = element.tag in _MAIN_BLOCKS
        if is_block:
            stack.append(counter)
            counter += 1
        if element.tag == "ref":
            index = markers.get(element.get("target"))
            if index is not None:
                kept_offsets[index] = (offset, stack[-1] if stack else 0)
        offset += len(element.text or "")
        for child in element:
            walk(child)
            offset += len(child.tail or "")
        if is_block:
            stack.pop()

    walk(body)
    total = max(offset, 1)
    kept = {index: (min(start / total, 1.0), paragraph) for index, (start, paragraph) in kept_offsets.items()}
    return MainContent(kept=kept, text=collapse(" ".join(body.itertext())))


def find_main_content(root, anchors) -> MainContent | None:
    """Run trafilatura on ``root`` and report which ``anchors`` it kept; None when it fails outright."""
    import trafilatura  # heavy import, only paid when main content is asked for

    nonce = secrets.token_hex(4)
    markers: dict[str, int] = {}
    saved = []
    try:
        for index, anchor in enumerate(anchors):
            if anchor.tag == "a":
                marker = f"lp{nonce}:{index}"
                saved.append((anchor, anchor.get("href")))
                anchor.set("href", marker)
                markers[marker] = index
        document = trafilatura.bare_extraction(
            root, fast=True, include_links=True, include_comments=False, include_tables=True, include_images=False
        )
    except Exception:  # a third-party crash must not lose the page's links: placement goes on without it
        LOGGER.warning("trafilatura failed; links placed without main content", exc_info=True)
        return None
    finally:
        for anchor, href in saved:
            if href is None:
                anchor.attrib.pop("href", None)
            else:
                anchor.set("href", href)
    if document is None or document.body is None:
        return MainContent(kept={}, text="")
    return _walk_main(document.body, markers)


# --- the page's layout -------------------------------------------------------------------------------------------
def column_width(element) -> float | None:
    """The share of its row a grid column claims (``col-md-4`` -> 1/3), 0 for a column of unknown width (a table
    cell, ``col``), None when the element is not a column."""
    if element.tag in ("td", "th"):
        return 0.0
    width = None
    for token in (element.get("class") or "").split():
        match = _COLUMN.match(token)
        if not match:
            continue
        g = match.groups()
        if g[3] and g[4]:
            value = int(g[3]) / max(int(g[4]), 1)
        elif g[6] and g[7]:
            value = int(g[6]) / max(int(g[7]), 1)
        else:
            number = g[0] or g[1] or g[2] or g[5]
            value = int(number) / 12 if number else 0.0
        width = value if width is None else max(width, value)
    return width


class _Page:
    """One tree's labels, runs and layout, computed once per call."""

    def __init__(self, root, anchors):
        self.root = root
        self.anchors = anchors
        self.labels: dict = {}
        self.runs: dict = {}  # block -> list[Run]
        self.run_of: dict = {}  # link -> Run
        self.density: dict = {}
        self.widths: dict = {}
        self.chains: dict = {}  # element -> _chain state; filled only once the wrappers are known
        self.footers: set = set()  # outermost footer regions met while resolving chains
        self._footer_end: int | None = None
        self.wrappers: set = set()
        self._measure_text()

    def label(self, element) -> str | None:
        try:
            return self.labels[element]
        except KeyError:
            label = None if element.tag in ("html", "body") else element_label(element)
            self.labels[element] = label
            return label

    # chrome (rule 2)
    def chrome(self, element) -> tuple[str | None, str | None]:
        """The region the element and its ancestors decide (rule 2), and the content container enclosing it:
        'strong' (``main``, ``article``, ``entry-content``...), 'weak' (a content word) or None."""
        breadcrumb, absorbing, nearest, weak, container = self._chain(element)
        return ("breadcrumb" if breadcrumb else absorbing or nearest or weak), container

    def _chain(self, element) -> tuple:
        """What an element's ancestor chain says, memoized per element: (breadcrumb seen, outermost absorbing
        label, nearest navigation/header, weak sidebar, container strength)."""
        cache = self.chains
        pending = []
        node = element
        while node is not None and node not in cache:
            pending.append(node)
            node = node.getparent()
        state = cache[node] if node is not None else (False, None, None, None, None)
        for node in reversed(pending):
            label = self.label(node)
            if label is not None and not (label in CHROME_LABELS and node in self.wrappers):
                breadcrumb, absorbing, nearest, weak, container = state
                if label == "breadcrumb":
                    breadcrumb = True
                elif label in ABSORBING:
                    absorbing = absorbing or label  # the outer one, already in the state, wins
                    if label == "footer" and absorbing == "footer":
                        self.footers.add(node)
                elif label in ("navigation", "header"):
                    nearest = label
                elif label == "complementary" and nearest == "navigation" and not absorbing:
                    nearest = "header"  # social icons in the site's menu bar are the banner's, as in its header
                elif label in ("complementary", "widget"):
                    weak = "sidebar"
                elif label == "content":
                    container = container or "weak"
                else:
                    container = "strong"
                state = (breadcrumb, absorbing, nearest, weak, container)
            cache[node] = state
        return state

    # running text and the main area (rules 3 and 5)
    def _measure_text(self) -> None:
        """Document order, and where the running text is (one C-level XPath for the text)."""
        root = self.root
        self.order = order = {element: position for position, element in enumerate(root.iter())}
        first_h1 = next(root.iter("h1"), None)
        self.first_h1 = order[first_h1] if first_h1 is not None else len(order)
        owners = []
        for text in _RUNNING_TEXT(root):
            owner = text.getparent()
            if text.is_tail:
                owner = owner.getparent()
            if owner is not None:
                owners.append((owner, len(" ".join(text.split()))))
        # wrappers: what contains a main-area container that holds running text, and chrome that holds most of the
        # running text (a page builder's <header> around a whole article). Only the heaviest main-area container and
        # those holding a fair share of the text count: teaser cards reuse the theme's ``entry-content`` for their
        # excerpts, and a "related posts" box around them is still a related box
        everything = self._weigh(owners)
        total = sum(length for _, length in owners)
        bodies = [(weight, element) for element, weight in everything.items() if self.label(element) == "content!"]
        heaviest = max((weight for weight, _ in bodies), default=0)
        for weight, element in bodies:
            if weight == heaviest or weight >= WRAPPER_SHARE * total:
                self.wrappers.update(element.iterancestors())
        for element, weight in everything.items():
            if weight >= AREA_SHARE * total and self.label(element) in BIG_CHROME:
                self.wrappers.add(element)
        main_owners = [(owner, length) for owner, length in owners if self.chrome(owner)[0] is None]
        self.weight = self._weigh(main_owners)
        self.area = self.first = self.article = None
        self.article_end = len(order)
        if not main_owners:
            return
        main_total = sum(length for _, length in main_owners)
        scope, scope_total = None, main_total
        # the page's one <main> is its dominant content (HTML Living Standard, "the main element"): the main area
        # is sought inside it when it holds a fair share of the text, so a long teaser grid after a short article
        # does not pass for the article
        landmarks = [e for e in self.weight if e.tag == "main" or (e.get("role") or "").strip().lower() == "main"]
        if len(landmarks) == 1 and self.weight[landmarks[0]] >= MAIN_SHARE * main_total:
            scope, scope_total = landmarks[0], self.weight[landmarks[0]]
        holding = [
            e
            for e, w in self.weight.items()
            if w >= AREA_SHARE * scope_total
            and e.tag not in ("html", "body")
            and (scope is None or e is scope or scope in e.iterancestors())
        ]
        area = max(holding, key=order.__getitem__) if holding else None
        anchors = self.anchors
        if area is not None and not all(area in (a, *a.iterancestors()) for a in (anchors[0], anchors[-1])):
            self.area = area  # informative: some links lie outside it
            # the article holding the main area (its tags, author box and post links are its own), and where it ends
            containers = [e for e in (area, *area.iterancestors()) if e.tag == "main" or self.label(e) in ("content!", "article")]
            self.article = containers[-1] if containers else area
            self.article_end = order[_last_descendant(self.article)]
        self.first = min(order[owner] for owner, _ in main_owners)

    @staticmethod
    def _weigh(owners) -> dict:
        weight: dict = {}
        for owner, length in owners:
            for element in (owner, *owner.iterancestors()):
                weight[element] = weight.get(element, 0) + length
        return weight

    def relative_position(self, link) -> str | None:
        """Rule 6: 'inside' the main area, 'before' it (and before the page's first ``h1``: the page's own title and
        what follows it are content), 'after the footer' (toolbars and banners a page appends after its footer),
        or 'outside'; None when the page has no running text."""
        order = self.order[link]
        if self.area is not None and self.area in link.iterancestors():
            return "inside"
        start = self.order[self.area] if self.area is not None else self.first
        if start is None:
            return None
        if order < min(start, self.first_h1):
            return "before"
        return "after the footer" if order > self.footer_end() else "outside"

    def in_article(self, link) -> bool:
        """Inside the page's main container (``main``, ``article``, ``entry-content``... or the main area): the link
        lists trafilatura's fast extraction drops ("further reading", resource lists, link roundups) are there."""
        if self.chrome(link)[1] == "strong":
            return True
        return self.article is not None and self.article in link.iterancestors()

    def footer_end(self) -> int:
        """Document position of the last element of the page's footers (call once every link's chain is known)."""
        if self._footer_end is None:
            self._footer_end = max(
                (self.order[last] for footer in self.footers for last in [_last_descendant(footer)]),
                default=len(self.order),
            )
        return self._footer_end

    def side_column(self, link) -> str | None:
        """Rule 3: 'navigation' or 'sidebar' when the link sits in a layout column beside the main column."""
        for column in link.iterancestors():
            width = self.width(column)
            if width is None:
                continue
            parent = column.getparent()
            if parent is None or column.tag == "article" or self._inside_article(column):
                return None
            own = self.weight.get(column, 0)
            for sibling in parent:
                if sibling is column or not isinstance(sibling.tag, str):
                    continue
                other_width = self.width(sibling)
                other = self.weight.get(sibling, 0)
                if other_width is None or other < max(SIDE_TEXT_MIN, 2 * own):
                    continue
                if width and other_width and width >= other_width:
                    continue
                density, links = self._link_density(column)
                leading = self.order[column] < self.order[sibling]
                return "navigation" if leading and links >= 3 and density >= 0.6 else "sidebar"
        return None

    def width(self, element) -> float | None:
        if element not in self.widths:
            self.widths[element] = column_width(element)
        return self.widths[element]

    def _inside_article(self, element) -> bool:
        return any(
            a.tag == "article" or (self.label(a) == "content!" and a.tag != "main" and a.get("role") != "main")
            for a in element.iterancestors()
        )

    def _link_density(self, element) -> tuple[float, int]:
        """Share of the element's letters and digits inside links (separators like "·" and "|" do not count)."""
        if element not in self.density:
            total = len(_NON_WORD.sub("", element.text_content()))
            links = element.xpath(".//a[@href]")
            link_chars = sum(len(_NON_WORD.sub("", a.text_content())) for a in links)
            self.density[element] = (link_chars / total if total else 0.0, len(links))
        return self.density[element]

    # text around a link
    def run(self, link) -> Run:
        run = self.run_of.get(link)
        if run is None:
            block = _block_of(link)
            if block not in self.runs:
                self.runs[block] = runs = block_runs(block)
                for candidate in runs:
                    for element in candidate.spans:
                        self.run_of[element] = candidate
            run = self.run_of.get(link)
            if run is None:  # not reachable as inline text of its block (e.g. inside <template>)
                text = collapse(link.text_content()) if link.tag == "a" else ""
                chars = len(text) - text.count(" ")
                run = Run(text=text, spans={link: (0, len(text))}, chars=chars, link_chars=chars, links=1)
                self.run_of[link] = run
        return run

    def near_footer_mark(self, link, run: Run) -> bool:
        """A copyright/"powered by" mark in the link's run or the few short blocks around it."""
        if _FOOTER_MARK.search(run.text):
            return True
        element = _block_of(link)
        while element is not None and element.tag not in ("body", "html"):
            text = element.text_content()
            if len(text) > FOOTER_WINDOW:
                return False
            if _FOOTER_MARK.search(text):
                return True
            element = element.getparent()
        return False

    def is_menu(self, link, run: Run) -> bool:
        """A text link in a table cell, in a group of at least ``MENU_LINKS`` links that is not running text. Only
        cells: a ``<header>`` bar's rows of links are sign-in, social and utility links as often as menus."""
        start, end = run.spans.get(link, (0, 0))
        if start == end or is_running_text(run) or self.group_size(link, run) < MENU_LINKS:
            return False
        return any(ancestor.tag in ("td", "th") for ancestor in link.iterancestors())

    def group_size(self, link, run: Run) -> int:
        block = _block_of(link)
        if block.tag in ("li", "dd", "dt") and block.getparent() is not None:
            return len(block.getparent().xpath(".//a[@href]"))
        return run.links


def lead_in(link, run: Run) -> str | None:
    """The context of a link that is a whole list item ("Further reading", resource lists): the last sentence of
    the paragraph that introduces its list, else the list's heading; None when the item has words of its own."""
    block = _block_of(link)
    if block.tag not in ("li", "dd", "dt") or run.chars - run.link_chars >= RUNNING_TEXT_MIN:
        return None
    items = block.getparent()
    if items is None:
        return None
    previous = items.getprevious()
    while previous is not None and not collapse(previous.text_content()):
        previous = previous.getprevious()
    if previous is None or previous.tag not in ("p", "h2", "h3", "h4", "h5", "h6", "div", "strong", "b", "dt"):
        return None
    text = collapse(previous.text_content())
    if previous.tag == "p" or previous.tag == "div":
        boundaries = [m.end() for m in _SENTENCE_END.finditer(text) if m.end() < len(text)]
        text = text[boundaries[-1]:] if boundaries else text
    return _clip_end(text, SENTENCE_LIMIT) or None


def _heading_map(root, wanted: set) -> dict:
    headings: dict = {}
    current = None
    for element in root.iter("h1", "h2", "h3", "a", "area"):
        if element.tag in LINK_TAGS:
            if element in wanted:
                headings[element] = current
        else:
            current = element
    return headings


def _context_in_main(run: Run, link, main_text: str) -> bool:
    start, end = run.spans.get(link, (0, 0))
    context = run.text[max(0, start - 40) : end + 40].strip()
    return len(context) >= 25 and context in main_text


def _region(page: _Page, link, run: Run, kept: bool) -> str:
    """Rules 2-7 for one link."""
    region, container = page.chrome(link)
    if region == "header" and page.is_menu(link, run):
        # a table layout's header cell holding a row of links without any menu markup (``td.menuHeader``) is a
        # menu: rule 6 reads a group of links before the content the same way
        return "navigation"
    if region is not None:
        return region
    side = page.side_column(link)
    if side is not None:
        return side
    if page.article is not None and page.order[link] > page.article_end and not is_running_text(run):
        # link lists after the article ("more stories", teaser rows of <article> cards, sponsored slides) are the
        # related boxes of rule 2 without their words; a footer without markup still shows its marks
        if page.order[link] > page.footer_end() or page.near_footer_mark(link, run):
            return "footer"
        return "sidebar"
    if container == "strong":
        return "content"
    where = page.relative_position(link)
    if where == "inside":
        return "content"
    if where == "after the footer" or (where is not None and page.near_footer_mark(link, run)):
        return "footer"
    if where == "before":
        start, end = run.spans.get(link, (0, 0))
        if start == end:
            return "header"  # an image before the content: a logo
        return "navigation" if page.group_size(link, run) >= 2 else "header"
    if where is not None or container or kept or is_running_text(run):
        return "content"
    return "unknown"


def place_links(tree, anchors, *, rules=(), main_content=True, site: str | None = None) -> list[dict]:
    """Place every link of a parsed page; see the module docstring for how.

    ``tree`` is the page's lxml tree (root element or ElementTree), ``anchors`` its ``<a href>``/``<area href>``
    elements in document order. ``rules`` come from :func:`compile_rules`; rules limited to a site apply when
    ``site`` (the page's host) is that host or a subdomain. ``main_content=False`` skips trafilatura (most of the
    cost): ``in_main_content``, ``position`` and ``paragraph_index`` are then None.

    Returns one dict per anchor: ``region`` (one of ``REGIONS``), ``in_main_content``, ``text_before``,
    ``text_after``, ``sentence``, ``heading``, ``paragraph_index``, ``position``, ``links_in_block``,
    ``block_link_density``.
    """
    root = tree.getroot() if hasattr(tree, "getroot") else tree
    anchors = list(anchors)
    if not anchors:
        return []
    page = _Page(root, anchors)
    if any(link not in page.order for link in anchors):
        raise ValueError("place_links: every anchor must be an element of the given tree")
    active = [rule for rule in rules if rule.applies_to(site.lower() if site else None)]
    matched = [
        {e for e in rule.xpath(root) if isinstance(e, lxml.etree._Element)} if rule.xpath is not None else None
        for rule in active
    ]
    main = find_main_content(root, anchors) if main_content else None
    kept = main.kept if main is not None else {}
    runs = [page.run(link) for link in anchors]
    for link in anchors:
        page.chrome(link)  # resolves every chain first: the page's footers are then known
    if main is not None and not kept and main.text:
        kept = {i: (None, None) for i, link in enumerate(anchors) if _context_in_main(runs[i], link, main.text)}
    first_kept, last_kept = (min(kept), max(kept)) if kept else (None, None)
    headings = _heading_map(root, set(anchors))

    rows = []
    for index, link in enumerate(anchors):
        run = runs[index]
        start, end = run.spans.get(link, (0, 0))
        # image links are never in trafilatura's output: kept when they sit between kept links
        is_kept = index in kept or (start == end and first_kept is not None and first_kept < index < last_kept)
        region = (_rule_region(link, active, matched) if active else None) or _region(page, link, run, is_kept)
        in_main = None if main is None else (region == "content" and (is_kept or page.in_article(link)))
        position, paragraph = kept.get(index, (None, None)) if in_main else (None, None)
        heading = headings.get(link)
        heading_text = _clip_start(collapse(heading.text_content()), TEXT_LIMIT) if heading is not None else ""
        rows.append(
            {
                "region": region,
                "in_main_content": in_main,
                "text_before": _clip_end(run.text[:start].rstrip(), TEXT_LIMIT),
                "text_after": _clip_start(run.text[end:].lstrip(), TEXT_LIMIT),
                "sentence": (
                    sentence_of(run, start, end)
                    if is_running_text(run)
                    else lead_in(link, run) if in_main else None
                ),
                "heading": heading_text or None,
                "paragraph_index": paragraph,
                "position": position,
                "links_in_block": run.links,
                "block_link_density": round(run.link_chars / run.chars, 4) if run.chars else 0.0,
            }
        )
    return rows
