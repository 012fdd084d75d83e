"""Where each link sits on its page: the page region, whether it is part of the main text, and the words around it.

SEO users judge a link by its position (Screaming Frog's "link position", Ahrefs' ``is_content``): an editorial
link inside an article is worth more than the same link in a sitewide footer, and a backlink that moved out of the
content is *degraded*. This module answers that from the lxml tree the spider already parsed, so a page is parsed
once; trafilatura reads the same tree (it copies it internally; we never download or decode twice).

Regions
=======
``REGIONS`` names where a link sits. Decided in this order, first decision wins:

1. **Per-site rules** (``LINK_REGION_RULES``, see :func:`compile_rules`): the first rule matching the link or
   one of its ancestors decides.
2. **Page chrome among the link's ancestors.** Each ancestor may carry a label, from (per element, strongest
   first) a breadcrumb marker (class ``breadcrumb(s)``, ``aria-label`` mentioning breadcrumb, schema.org
   ``BreadcrumbList``), comments/footer class tokens, its HTML5 landmark or ARIA role, then its other id/class
   tokens. Tokens are split into words on ``-``, ``_``, spaces and camelCase and matched as whole words, so
   ``navy``, ``unavailable``, ``canvas`` and ``commentary`` (an editorial column) mean nothing. The labels are
   resolved over the whole ancestor chain:

   - **breadcrumb** anywhere wins: a trail is a trail wherever a theme puts it.
   - **footer** and **comments** *absorb* what they contain, the outermost one deciding: a footer menu
     (``footer > nav``, which Screaming Frog calls navigation and warns about), footer widgets and footer social
     icons are ``footer``; a comment's own header, footer and reply links are ``comments``. Forum signatures
     and comment forms are ``comments`` too: text users add under a post, not the page's editorial content.
   - otherwise the **nearest** of navigation, header and sidebar decides: the menu inside a site header is
     ``navigation`` while the logo beside it is ``header``; a menu widget inside a sidebar and a table of
     contents inside an article (``article > nav``) are ``navigation``.
   - the weak "complementary" boxes (related posts, share and social buttons, ads) are ``sidebar`` only when
     nothing stronger encloses them; social icons in a header stay ``header``.

   Scoping follows HTML-AAM: a ``header``/``footer`` inside ``article``, ``aside``, ``main``, ``nav`` or
   ``section`` is the article's own header/footer (byline, categories, tags), not the site banner or
   contentinfo, so it decides nothing and its links end up ``content``; class tokens do the same for
   ``entry-header``, ``post-footer``, ``card-footer``... An ``aside`` inside an article is a call-out (content)
   unless it is labelled. Wrappers are not regions: an element that contains the page's main area (``main``,
   ``role=main``, ``articleBody``, ``entry-content``...) decides nothing, whatever its classes say
   (``content-sidebar-wrap``, ``has-sidebar``); ``html`` and ``body`` never decide; state classes
   (``menu-open``, ``no-sidebar``) and WordPress taxonomy classes (``tag-menu``) are ignored.
3. **Layout columns.** A grid column (``col-md-4``, ``span3``, ``large-4``...) or table cell that does not hold
   the main content while a sibling column does is a side column: ``navigation`` when it comes first and is a
   list of links (the left menu of a table layout), ``sidebar`` otherwise. With known widths the side column
   must be the narrower one.
4. **Main content** (trafilatura, when ``main_content=True``): a link it keeps is ``content``.
5. A link inside ``main``, ``article`` or a content-like container (``entry``, ``post``, ``content``...) is
   ``content``.
6. **Position**, for pages without markup hints, when trafilatura located the main text: a link before the
   first main-content link is ``navigation`` when it belongs to a group of links (a menu) and ``header`` when
   alone (a logo); after the last one it is ``footer``; in between it is ``content``.
7. A link in running text (a block with at least 40 characters of its own text, under half of it link text)
   is ``content``. Anything else is ``unknown``.

Main content
============
trafilatura (``fast=True``: the readability/justext comparison triples its cost and drops links) is run on the
same tree with links kept. To map its output back to elements without text guessing, each ``<a>`` gets a unique
marker ``href`` for the duration of the call (restored in ``finally``; trafilatura copies the tree and copies
``href`` verbatim into ``<ref target>``), so a kept link is found by identity. Links without text (image links,
which trafilatura always drops) count as main content when they sit between main-content links in a
``content`` region. When trafilatura's output has no links at all (its baseline fallback returns plain text),
membership falls back to finding the link's text with its surrounding words in the main text.
``in_main_content`` is true only for ``content``-region links, so the two columns never contradict each other;
``position`` (character offset in the main text, 0..1) and ``paragraph_index`` (its block among trafilatura's
paragraphs, headings, list items and cells) are set for main-content links only.

Text around a link
==================
A link's *block* is its nearest block-level ancestor; nested blocks split it into separate runs of inline text,
and a link's text columns come from its run only (``text_before``/``text_after`` up to 150 characters, cut at
a word boundary). ``sentence`` is set when the run is running text (rule 7), cut at sentence punctuation followed
by a capital, capped at 300 characters around the link. ``links_in_block`` counts every ``<a href>``/``<area
href>`` in the run; ``block_link_density`` is the share of the run's characters inside links (0 for a run
without text). ``heading`` is the nearest preceding ``h1``-``h3``.
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

REGIONS = ("content", "navigation", "header", "footer", "sidebar", "comments", "breadcrumb", "unknown")

TEXT_LIMIT = 150
SENTENCE_LIMIT = 300
RUNNING_TEXT_MIN = 40  # characters of a run's own (non-link) text that make it running text

BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details dialog dir div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hgroup hr html li main menu nav ol p pre section summary table tbody td tfoot th "
    "thead tr ul caption legend option select".split()
)
SKIPPED_TAGS = frozenset(("script", "style", "template", "head", "title"))
LINK_TAGS = ("a", "area")

# --- vocabulary of id/class words -----------------------------------------------------------------------------
BREADCRUMB_WORDS = frozenset(("breadcrumb", "breadcrumbs", "crumb", "crumbs", "breadcrumbtrail"))
COMMENT_WORDS = frozenset(("comment", "comments", "commentlist", "respond", "disqus", "signature", "signatures", "signaturecontainer"))
# "3 comments" links and counters in a post's meta line are not the comments section
COMMENT_POINTER_WORDS = frozenset(("link", "links", "count", "counter", "number", "num", "icon", "btn", "button", "bubble", "total"))
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
    "navlinks navlist pagination pager paging toc tableofcontents dropdown".split()
)
SIDEBAR_WORDS = frozenset(("sidebar", "sidebars", "widgetarea", "rail", "sidecol", "aside"))
WIDGET_WORDS = frozenset(("widget", "widgets"))
SIDE_PARTS = frozenset(("bar", "col", "column", "rail", "panel"))
COMPLEMENTARY_WORDS = frozenset(
    "related relatedposts similar yarpp share sharing sharedaddy addtoany sharethis social socials ad ads advert "
    "adverts advertisement adsbygoogle sponsor sponsors promo".split()
)
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
    "article": "content",
}
# HTML-AAM scoping, without <section>: themes use it as a plain wrapper far too often
SCOPING_TAGS = frozenset(("article", "aside", "main", "nav"))
ASIDE_SCOPING_TAGS = frozenset(("article", "aside", "nav"))

# Labels of one element: the regions, plus "complementary" (related/share/ad boxes, a weak sidebar), "content!"
# (a main-area container: its ancestors are wrappers) and "content" (a weak content hint).
CHROME_LABELS = frozenset(("breadcrumb", "comments", "footer", "navigation", "header", "sidebar", "complementary"))
ABSORBING = frozenset(("footer", "comments", "sidebar"))
ABSORBING_FIRST = ("breadcrumb", "comments", "footer", "sidebar")  # class labels that outrank an element's landmark
TOKEN_PRIORITY = ("navigation", "header", "widget", "complementary", "content!", "content")
WRAPPER_MIN_LINKS = 3  # main-content links needed before their common ancestors count as wrappers

_SPLIT = re.compile(r"[-_\s:./]+")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_COLUMN = re.compile(
    r"^(?:(?:col|span|column|columns|cell)(?:-(?:xs|sm|md|lg|xl|xxl))?(?:--?(\d+))?|span(\d+)|(?:small|medium|large)-(\d+)"
    r"|(?:\w+:)?w-(\d+)/(\d+)|(?:\w+:)?col-span-(\d+)|pure-u(?:-\w+)?-(\d+)-(\d+))$"
)
_WS = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*\s+(?=[A-Z0-9\"'“‘(\[¿¡À-ÖØ-Þ])|[。！？]+")
_MAIN_BLOCKS = frozenset(("p", "head", "item", "cell", "code", "quote"))
# A cheap superset of the main-area containers (element_label decides): main, role=main, articleBody, and
# elements whose class or id may hold a content/body/text word.
_CONTAINER_CANDIDATES = lxml.etree.XPath(
    "//*[self::main or @role='main' or @itemprop='articleBody' or @itemprop='mainContentOfPage'"
    " or contains(@class,'ontent') or contains(@class,'ody') or contains(@class,'ext')"
    " or contains(@id,'ontent') or contains(@id,'ody') or contains(@id,'ext')]"
)


# --- per-site rules ---------------------------------------------------------------------------------------------
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
    ``{"class": "token", "region": ...}`` dicts, each optionally limited to ``"site": "example.com"`` (the host
    and its subdomains). The first rule matching a link or one of its ancestors decides its region. Raises
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
            if not isinstance(token, str) or not token.strip() or len(token.split()) != 1:
                raise ValueError(f"{where}: 'class' must be one class token")
            rules.append(RegionRule(region=region, css_class=token.strip(), site=site))
    return tuple(rules)


# --- what one element says ---------------------------------------------------------------------------------------
@lru_cache(maxsize=8192)
def token_labels(token: str) -> frozenset[str]:
    """The region labels one class or id token carries, by whole words (``site-footer`` -> footer)."""
    lowered = token.lower()
    if lowered.startswith(IGNORED_PREFIXES):
        return frozenset()
    words = {w.lower() for part in _SPLIT.split(token) for w in _WORD.findall(part)}
    if not words or words & STATE_WORDS:
        return frozenset()
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
    if words & WIDGET_WORDS and not lowered.startswith(BUILDER_PREFIXES):
        labels.add("widget")
    if (
        words & SIDEBAR_WORDS
        or lowered == "secondary"
        or ("side" in words and words & SIDE_PARTS)
        or (words & {"left", "right"} and words & (SIDE_PARTS | {"sidebar"}))
    ):
        labels.add("sidebar")
    if words & COMPLEMENTARY_WORDS:
        labels.add("complementary")
    if lowered in STRONG_CONTENT_TOKENS or (words & CONTENT_SUBJECT_WORDS and words & CONTENT_PART_WORDS):
        labels.add("content!")
    if words & CONTENT_WORDS:
        labels.add("content")
    return frozenset(labels)


def _tokens(element) -> list[str]:
    tokens = (element.get("class") or "").split()
    ident = element.get("id")
    if ident:
        tokens.append(ident)
    return tokens


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
        return None if _scoped(element, SCOPING_TAGS) else ("header" if tag == "header" else "footer")
    if tag == "aside":
        named = element.get("aria-label") or element.get("aria-labelledby") or element.get("title")
        return "sidebar" if named or not _scoped(element, ASIDE_SCOPING_TAGS) else None
    if tag == "main":
        return "content!"
    if tag == "article":
        return "content"
    return None


def element_label(element) -> str | None:
    """The one label an element carries, or None. Strongest first: breadcrumb markers, a main-area container, the
    absorbing class labels (comments, footer, sidebar), the landmark, then the other class labels; a ``widget``
    token counts as sidebar only when nothing else on the element names a region (Blogger's ``widget Header``)."""
    aria = (element.get("aria-label") or "").lower()
    if "breadcrumb" in aria or "BreadcrumbList" in (element.get("itemtype") or ""):
        return "breadcrumb"
    if element.tag == "main" or element.get("itemprop") in ("articleBody", "mainContentOfPage"):
        return "content!"
    labels = set()
    for token in _tokens(element):
        labels |= token_labels(token)
    if element.tag in ("header", "footer") and _scoped(element, SCOPING_TAGS):
        labels -= {"header", "footer"}  # the tag already says whose header/footer it is: the article's
    for label in ABSORBING_FIRST:
        if label in labels:
            return label
    landmark = _landmark(element)
    if landmark is not None:
        return landmark
    for label in TOKEN_PRIORITY:
        if label in labels:
            return "sidebar" if label == "widget" else label
    return None


# --- layout columns ----------------------------------------------------------------------------------------------
def column_width(element) -> float | None:
    """The share of its row a grid column claims (``col-md-4`` -> 1/3), 0 when it is a column of unknown width
    (a table cell, ``col``), None when the element is not a column."""
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


# --- text runs ---------------------------------------------------------------------------------------------------
@dataclass
class Run:
    """Inline text of one block between nested blocks, whitespace collapsed, with the character span of every
    link in it."""

    text: str = ""
    spans: dict = field(default_factory=dict)  # link element -> (start, end)
    link_chars: int = 0
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
        self.open_links: dict = {}
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
        run = Run(text="".join(self.parts).rstrip(), links=self.links)
        for element, (start, end) in self.spans.items():
            start, end = min(start, len(run.text)), min(end, len(run.text))
            while start < end and run.text[start] == " ":
                start += 1
            run.spans[element] = (start, end)
            run.link_chars += len(run.text[start:end].rstrip())
        if run.text or run.spans:
            self.runs.append(run)
        self.parts, self.length, self.spans, self.links = [], 0, {}, 0


def block_runs(block) -> list[Run]:
    """Split a block's inline content into runs; nested blocks are their own blocks and are not entered, except
    inside a link (a block-level "card" link is one link)."""
    builder = _RunBuilder()

    def walk(element, in_link: bool) -> None:
        builder.add(element.text)
        for child in element:
            tag = child.tag
            if not isinstance(tag, str) or tag in SKIPPED_TAGS:
                builder.add(child.tail)
                continue
            if tag in BLOCK_TAGS and not in_link:
                builder.close()
                builder.add(child.tail)
                continue
            if tag == "br" or (tag in BLOCK_TAGS and in_link):
                builder.space()
            if tag in LINK_TAGS and child.get("href") is not None and not in_link:
                builder.links += 1
                start = builder.length
                walk(child, True)
                builder.spans[child] = (start, builder.length)
            else:
                walk(child, in_link)
            if tag in BLOCK_TAGS and in_link:
                builder.space()
            builder.add(child.tail)

    walk(block, False)
    builder.close()
    return builder.runs


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
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if not text[limit].isspace() and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.strip()


def is_running_text(run: Run) -> bool:
    own = len(run.text) - run.link_chars
    return own >= RUNNING_TEXT_MIN and run.link_chars * 2 < len(run.text)


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


# --- main content ------------------------------------------------------------------------------------------------
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


# --- placement ---------------------------------------------------------------------------------------------------
class _Page:
    """Per-call caches over one tree."""

    def __init__(self, root):
        self.root = root
        self.labels: dict = {}
        self.runs: dict = {}  # block -> list[Run]
        self.run_of: dict = {}  # link element -> Run
        self.containers = [e for e in _CONTAINER_CANDIDATES(root) if self.label(e) == "content!"]
        self.wrappers = {ancestor for container in self.containers for ancestor in container.iterancestors()}

    def add_main_holders(self, kept_links: list) -> None:
        """Elements holding most of trafilatura's main-content links are wrappers too, whatever they are called
        (page builders wrap whole articles in ``<header>``)."""
        if len(kept_links) < WRAPPER_MIN_LINKS:
            return
        counts: dict = {}
        for link in kept_links:
            for ancestor in link.iterancestors():
                counts[ancestor] = counts.get(ancestor, 0) + 1
        self.wrappers.update(e for e, n in counts.items() if n * 2 >= len(kept_links))

    def label(self, element) -> str | None:
        try:
            return self.labels[element]
        except KeyError:
            label = None if element.tag in ("html", "body") else element_label(element)
            self.labels[element] = label
            return label

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
                run = Run(text=text, spans={link: (0, len(text))}, link_chars=len(text), links=1)
                self.run_of[link] = run
        return run

    def chrome(self, link) -> tuple[str | None, bool]:
        """The region the ancestors decide (rule 2), and whether a content-like container encloses the link."""
        nearest = weak = absorbing = None
        in_content = False
        for ancestor in (link, *link.iterancestors()):
            label = self.label(ancestor)
            if label is None or (label in CHROME_LABELS and ancestor in self.wrappers):
                continue
            if label == "breadcrumb":
                return "breadcrumb", in_content
            if label in ABSORBING:
                absorbing = label
            elif label in ("navigation", "header"):
                nearest = nearest or label
            elif label == "complementary":
                weak = weak or "sidebar"
            else:
                in_content = True
        return absorbing or nearest or weak, in_content


def _content_ancestors(root, anchors, main: MainContent | None, page: _Page) -> set:
    """Elements holding the page's main area: ancestors-or-self of main/article containers and of kept links."""
    holders: set = set()
    markers = [e for e in root.iter("main", "article") if isinstance(e.tag, str)]
    markers += page.containers
    if main is not None:
        markers += [anchors[i] for i in main.kept]
    for marker in markers:
        for element in (marker, *marker.iterancestors()):
            if element in holders:
                break
            holders.add(element)
    return holders


def _link_density(element, cache: dict) -> tuple[float, int]:
    if element not in cache:
        total = len(collapse(element.text_content()))
        links = element.xpath(".//a[@href]")
        link_chars = sum(len(collapse(a.text_content())) for a in links)
        cache[element] = (link_chars / total if total else 0.0, len(links))
    return cache[element]


def _inside_article(element, page: _Page) -> bool:
    """Columns inside an article or its body are the article's own layout, not the page's."""
    return any(
        a.tag == "article" or (page.label(a) == "content!" and a.tag != "main" and a.get("role") != "main")
        for a in element.iterancestors()
    )


def _side_column(link, holders: set, page: _Page, density_cache: dict) -> str | None:
    """Rule 3: 'navigation' or 'sidebar' when the link sits in a layout column beside the main content column."""
    for column in link.iterancestors():
        if column in holders:
            return None
        width = column_width(column)
        if width is None:
            continue
        parent = column.getparent()
        if parent is None or _inside_article(column, page):
            return None
        siblings = [s for s in parent if isinstance(s.tag, str) and s is not column]
        for sibling in siblings:
            if sibling not in holders:
                continue
            other = column_width(sibling)
            if other is None:
                continue
            if width and other and width >= other:
                return None
            leading = parent.index(column) < parent.index(sibling)
            density, links = _link_density(column, density_cache)
            return "navigation" if leading and links >= 3 and density >= 0.6 else "sidebar"
    return None


def _group_size(link, run: Run) -> int:
    block = _block_of(link)
    if block.tag in ("li", "dd", "dt"):
        container = block.getparent()
        if container is not None:
            return len(container.xpath(".//a[@href]"))
    return run.links


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


def _rule_region(link, rules, matched: list) -> str | None:
    chain = (link, *link.iterancestors())
    for rule, elements in zip(rules, matched):
        if rule.xpath is not None:
            if any(element in elements for element in chain):
                return rule.region
        elif any(rule.css_class in (element.get("class") or "").split() for element in chain):
            return rule.region
    return None


def _context_in_main(run: Run, link, main_text: str) -> bool:
    start, end = run.spans.get(link, (0, 0))
    context = run.text[max(0, start - 40) : end + 40].strip()
    return len(context) >= 25 and context in main_text


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
    page = _Page(root)
    active = [rule for rule in rules if rule.applies_to(site.lower() if site else None)]
    matched = [
        set(e for e in rule.xpath(root) if isinstance(e, lxml.etree._Element)) if rule.xpath is not None else None
        for rule in active
    ]
    main = find_main_content(root, anchors) if main_content else None
    kept = main.kept if main is not None else {}
    runs = [page.run(link) for link in anchors]
    if main is not None and not kept and main.text:
        kept = {i: (None, None) for i, link in enumerate(anchors) if _context_in_main(runs[i], link, main.text)}
    page.add_main_holders([anchors[i] for i in kept])
    holders = _content_ancestors(root, anchors, main, page)
    headings = _heading_map(root, set(anchors))
    first_kept, last_kept = (min(kept), max(kept)) if kept else (None, None)
    density_cache: dict = {}

    rows = []
    for index, link in enumerate(anchors):
        run = runs[index]
        region = _rule_region(link, active, matched) if active else None
        in_content = False
        if region is None:
            region, in_content = page.chrome(link)
        if region is None:
            region = _side_column(link, holders, page, density_cache)
        if region is None:
            if index in kept or in_content:
                region = "content"
            elif first_kept is not None and index < first_kept:
                region = "navigation" if _group_size(link, run) >= 2 else "header"
            elif first_kept is not None and index > last_kept:
                region = "footer"
            elif first_kept is not None or is_running_text(run):
                region = "content"
            else:
                region = "unknown"

        start, end = run.spans.get(link, (0, 0))
        in_main = None
        if main is not None:
            in_main = region == "content" and (
                index in kept or (start == end and first_kept is not None and first_kept < index < last_kept)
            )
        position, paragraph = kept.get(index, (None, None)) if in_main else (None, None)
        heading = headings.get(link)
        heading_text = _clip_start(collapse(heading.text_content()), TEXT_LIMIT) if heading is not None else ""
        rows.append(
            {
                "region": region,
                "in_main_content": in_main,
                "text_before": _clip_end(run.text[:start].rstrip(), TEXT_LIMIT),
                "text_after": _clip_start(run.text[end:].lstrip(), TEXT_LIMIT),
                "sentence": sentence_of(run, start, end) if is_running_text(run) else None,
                "heading": heading_text or None,
                "paragraph_index": paragraph,
                "position": position,
                "links_in_block": run.links,
                "block_link_density": round(run.link_chars / len(run.text), 4) if run.text else 0.0,
            }
        )
    return rows

