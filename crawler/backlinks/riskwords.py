"""Vocabulary of the toxic-link audit: reason codes, the TLDs counted as spam-prone, the words that make an anchor
commercial, and the inline CSS that hides an element. The logic is in ``crawler/backlinks/risk.py`` (per page) and
``crawler/reports/toxic.py`` (across pages and sites); see docs/toxic-links.md for what each reason means.
"""

from __future__ import annotations

# Reasons computed from one linking page, in the crawl (columns of the backlinks row).
MANY_OUTBOUND_LINKS = "many_outbound_links"
MANY_LINKED_DOMAINS = "many_linked_domains"
HIDDEN_LINK = "hidden_link"
PAGE_NOINDEX = "page_noindex"
CANONICAL_ELSEWHERE = "canonical_elsewhere"
SPAM_TLD = "spam_tld"
LANGUAGE_MISMATCH = "language_mismatch"
MANY_SPONSORED_LINKS = "many_sponsored_links"
PAGE_REASONS = (MANY_OUTBOUND_LINKS, MANY_LINKED_DOMAINS, HIDDEN_LINK, PAGE_NOINDEX, CANONICAL_ELSEWHERE, SPAM_TLD,
                LANGUAGE_MISMATCH, MANY_SPONSORED_LINKS)

# Reasons that need several pages or sites: computed over the lake (crawler/reports/toxic.py).
SITEWIDE_PLACEMENT = "sitewide_placement"
COMMERCIAL_ANCHOR = "commercial_anchor"
SHARED_TEMPLATE = "shared_template"
LAKE_REASONS = (SITEWIDE_PLACEMENT, COMMERCIAL_ANCHOR, SHARED_TEMPLATE)

REASONS = PAGE_REASONS + LAKE_REASONS
# Reasons about a whole site: disavowed as domain: lines; the others name one page (a URL line).
SITE_REASONS = frozenset({SPAM_TLD, SITEWIDE_PLACEMENT, SHARED_TEMPLATE})

# TLDs among the most abused for spam in Spamhaus' public statistics (https://www.spamhaus.org/statistics/tlds/)
# and the free-registration TLDs of the former Freenom registry. A signal, not a verdict: plenty of honest sites
# live there.
SPAM_TLDS = frozenset(
    "xyz top click loan work gq tk ml cf ga buzz rest fit bid win cam icu cyou sbs cfd bond monster quest "
    "surf lol mom best zip country stream download racing review trade date faith party science accountant "
    "men cricket webcam".split()
)

# Words that make an anchor commercial ("money" anchors). An exact-match commercial anchor repeated across many
# linking domains is the pattern of bought or automated links (Google's spam policies on link spam:
# https://developers.google.com/search/docs/essentials/spam-policies#link-spam).
COMMERCIAL_WORDS = frozenset(
    "buy cheap cheapest best discount deal deals price prices sale coupon coupons order shop store online "
    "casino poker bet betting loan loans payday credit insurance viagra cialis pills replica essay seo "
    "backlinks followers free wholesale outlet".split()
)

# Inline CSS declarations that hide an element from readers (regular expressions over a lower-case style value
# without spaces). Off-screen positioning is counted from 999 pixels on.
HIDING_CSS = (
    r"display:none",
    r"visibility:hidden",
    r"visibility:collapse",
    r"opacity:0(?:\.0+)?(?:;|$|!)",
    r"font-size:0(?:px|em|rem|pt|%)?(?:;|$|!)",
    r"text-indent:-\d{3,}",
    r"(?:left|top|margin-left|margin-top):-\d{3,}",
    r"(?:height|max-height):0(?:px)?(?:;|$|!).*overflow:hidden|overflow:hidden.*(?:height|max-height):0(?:px)?(?:;|$|!)",
    r"clip:rect\(0(?:px)?,?0(?:px)?,?0(?:px)?,?0(?:px)?\)",
)
# Attributes that hide an element: the HTML hidden attribute, and the hiding ones of <input type=hidden>-like tags.
HIDING_ATTRIBUTES = ("hidden",)
# Placements that repeat on every page of a site: a link there on several pages of one site is sitewide.
TEMPLATE_REGIONS = ("footer", "sidebar", "navigation", "header")
