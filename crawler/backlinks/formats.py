"""Vocabulary of the backlink exports we read: each vendor's header names and how its columns map onto ours.

Only names live here; ``crawler/backlinks/vendors.py`` holds the logic that detects a format by its header and
turns a vendor row into an input row. Header names are compared as *keys*: lower case, without spaces,
underscores, hyphens or quotes (Majestic spells ``Source URL``, ``SourceURL`` or ``source_url`` depending on the
export; Semrush writes ``Source url``, Bing ``Source Url``).

Sources (the vendors' own export descriptions):

- Google Search Console, Links report, "Export external links": "Latest links" (``Linking page``, ``Last
  crawled``) and "More sample links" (``Linking page``); headers follow the interface language; tables are
  capped at 1,000 rows; a bulk download is a zip of CSV files. Its "Top linking sites", "Top linked pages" and
  "Top linking text" tables are counts, not links (https://support.google.com/webmasters/answer/9049606).
- Ahrefs Site Explorer, Backlinks export: UTF-16 LE with a BOM, tab separated (``Referring page URL``, ``Target
  URL``, ``Anchor``, ``Nofollow``, ``UGC``, ``Sponsored`` ...), https://help.ahrefs.com/.
- Semrush Backlink Analytics, Backlinks export (``Source url``, ``Target url``, ``Anchor``, ``Nofollow``,
  ``Sponsored``, ``Ugc`` as TRUE/FALSE), https://www.semrush.com/kb/.
- Majestic, Backlinks export (``Target URL``, ``Source URL``, ``Anchor Text``, ``FlagNoFollow`` ...),
  https://majestic.com/help/.
- Bing Webmaster Tools, Backlinks export (``Source Url``, ``Anchor text``, ``Target Url``).
- Moz Link Explorer, Inbound Links export: best effort (``URL`` or ``Source URL``, ``Target URL``, ``Anchor
  Text``, a ``Link Type``/``Rel`` column naming follow/nofollow, and Moz's own metrics).
"""

from __future__ import annotations

from dataclasses import dataclass, field

OURS = "linkprospector"


@dataclass(frozen=True)
class Format:
    name: str  # stored in the backlinks rows' input_format
    label: str  # as named in messages
    source: tuple[str, ...]  # header keys that may hold the linking page (the first present is used)
    target: tuple[str, ...] = ()  # ... the linked URL on your site (none: GSC, whose target is your property)
    anchor: tuple[str, ...] = ()  # ... the anchor text
    rel_flags: dict[str, tuple[str, ...]] = field(default_factory=dict)  # rel token -> boolean column keys
    rel_text: tuple[str, ...] = ()  # a column listing rel tokens or follow/nofollow in words
    markers: tuple[str, ...] = ()  # keys that must all be present (beyond source, target) to recognize it
    any_marker: tuple[str, ...] = ()  # at least one of these keys must be present


# Tried in this order: the first whose keys are all in the header wins (Majestic before Bing: both have
# Source URL, Target URL and Anchor Text, only Majestic has FlagNoFollow).
FORMATS: tuple[Format, ...] = (
    Format("ahrefs", "Ahrefs backlinks", source=("referringpageurl",), target=("targeturl",), anchor=("anchor",),
           rel_flags={"nofollow": ("nofollow",), "ugc": ("ugc",), "sponsored": ("sponsored",)}),
    Format("majestic", "Majestic backlinks", source=("sourceurl",), target=("targeturl",), anchor=("anchortext",),
           rel_flags={"nofollow": ("flagnofollow",)}, markers=("flagnofollow",)),
    Format("semrush", "Semrush backlinks", source=("sourceurl",), target=("targeturl",), anchor=("anchor",),
           rel_flags={"nofollow": ("nofollow",), "sponsored": ("sponsored",), "ugc": ("ugc",)},
           markers=("nofollow",)),
    Format("moz", "Moz Link Explorer inbound links", source=("sourceurl", "url"), target=("targeturl",),
           anchor=("anchortext",), rel_text=("linktype", "relattributes", "rel"),
           any_marker=("pageauthority", "domainauthority", "spamscore")),
    Format("bing", "Bing Webmaster Tools backlinks", source=("sourceurl",), target=("targeturl",),
           anchor=("anchortext",), markers=("anchortext",)),
    # Search Console: the header follows the interface language (English and German here; add others as met).
    Format("gsc", "Google Search Console links (Latest links / More sample links)",
           source=("linkingpage", "verlinkendeseite", "verweisendeseite")),
)

# Search Console columns that come with "Linking page" and carry no expectation (they stay in vendor_columns).
GSC_EXTRA = frozenset({"lastcrawled", "zuletztgecrawlt"})

# Search Console tables of counts, by a header key they start with -> what they are. They name no linking page,
# so they cannot be verified; the message says which export to take instead.
GSC_COUNT_TABLES = {
    "site": "Top linking sites", "toplinkingsites": "Top linking sites", "website": "Top linking sites",
    "targetpage": "Top linked pages", "toplinkedpages": "Top linked pages", "zielseite": "Top linked pages",
    "linkingtext": "Top linking text", "toplinkingtext": "Top linking text", "linktext": "Top linking text",
}
GSC_LINKS_EXPORT = ("in Search Console > Links, use EXPORT EXTERNAL LINKS > Latest links (or More sample links), "
                    "which lists linking pages")

# Cell values that mean "yes" in a vendor's boolean column (Ahrefs true, Semrush TRUE, Majestic +) and words of
# a rel-text column.
TRUE_VALUES = frozenset({"true", "yes", "y", "1", "+", "x", "wahr", "ja"})
REL_WORDS = {"nofollow": "nofollow", "no follow": "nofollow", "ugc": "ugc", "sponsored": "sponsored",
             "follow": "", "dofollow": "", "do follow": ""}

KNOWN_FORMATS = (OURS, *(f.name for f in FORMATS))
