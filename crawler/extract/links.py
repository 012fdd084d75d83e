"""Every ``<a href>`` and ``<area href>`` of a page as a row of the ``links`` table.

The elements are returned beside the rows so placement can work on the same tree without searching it again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import lxml.html

from crawler.extract.page import collapse
from crawler.urls import host_of, registered_domain, resolve_href
from schemas.records import UNPLACED, LinkRow

REL_FLAGS = ("nofollow", "sponsored", "ugc")
LINEAR_PATHS_FROM = 1_000  # links on a page above which XPaths are built by element_paths (see its docstring)


@dataclass
class PageLinks:
    rows: list[LinkRow] = field(default_factory=list)
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


def element_paths(elements: list) -> list[str]:
    """``tree.getpath(element)`` for each element, in time linear in the elements and their ancestors.

    lxml's getpath numbers an element among its same-tag siblings by walking them, so calling it for every link
    of a page is quadratic in a parent's children: 40,000 links in one ``<div>`` took 6 s, 200,000 over 5 minutes
    of a blocked event loop. Here each parent's children are numbered once, and each ancestor's path is built once.
    """
    paths: dict = {}
    numbered: dict = {}
    out = []
    for element in elements:
        chain = []
        node = element
        while node is not None and node not in paths:
            chain.append(node)
            node = node.getparent()
        for node in reversed(chain):  # from the outermost new ancestor down
            parent = node.getparent()
            if parent is None:
                paths[node] = f"/{node.tag}"
                continue
            steps = numbered.get(parent)
            if steps is None:
                steps = numbered[parent] = _child_steps(parent)
            paths[node] = f"{paths[parent]}/{steps[node]}"
        out.append(paths[element])
    return out


def _child_steps(parent) -> dict:
    """Each element child's step in an XPath: its tag, with its position among same-tag siblings when it has any."""
    children = [c for c in parent if isinstance(c.tag, str)]
    counts = Counter(c.tag for c in children)
    seen: Counter = Counter()
    steps = {}
    for child in children:
        seen[child.tag] += 1
        steps[child] = f"{child.tag}[{seen[child.tag]}]" if counts[child.tag] > 1 else child.tag
    return steps


def extract_links(root: lxml.html.HtmlElement, source_url: str, base_url: str, limit: int = 0, *,
                  fetched_at: datetime | None) -> PageLinks:
    """List the page's links in document order, at most ``limit`` of them (0: all; the rest are counted in
    ``skipped["over_page_limit"]``), as ``links`` rows of a page fetched at ``fetched_at``, not yet placed.

    ``anchor_text`` is the visible text with whitespace collapsed, or the image's alt text when the anchor is an
    image; ``external`` means the target's registered domain differs from the source's.
    """
    source_site = registered_domain(host_of(source_url))
    out = PageLinks()
    found = []  # (element, target) of each link kept, in document order
    for element in root.iter("a", "area"):
        href = element.get("href")
        if href is None:
            continue
        if limit and len(found) >= limit:
            out.skipped["over_page_limit"] += 1
            continue
        target, skipped = resolve_href(href, base_url)
        if target is None:
            out.skipped[skipped] += 1
            continue
        found.append((element, target))
    out.elements = [element for element, _ in found]
    if len(out.elements) > LINEAR_PATHS_FROM:
        paths = element_paths(out.elements)
    else:  # lxml's own, in C, is faster while a page's links are few
        tree = root.getroottree()
        paths = [tree.getpath(element) for element in out.elements]
    for ordinal, ((element, target), xpath) in enumerate(zip(found, paths)):
        rel = [token for token in (element.get("rel") or "").lower().split() if token]
        text = collapse(element.text_content()) if element.tag == "a" else ""
        alt = image_alt(element)
        has_image = element.tag == "area" or element.find(".//img") is not None
        target_host = host_of(target)
        target_site = registered_domain(target_host)
        out.rows.append(
            LinkRow(
                source_url=source_url,
                source_site=source_site,
                target_url=target,
                target_host=target_host,
                target_site=target_site,
                external=target_site != source_site,
                tag=element.tag,
                anchor_text=text or alt or "",
                image_alt=alt,
                link_type="image" if has_image and not text else "text",
                rel=rel,
                nofollow="nofollow" in rel,
                sponsored="sponsored" in rel,
                ugc="ugc" in rel,
                ordinal=ordinal,
                xpath=xpath,
                fetched_at=fetched_at,
                **UNPLACED,
            )
        )
    return out
