"""Every ``<a href>`` and ``<area href>`` of a page as a row of the ``links`` table.

The elements are returned beside the rows so placement can work on the same tree without searching it again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import lxml.html

from crawler.extract.page import collapse
from crawler.urls import host_of, registered_domain, resolve_href

REL_FLAGS = ("nofollow", "sponsored", "ugc")


@dataclass
class PageLinks:
    rows: list[dict] = field(default_factory=list)
    elements: list[lxml.html.HtmlElement] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # scheme or reason -> count (javascript, mailto, tel, data...)


def image_alt(element: lxml.html.HtmlElement) -> str | None:
    if element.tag == "area":
        return collapse(element.get("alt")) or None
    for img in element.iter("img"):
        alt = collapse(img.get("alt"))
        if alt:
            return alt
    return None


def extract_links(root: lxml.html.HtmlElement, source_url: str, base_url: str) -> PageLinks:
    """List the page's links in document order.

    ``anchor_text`` is the visible text with whitespace collapsed, or the image's alt text when the anchor is an
    image; ``external`` means the target's registered domain differs from the source's.
    """
    source_site = registered_domain(host_of(source_url))
    tree = root.getroottree()
    out = PageLinks()
    for element in root.iter("a", "area"):
        href = element.get("href")
        if href is None:
            continue
        target, skipped = resolve_href(href, base_url)
        if target is None:
            out.skipped[skipped] += 1
            continue
        rel = [token for token in (element.get("rel") or "").lower().split() if token]
        text = collapse(element.text_content()) if element.tag == "a" else ""
        alt = image_alt(element)
        has_image = element.tag == "area" or element.find(".//img") is not None
        target_host = host_of(target)
        target_site = registered_domain(target_host)
        out.rows.append(
            {
                "source_url": source_url,
                "source_site": source_site,
                "target_url": target,
                "target_host": target_host,
                "target_site": target_site,
                "external": target_site != source_site,
                "tag": element.tag,
                "anchor_text": text or alt or "",
                "image_alt": alt,
                "link_type": "image" if has_image and not text else "text",
                "rel": rel,
                "nofollow": "nofollow" in rel,
                "sponsored": "sponsored" in rel,
                "ugc": "ugc" in rel,
                "ordinal": len(out.rows),
                "xpath": tree.getpath(element),
            }
        )
        out.elements.append(element)
    return out
