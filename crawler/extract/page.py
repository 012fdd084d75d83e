"""Decode and parse an HTML page once, and read the page-level facts every table needs.

The tree built here is shared by link extraction, placement and trafilatura: a page is decoded and parsed exactly
once (issue: "Parse each page once").
"""

from __future__ import annotations

from dataclasses import dataclass

import lxml.etree
import lxml.html
from w3lib.encoding import html_to_unicode

from crawler.urls import resolve_href

_PARSER = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
HTML_TYPES = ("text/html", "application/xhtml+xml")


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
    return text, encoding


def parse_html(text: str) -> lxml.html.HtmlElement:
    """Parse decoded HTML into an lxml tree; raise :class:`UnparseablePage` when nothing usable comes out."""
    if not text.strip():
        raise UnparseablePage("empty document")
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8", "surrogatepass"), parser=_PARSER)
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
