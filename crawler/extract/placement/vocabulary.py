"""The words, tokens, patterns and thresholds placement reads pages with: vocabulary apart from logic, as trafilatura keeps
its XPaths apart (its ``xpaths.py``). The rules that use them are in the sibling modules; the package docstring
(``crawler/extract/placement/__init__.py``) says how a link's region is decided."""

from __future__ import annotations

import re

import lxml.etree
import lxml.html

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
_NON_WORD = re.compile(r"\W+")
# the leading lookahead names the characters either branch starts with: the same matches, but the regex engine
# skips every other position at once instead of trying both branches there (2x faster on running text)
_SENTENCE_END = re.compile(r"(?=[.!?…。！？])(?:[.!?…]+[\"'”’)\]]*\s+(?=[A-Z0-9\"'“‘(\[¿¡À-ÖØ-Þ])|[。！？]+)")
_FOOTER_MARK = re.compile(
    r"©|\(c\)\s*(?:19|20)\d\d|copyright\s*(?:©|\(c\)|(?:19|20)\d\d)|all rights reserved|powered by|"
    r"last (?:updated|modified)",
    re.IGNORECASE,
)
_MAIN_BLOCKS = frozenset(("p", "head", "item", "cell", "code", "quote"))
# the HTML blocks that are trafilatura's paragraphs, headings, list items, cells, code and quotes: an article's
# ``paragraph_index`` counts these (maincontent.article_positions)
ARTICLE_BLOCKS = frozenset(("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "td", "th", "pre",
                            "blockquote", "figcaption"))
_NOT_TEXT = frozenset(("script", "style", "template", "noscript"))  # elements whose text is not the page's text
# Running text for the main area: text nodes of AREA_TEXT_MIN characters or more, outside links and invisible parts
_RUNNING_TEXT = lxml.etree.XPath(
    f"//text()[string-length(normalize-space()) >= {AREA_TEXT_MIN}][not(ancestor::a or ancestor::head"
    " or ancestor::script or ancestor::style or ancestor::noscript or ancestor::template or ancestor::svg"
    " or ancestor::select or ancestor::textarea or ancestor::button)]"
)


