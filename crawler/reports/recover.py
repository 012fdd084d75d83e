"""Recover the dead resource: for each broken target of the prospects report, its last good copy, so the content can
be recreated and pitched to every site that still links to the dead URL (the "moving man" and broken-link
building methods).

Where a copy comes from, first found first used:

1. **Our own lake**: a crawl that fetched the URL as a page of a crawled site and archived it (``pages`` rows
   with ``http_status`` 200 and a WARC location, newest first), or a link check that found it alive and archived
   its answer (``crawldiagnostics/crawl=<id>/*.warc.gz``, ``WARC_ARCHIVE_CHECKS``; only crawls whose ``checks``
   said ``ok`` for one of the URLs are read, newest first, at most ``RECOVER_SCAN_MAX_BYTES`` of files per run).
2. **A web archive** (``crawler/wayback.py``): the newest capture its CDX server lists as answered 200 in HTML,
   fetched in its ``id_`` form.

Each row gives where the copy is (``recovered_from``: ``lake`` or ``archive``; ``timestamp`` and
``archived_url`` for an archive, the WARC record's three columns for the lake), when it was captured, its
``title`` and its first ``RECOVER_PARAGRAPHS`` paragraphs (``text``, separated by blank lines), or in ``note`` why
there is none.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from crawler.extract.page import UnparseablePage, collapse, decode_html, is_html, page_facts, parse_html
from crawler.lake import Lake, LocalLake
from crawler.reports.lake import as_lake, connect, crawls, table_glob
from crawler.reports.prospects import prospects
from crawler.urls import normalize_url
from crawler.warc.reader import iter_warc_responses, read_record
from crawler.wayback import Archive, ArchiveError, ArchiveUnavailable, id_url

logger = logging.getLogger(__name__)

COLUMNS = ["url", "reason", "http_status", "referring_domains", "content_links", "recovered_from", "captured_at",
           "timestamp", "archived_url", "warc_filename", "warc_record_offset", "warc_record_length", "title", "text",
           "note"]
# Elements whose paragraphs are page furniture, not the resource's content.
_FURNITURE = frozenset({"nav", "header", "footer", "aside", "form", "noscript", "script", "style", "template"})
MIN_PARAGRAPH = 40  # characters: shorter ones are captions, bylines, buttons (used only when nothing longer exists)
MAX_PARAGRAPH = 1500  # characters kept of one paragraph

PAGES_QUERY = """
SELECT url, epoch_ms(fetched_at) AS fetched_ms, warc_filename, warc_record_offset, warc_record_length
FROM read_parquet($pages, union_by_name = true)
WHERE url IN (SELECT unnest($urls)) AND http_status = 200 AND parse_status = 'parsed' AND warc_filename IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY url ORDER BY fetched_at DESC) = 1
"""
OK_CHECKS_QUERY = """
SELECT DISTINCT crawl FROM read_parquet($checks, hive_partitioning = true, hive_types = {'crawl': VARCHAR},
                                        union_by_name = true)
