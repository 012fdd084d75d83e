"""Whom to write to: a page's contact points, as rows of the ``contacts`` table.

Broken-link outreach needs an address at every referring site. The crawl already reads every link of every page,
so the contact points come from those links, at no extra request:

- ``email``: every ``mailto:`` link (the addresses; ``?subject=`` and the like dropped), which the links table
  skips because it is no crawl target;
- ``contact_page``, ``write_for_us_page``, ``imprint_page``, ``about_page``: a link to a page of the same site whose
  anchor text or URL path says so, in several languages (``crawler/extract/contactwords.py``);
- ``social``: a link to a profile on a social network (``network`` names it; share buttons, single posts and
  videos are not profiles).

Each row names the site, the kind, the value (the address or the URL), the network, the anchor text (``label``)
and the page it was found on. A page gives each (kind, value) once and at most ``MAX_CONTACTS_PER_PAGE`` rows;
the reports take each site's contacts over all its pages. Plain functions over an lxml tree and the page's links
rows: they run wherever pages become rows (the crawl, its parse processes, the WARC ingest).
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import unquote, urlsplit

from crawler.extract import contactwords as words
from crawler.extract.page import collapse
from crawler.urls import registered_domain
from schemas.records import ContactRow, LinkRow


def emails_of(href: str) -> list[str]:
    """The addresses of a ``mailto:`` href (RFC 6068: several, comma-separated, percent-encoded), lower case, the
    well-formed ones only."""
    if not href.strip().lower().startswith("mailto:"):
        return []
    to = unquote(href.strip()[7:].split("?", 1)[0])
    out = []
    for address in to.split(","):
        address = address.strip().strip("<>").lower()
        if words.EMAIL_PATTERN.match(address) and address not in out:
            out.append(address)
    return out


# per kind, one pattern for all its anchor words, each a whole word sequence of the padded anchor text: a search
# per kind instead of a substring test per word (this ran for every same-site link: ~1 ms a page)
_ANCHOR_PATTERNS = tuple(
    (kind, re.compile("|".join(re.escape(f" {w} ") for w in sorted(words.ANCHOR_WORDS[kind], key=len, reverse=True))))
    for kind in words.PAGE_KINDS
)


def page_kind(anchor_text: str, url: str) -> str | None:
    """Which contact page a link leads to (``contact_page``...), by its anchor text or its URL path, else None."""
    text = collapse(anchor_text).lower().strip(" :|·•»›>-–")
    if text and len(text.split()) <= words.ANCHOR_MAX_WORDS:
        padded = f" {text.replace('/', ' ').replace('&', ' ')} "
        for kind, pattern in _ANCHOR_PATTERNS:
            if pattern.search(padded):
                return kind
    segments = [s for s in urlsplit(url).path.lower().split("/") if s]
    for kind in words.PAGE_KINDS:
        for segment in segments[-2:]:  # /about/ and /en/contact.html, not /blog/2019/about-tomatoes/
            if segment.rsplit(".", 1)[0] in words.PATH_WORDS[kind]:
                return kind
    return None


def social_profile(url: str) -> tuple[str, str] | None:
    """``(network, canonical profile URL)`` when ``url`` is a profile on a known social network, else None."""
    parts = urlsplit(url)
    profile = words.SOCIAL_PROFILES.get(registered_domain((parts.hostname or "").lower()))
    if profile is None:
        return None
    network, pattern, canonical = profile
    path = unquote(parts.path)
    match = pattern.match(path)
    if match is None:
        return None
    handle = match.group(1)
    if "/" not in handle and handle.lstrip("@").lower() in words.SOCIAL_RESERVED:
        return None
    return network, canonical.format(handle)


def extract_contacts(root, links: list[LinkRow], site: str, source_url: str, fetched_at: datetime | None
                     ) -> list[ContactRow]:
    """The contact points of one page: its ``mailto:`` links (read from ``root``), and among its ``links`` rows
    the contact pages of its own site and the social profiles."""
    rows: list[ContactRow] = []
    seen: set[tuple[str, str]] = set()

    def add(kind: str, value: str, label: str, network: str | None = None) -> None:
        if (kind, value) in seen or len(rows) >= words.MAX_CONTACTS_PER_PAGE:
            return
        seen.add((kind, value))
        rows.append(ContactRow(site=site, kind=kind, value=value, network=network, label=label[:200] or None,
                               source_url=source_url, fetched_at=fetched_at))

    if root is not None:
        for element in root.iter("a", "area"):
            href = element.get("href") or ""
            if href[:7].lower() == "mailto:":
                label = collapse(element.text_content()) if element.tag == "a" else ""
                for address in emails_of(href):
                    add(words.EMAIL, address, label)
    for link in links:
        target = link.target_url
        if link.target_site == site:
            if (kind := page_kind(link.anchor_text, target)) is not None:
                add(kind, target, link.anchor_text)
        elif (profile := social_profile(target)) is not None:
            add(words.SOCIAL, profile[1], link.anchor_text, profile[0])
    return rows
