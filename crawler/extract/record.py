"""One fetched response -> one ``pages`` row and its ``links`` rows.

The same function serves a live crawl (``spiders/prospects.py``) and the ingest of WARC files (``spiders/warc.py``),
so both produce the same rows for the same bytes. It decodes and parses the page once and hands the tree on in the
item, for placement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from crawler.extract.contacts import extract_contacts
from crawler.extract.links import extract_links
from crawler.extract.page import (
    PageFacts,
    UnparseablePage,
    decode_html,
    is_html,
    mime_type,
    page_facts,
    parse_html,
    undo_false_utf16,
)
from crawler.items import PageItem
from crawler.urls import host_of, resolve_href, site_of
from schemas.records import PageRow


def header_dict(headers) -> dict[str, str]:
    """Scrapy's (or any bytes) headers as a plain dict with lower-case names, repeated headers joined with ', '."""
    return {k.decode("latin-1").lower(): b", ".join(v).decode("latin-1") for k, v in headers.items()}


@dataclass
class Fetched:
    """What is known of one response, whatever fetched it."""

    url: str  # the URL requested
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    fetched_at: datetime
    site: str  # the site being crawled (registered domain)
    depth: int | None = None
    method: str = "GET"
    text: str | None = None  # already-decoded body (Scrapy's TextResponse), to avoid decoding twice
    encoding: str | None = None
    extra: dict = field(default_factory=dict)  # page columns of its capture: warc_* (where it is archived), unchanged


# The capture columns of a page row whose Fetched.extra does not name them: not archived, not asked conditionally.
NO_CAPTURE = {"warc_filename": None, "warc_record_offset": None, "warc_record_length": None, "unchanged": None}


@dataclass
class PageResult:
    item: PageItem
    redirect_to: str | None = None  # a 3xx Location, resolved
    skipped: dict = field(default_factory=dict)  # link schemes that are not targets -> count
    unparseable: str | None = None  # why the body could not be parsed
    notes: list[str] = field(default_factory=list)  # what was odd but salvaged (too_deep), counted as pages/<note>


def page_row(f: Fetched, parse_status: str, *, final_url: str | None = "", redirect_chain: list[str] | None = None,
             content_charset: str | None = None, facts: PageFacts | None = None, links_count: int = 0) -> PageRow:
    """The ``pages`` row: what every answer tells, and what parsing its body added (``facts``)."""
    return PageRow(
        url=f.url,
        final_url=f.url if final_url == "" else final_url,  # a redirect without a usable Location: None
        site=f.site,
        url_host_name=host_of(f.url),
        depth=f.depth,
        http_status=f.status,
        content_type=mime_type(f.headers.get("content-type")) or None,
        content_charset=content_charset,
        content_length=len(f.body),
        fetched_at=f.fetched_at,
        title=facts.title if facts else None,
        h1=facts.h1 if facts else None,
        meta_robots=facts.meta_robots if facts else None,
        x_robots_tag=f.headers.get("x-robots-tag"),
        canonical_url=facts.canonical_url if facts else None,
        parse_status=parse_status,
        fetch_error=None,
        links_count=links_count,
        redirect_chain=redirect_chain or [],
        etag=f.headers.get("etag"),
        last_modified=f.headers.get("last-modified"),
        **{**NO_CAPTURE, **f.extra},
    )


def timed_out_page(f: Fetched, seconds: float) -> PageResult:
    """The row of a page whose parsing outlasted ``PARSE_TIMEOUT`` (crawler/parsepool.py): a hostile or
    pathological body. The page is recorded, its links are not."""
    return PageResult(PageItem(page_row(f, "parse_timeout")), unparseable=f"parsing took over {seconds:g} s")


def build_page(f: Fetched, max_links: int = 0) -> PageResult:
    """The page's row and its links' rows (at most ``max_links``, 0 for all: ``MAX_LINKS_PER_PAGE``)."""
    content_type = f.headers.get("content-type")
    row = partial(page_row, f)
    location = f.headers.get("location")
    if 300 <= f.status < 400 and location:
        # A redirect is a row of its own (SEO audits list them); its target is fetched as a page like any other.
        target, _ = resolve_href(location, f.url)
        page = row("redirect", final_url=target, redirect_chain=[target] if target else [])
        return PageResult(PageItem(page), redirect_to=target)
    if f.status >= 400 or f.status < 200:
        return PageResult(PageItem(row("http_error")))
    if site_of(f.url) != f.site:
        return PageResult(PageItem(row("offsite_redirect")))
    if f.method == "HEAD" or not is_html(content_type, f.body[:512]):
        return PageResult(PageItem(row("not_html")))
    if f.text is not None:
        text, encoding = undo_false_utf16(f.body, f.text, f.encoding)
    else:
        text, encoding = decode_html(f.body, content_type)
    notes: list[str] = []
    try:
        root = parse_html(text, notes)
    except UnparseablePage as exc:
        return PageResult(PageItem(row("unparseable", content_charset=encoding)), unparseable=str(exc))
    facts = page_facts(root, f.url)
    links = extract_links(root, f.url, facts.base_url, max_links, fetched_at=f.fetched_at)
    page = row("parsed", content_charset=encoding, facts=facts, links_count=len(links.rows))
    contacts = extract_contacts(root, links.rows, f.site, f.url, f.fetched_at)
    return PageResult(PageItem(page, links.rows, links.elements, root, contacts), skipped=dict(links.skipped),
                      notes=notes)