WHERE verdict = 'ok' AND url IN (SELECT unnest($urls)) ORDER BY crawl DESC
"""


@dataclass
class Copy:
    """One good copy of a URL: its bytes and where they are."""

    body: bytes
    content_type: str | None
    captured_at: datetime
    source: str  # lake | archive
    timestamp: str = ""  # the archive's 14 digits
    archived_url: str = ""
    warc: tuple[str, int, int] | None = None  # our lake's record: filename, offset, length


def page_text(body: bytes, content_type: str | None, paragraphs: int = 3) -> tuple[str | None, list[str]]:
    """The title and the first paragraphs of an HTML page: the ``<p>`` elements of its ``<main>`` (else
    ``<article>``, else ``<body>``) outside navigation, header, footer, sidebars and forms, at least
    ``MIN_PARAGRAPH`` characters long when there are such. Raises UnparseablePage."""
    text, _ = decode_html(body, content_type)
    root = parse_html(text)
    facts = page_facts(root, "http://localhost/")
    scope = next((el for el in (root.find(".//main"), root.find(".//article"), root.find(".//body")) if el is not None),
                 root)
    found = []
    for p in scope.iter("p"):
        if any(ancestor.tag in _FURNITURE for ancestor in p.iterancestors()):
            continue
        para = collapse(p.text_content())
        if para:
            found.append(para[:MAX_PARAGRAPH])
    long_ones = [para for para in found if len(para) >= MIN_PARAGRAPH]
    return facts.title or facts.h1, (long_ones or found)[:paragraphs]


def lake_copies(lake: Lake, urls: set[str], scan_max_bytes: int) -> dict[str, Copy]:
    """The newest good copy of each URL that our lake archived (see the module docstring)."""
    found: dict[str, Copy] = {}
    if not urls:
        return found
    con = connect(lake)
    if crawls(lake, "pages"):
        rows = con.execute(PAGES_QUERY, {"pages": table_glob(lake, "pages", "*"), "urls": sorted(urls)}).fetchall()
        for url, fetched_ms, filename, offset, length in rows:
            try:
                response = read_record(lake.read_range(filename, offset, length), filename)
            except (OSError, ValueError) as exc:
                logger.warning("%s: its WARC record %s@%s cannot be read: %s", url, filename, offset, exc)
                continue
            if response is not None and response.status == 200 and response.body:
                when = datetime.fromtimestamp(fetched_ms / 1000, UTC) if fetched_ms is not None else response.fetch_time
                found[url] = Copy(response.body, response.content_type, when, "lake",
                                  warc=(filename, offset, length))
    wanted = urls - set(found)
    if not wanted or not crawls(lake, "checks"):
        return found
    ok_crawls = [c for (c,) in con.execute(OK_CHECKS_QUERY, {"checks": table_glob(lake, "checks", "*"),
                                                             "urls": sorted(wanted)}).fetchall()]
    budget = scan_max_bytes
    for crawl in ok_crawls:
        folder = f"crawldiagnostics/crawl={crawl}"
        for name in lake.list(folder, "*.warc.gz"):
            if budget <= 0:
                logger.warning("RECOVER_SCAN_MAX_BYTES reached: link-check archives of older crawls are not read")
                return found
            budget -= _scan(lake, f"{folder}/{name}", wanted, found)
        wanted -= set(found)
        if not wanted:
            break
    return found


def _scan(lake: Lake, rel: str, wanted: set[str], found: dict[str, Copy]) -> int:
    """Read one link-check WARC file for good answers to ``wanted`` URLs (newest kept); returns its size."""
    with tempfile.TemporaryDirectory(prefix="linkprospector-recover-") as tmp:
        if isinstance(lake, LocalLake):
            path = Path(lake.location(rel))
        else:
            path = Path(tmp) / Path(rel).name
            lake.download(rel, path)
        size = path.stat().st_size
        for response in iter_warc_responses(path):
            url = normalize_url(response.url)
            if url not in wanted or response.status != 200 or not response.body:
                continue
            if not is_html(response.content_type, response.body[:512]):
                continue
            if url not in found or found[url].captured_at < response.fetch_time:
                offset, length = response.warc_record_offset, response.warc_record_length
                found[url] = Copy(response.body, response.content_type, response.fetch_time, "lake",
                                  warc=(rel, offset, length))
    return size


def archive_copy(archive: Archive, url: str) -> tuple[Copy | None, str]:
    """The newest good capture of ``url`` in the archive (the next one when the newest cannot be fetched), or None
    and why."""
    captures = archive.captures(url)
    if not captures:
        return None, "no capture in the lake or the archive"
    why = ""
    for capture in captures[:2]:
        try:
            answer = archive.fetch(capture)
        except ArchiveUnavailable:
            raise
        except ArchiveError as exc:
            why = f"archive: {exc}"
            continue
        when = datetime.strptime(capture.timestamp[:14].ljust(14, "0"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        return Copy(answer.body, answer.headers.get("content-type"), when, "archive", capture.timestamp,
                    id_url(archive.replay, capture)), ""
    return None, why


def recover(root: str | Path | Lake, crawl: str | None = None, limit: int | None = None, *,
            archive: Archive | None = None, paragraphs: int = 3, scan_max_bytes: int = 2_000_000_000,
            min_share: float = 0.5) -> tuple[str, pa.Table]:
    """One row per broken target of the crawl's prospects report (in its order, at most ``limit``) with its last
    good copy. ``archive`` None: our lake only."""
    lake = as_lake(root)
    crawl, report = prospects(lake, crawl, limit, min_share)
    targets = report.select(["url", "reason", "http_status", "referring_domains", "content_links"]).to_pylist()
    copies = lake_copies(lake, {t["url"] for t in targets}, scan_max_bytes)
    rows = []
    for target in targets:
        url = target["url"]
        copy, note = copies.get(url), ""
        if copy is None:
            if archive is None:
                note = "no copy in the lake (the archive was not asked)"
            else:
                try:
                    copy, note = archive_copy(archive, url)
                except ArchiveUnavailable as exc:
                    note = f"archive not asked: {exc}"
                except ArchiveError as exc:
                    note = f"archive: {exc}"
        row = {**target, **dict.fromkeys(COLUMNS[5:]), "note": note or None}
        if copy is not None:
            try:
                title, text = page_text(copy.body, copy.content_type, paragraphs)
            except UnparseablePage as exc:
                title, text, row["note"] = None, [], f"copy found but not readable as HTML: {exc}"
            row.update(recovered_from=copy.source, captured_at=copy.captured_at, title=title,
                       text="\n\n".join(text) or None, timestamp=copy.timestamp or None,
                       archived_url=copy.archived_url or None)
            if copy.warc is not None:
                row.update(warc_filename=copy.warc[0], warc_record_offset=copy.warc[1], warc_record_length=copy.warc[2])
        rows.append(row)
    schema = pa.schema([(name, report.schema.field(name).type) for name in COLUMNS[:5]]
                       + [("recovered_from", pa.string()), ("captured_at", pa.timestamp("ms", tz="UTC")),
                          ("timestamp", pa.string()), ("archived_url", pa.string()), ("warc_filename", pa.string()),
                          ("warc_record_offset", pa.int64()), ("warc_record_length", pa.int64()),
                          ("title", pa.string()), ("text", pa.string()), ("note", pa.string())])
    return crawl, pa.Table.from_pylist(rows, schema=schema)
