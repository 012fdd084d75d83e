"""What one element says about the links inside it: its landmark, its ARIA role, its id/class words."""

from __future__ import annotations

from functools import lru_cache

from crawler.extract.placement.vocabulary import (
    _FOOTER_MARK,
    _SPLIT,
    _WORD,
    ABSORBING_FIRST,
    ASIDE_SCOPING_TAGS,
    BREADCRUMB_WORDS,
    BUILDER_PREFIXES,
    CHROME_LABELS,
    COMMENT_POINTER_WORDS,
    COMMENT_WORDS,
    COMPLEMENTARY_WORDS,
    CONTENT_PART_WORDS,
    CONTENT_SUBJECT_WORDS,
    CONTENT_WORDS,
    FOOTER_WORDS,
    HEADER_WORDS,
    IGNORED_PREFIXES,
    ITEM_HEADER_WORDS,
    ITEM_WORDS,
    LANDMARK_TAGS,
    NAV_WORDS,
    OWN_WORDS,
    ROLE_LABELS,
    SCOPING_TAGS,
    SIDE_PARTS,
    SIDEBAR_TOKENS,
    SIDEBAR_WORDS,
    STATE_WORDS,
    STRONG_CONTENT_TOKENS,
    TOKEN_PRIORITY,
    WIDGET_WORDS,
)


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


@lru_cache(maxsize=8192)
def class_labels(css: str | None) -> frozenset[str]:
    """The labels of a class attribute's tokens together (cached: themes repeat the same class strings on every
    item of a list, where ids are often one of a kind)."""
    labels: set[str] = set()
    for token in (css or "").split():
        labels |= token_labels(token)
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
    labels = class_labels(element.get("class"))
    id_ = element.get("id")
    if id_:
        labels |= token_labels(id_)
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


