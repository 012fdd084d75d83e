"""The page's main text as trafilatura sees it, mapped back onto our tree: which links sit in it, and where."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from crawler.extract.page import collapse
from crawler.extract.placement.vocabulary import _MAIN_BLOCKS, _NOT_TEXT, ARTICLE_BLOCKS

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


def text_positions(root, blocks: frozenset, key_of) -> dict:
    """Where elements sit in ``root``'s text: key -> (offset of the element's start over the text's length, 0..1;
    index of its innermost block among ``blocks``, in document order), for each element ``key_of`` names (None: not
    wanted). Script, style and comment text is not text."""
    found: dict = {}
    offset = 0
    counter = 0
    stack: list[int] = []

    def walk(element) -> None:
        nonlocal offset, counter
        tag = element.tag
        if not isinstance(tag, str) or tag in _NOT_TEXT:
            return
        is_block = tag in blocks
        if is_block:
            stack.append(counter)
            counter += 1
        key = key_of(element)
        if key is not None:
            found[key] = (offset, stack[-1] if stack else 0)
        offset += len(element.text or "")
        for child in element:
            walk(child)
            offset += len(child.tail or "")
        if is_block:
            stack.pop()

    walk(root)
    total = max(offset, 1)
    return {key: (min(start / total, 1.0), block) for key, (start, block) in found.items()}


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
    body = document.body
    # trafilatura writes a kept link as <ref target="the marker">
    kept = text_positions(body, _MAIN_BLOCKS, lambda e: markers.get(e.get("target")) if e.tag == "ref" else None)
    return MainContent(kept=kept, text=collapse(" ".join(body.itertext())))


# --- main content (the page's own article container) ---------------------------------------------------------------
def article_positions(article, wanted: set) -> dict:
    """Where each wanted link sits in ``article``'s text: link -> (position 0..1, block index), as
    ``find_main_content`` reports them for trafilatura's text."""
    return text_positions(article, ARTICLE_BLOCKS, lambda e: e if e in wanted else None)
