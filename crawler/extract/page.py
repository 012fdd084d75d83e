"""Decode and parse an HTML page once, and read the page-level facts every table needs.

The tree built here is shared by link extraction, placement and trafilatura: a page is decoded and parsed exactly
once (issue: "Parse each page once").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.etree
import lxml.html
from w3lib.encoding import html_to_unicode

from crawler.urls import resolve_href

# huge_tree: libxml2 otherwise stops at 256 nested elements and silently drops the rest of the page (links after
# the deep part included); with it the limit is 2048 (see parse_html for deeper pages).
_PARSER = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True)
HTML_TYPES = ("text/html", "application/xhtml+xml")
# Tags whose nesting carries layout, not links: dropped to salvage a page nested deeper than libxml2 parses.
_NESTING_TAGS = re.compile(
    rb"</?(?:div|span|font|section|article|aside|main|center|blockquote|b|i|u|em|strong|small|big|p|ul|ol|li|dl|dt|dd"
    rb"|table|thead|tbody|tfoot|tr|td|th)\b[^>]*>", re.IGNORECASE)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class UnparseablePage(ValueError):
    """The body could not be parsed as HTML; the page is recorded with ``parse_status = unparseable``."""


def collapse(text: str | None) -> str:
    """Collapse runs of whitespace to one space and strip: how text is stored in every column."""
    return " ".join(text.split()) if text else ""  # str.split() splits on exactly the characters \s matches


def mime_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_html(content_type: str | None, body_start: bytes = b"") -> bool:
    """HTML by its declared type; a missing type is sniffed from the first bytes."""
    mime = mime_type(content_type)
    if mime:
        return mime in HTML_TYPES
    head = body_start[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode bytes the way browsers (and Scrapy) do: BOM, then the HTTP charset, then ``<meta charset>``, then
    detection. Returns ``(text, encoding)``."""
    encoding, text = html_to_unicode(content_type, body)
    return undo_false_utf16(body, text, encoding)


def undo_false_utf16(body: bytes, text: str, encoding: str) -> tuple[str, str]:
    """A page labelled UTF-16/32 whose bytes are not (no BOM, no NUL byte in its first 4 KB, where UTF-16 HTML has
    one for every ASCII character) is read as UTF-8, as browsers do with such a ``<meta>`` label (WHATWG HTML,
    "prescan a byte stream": a UTF-16 label is taken as UTF-8). Decoded as labelled, it is CJK noise with no tags."""
    label = (encoding or "").lower().replace("_", "-")
    if not label.startswith(("utf-16", "utf-32")) or body.startswith(_UTF16_BOMS) or b"\x00" in body[:4096]:
        return text, encoding
    return body.decode("utf-8", "replace"), "utf-8"


def parse_html(text: str, notes: list[str] | None = None) -> lxml.html.HtmlElement:
    """Parse decoded HTML into an lxml tree; raise :class:`UnparseablePage` when nothing usable comes out.

    A page nested deeper than libxml2's limit (2048 elements) loses everything after the deep part; it is parsed
    again without its layout tags (its links kept, their placement coarser) and ``"too_deep"`` is added to
    ``notes``."""
    if not text.strip():
        raise UnparseablePage("empty document")
    data = text.encode("utf-8", "surrogatepass")
    root = _parse(data)
    if any(error.type_name == "ERR_RESOURCE_LIMIT" for error in _PARSER.error_log):
        root = _parse(_NESTING_TAGS.sub(b" ", data))
        if notes is not None:
            notes.append("too_deep")
    return root


def _parse(data: bytes) -> lxml.html.HtmlElement:
    try:
        root = lxml.html.document_fromstring(data, parser=_PARSER)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise UnparseablePage(str(exc)) from None
    if root is None:
        raise UnparseablePage("no root element")
    return root


@dataclass
class PageFacts:
    base_url: str  # the URL relative links resolve against (<base href> when present)
    title: str | None
    h1: str | None
    meta_robots: str | None
    canonical_url: str | None


def page_facts(root: lxml.html.HtmlElement, page_url: str) -> PageFacts:
    base_url = page_url
    for base in root.iterfind(".//base[@href]"):
        resolved, _ = resolve_href(base.get("href", ""), page_url)
        if resolved:
            base_url = resolved
        break
    title_el = root.find(".//title")
    h1_el = root.find(".//h1")
    robots = [
        m.get("content", "")
        for m in root.iterfind(".//meta[@name]")
        if m.get("name", "").strip().lower() in ("robots", "googlebot")
    ]
    canonical = None
    for link in root.iterfind(".//link[@rel][@href]"):
        if "canonical" in link.get("rel", "").lower().split():
            canonical, _ = resolve_href(link.get("href", ""), base_url)
            break
    return PageFacts(
        base_url=base_url,
        title=collapse(title_el.text_content()) or None if title_el is not None else None,
        h1=collapse(h1_el.text_content()) or None if h1_el is not None else None,
        meta_robots=collapse(", ".join(robots)).lower() or None,
        canonical_url=canonical,
    )
