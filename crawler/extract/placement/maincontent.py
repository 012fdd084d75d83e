"""The page's main text as trafilatura sees it, mapped back onto our tree: which links sit in it, and where."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from crawler.extract.page import collapse
from crawler.extract.placement.vocabulary import _MAIN_BLOCKS

LOGGER = logging.getLogger(__name__)
# trafilatura logs a warning for every page it finds little text in (common on real pages and WARC ingests): its
# verdict is our input, not news for the crawl log.
logging.getLogger("trafilatura").setLevel(logging.ERROR)

MAIN_CONTENT_MODES = ("auto", "article", "trafilatura")


def main_content_mode(value) -> str | None:
    """``PLACEMENT_MAIN_CONTENT`` read: one of ``MAIN_CONTENT_MODES``, or None for off. ``True`` is the mode of
    earlier releases, trafilatura on every page."""
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return "trafilatura"
    if text in ("false", "0", "no", "off", "none", ""):
        return None
    if text not in MAIN_CONTENT_MODES:
        raise ValueError(f"PLACEMENT_MAIN_CONTENT: {value!r} is none of {', '.join(MAIN_CONTENT_MODES)} or False")
    return text


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




# --- main content (the page's own article container) ---------------------------------------------------------------
# the HTML blocks that are trafilatura's paragraphs, headings, list items, cells, code and quotes (_MAIN_BLOCKS)
ARTICLE_BLOCKS = frozenset(("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "td", "th", "pre",
                            "blockquote", "figcaption"))


def article_positions(article, wanted: set) -> dict:
    """Where each wanted link sits in ``article``'s text: link -> (position 0..1, block index), as
    ``find_main_content`` reports them for trafilatura's text (offset of the link's start over the text's length,
    and its block among the article's paragraphs, headings, list items and cells)."""
    found: dict = {}
    offset = 0
    blocks = 0
    stack: list[int] = []

    def walk(element) -> None:
        nonlocal offset, blocks
        tag = element.tag
        if not isinstance(tag, str) or tag in ("script", "style", "template", "noscript"):
            return
        is_block = tag in ARTICLE_BLOCKS
        if is_block:
            stack.append(blocks)
            blocks += 1
        if element in wanted:
            found[element] = (offset, stack[-1] if stack else 0)
        offset += len(element.text or "")
        for child in element:
            walk(child)
            offset += len(child.tail or "")
        if is_block:
            stack.pop()

    walk(article)
    total = max(offset, 1)
    return {link: (min(start / total, 1.0), block) for link, (start, block) in found.items()}
