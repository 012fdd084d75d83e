"""One typed record per table: a row is built as its table's record, never as a loose dict.

A dict row let a misspelt key through as a null column (``pyarrow``'s ``from_pylist`` ignores unknown keys and
fills missing ones with null), and nothing tied the code that builds a row to the schema's names. A record's fields
are exactly its table's columns, in the schema's order and with the Python types of its Arrow types
(``tests/test_records.py`` holds them to ``schemas/__init__.py``), so:

- an unknown or missing field fails where the row is built (``TypeError`` from the constructor: every field is
  required, a null is written ``None``), and setting or reading an unknown field fails too (``AttributeError``:
  the records have ``__slots__``);
- the Parquet writer reads the fields column by column (``pipelines/parquet.py``); a row whose *values* do not fit
  the schema, or that is not its table's record, is still logged, counted and dropped there alone, at run time.

Why slotted dataclasses and not TypedDicts: a TypedDict is a plain dict at run time, so a misspelt key would fail only
under a static type checker, and never where a row is changed after it is built (placement fills the links rows in
place). What they cost, on a page of 200 links (``bench/row_cost.py``, measured on 2 shared cores): building the 200
records takes ~0.1 ms more than dict literals, against ~11 ms to parse and place the page; the page's result crosses
the parse pool's process boundary (``crawler/parsepool.py``) a little faster than with dicts (0.40 ms against 0.55
ms for pickling and unpickling, 27% fewer bytes), because a record pickles as its class and a tuple of its values
(:meth:`Row.__reduce__`): the default pickling of a slotted dataclass took twice as long as a dict's. Arrow batches
are made from records as fast as from dicts, and a row object is 248 bytes instead of 832.

Only rows built by our code are records; what a report reads back from the lake stays Arrow or dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter
from typing import ClassVar


class Row:
    """What every table's record shares: its table, and a compact pickle."""

    __slots__ = ()
    TABLE: ClassVar[str]
    VALUES: ClassVar[attrgetter]  # record -> tuple of its values, in the schema's column order

    def __reduce__(self):
        # The class and the values, rebuilt through the constructor: as fast to pickle as a dict of the same row.
        return type(self), self.VALUES(self)


def _record(table: str):
    def wrap(cls):
        cls = dataclass(slots=True)(cls)
        cls.TABLE = table
        cls.VALUES = attrgetter(*(f.name for f in fields(cls)))
        return cls

    return wrap


@_record("pages")
class PageRow(Row):
    url: str
    final_url: str | None
    site: str
    url_host_name: str
    depth: int | None
    http_status: int | None
    content_type: str | None
    content_charset: str | None
    content_length: int | None
    fetched_at: datetime
    title: str | None
    h1: str | None
    meta_robots: str | None
    x_robots_tag: str | None
    canonical_url: str | None
    parse_status: str
    fetch_error: str | None
    links_count: int
    redirect_chain: list[str]
    warc_filename: str | None
    warc_record_offset: int | None
    warc_record_length: int | None
    etag: str | None
    last_modified: str | None
    unchanged: bool | None


@_record("links")
class LinkRow(Row):
    source_url: str
    source_site: str
    target_url: str
    target_host: str
    target_site: str
    external: bool
    tag: str
    anchor_text: str
    image_alt: str | None
    link_type: str
    rel: list[str]
    nofollow: bool
    sponsored: bool
    ugc: bool
    ordinal: int
    xpath: str
    fetched_at: datetime | None
    # Placement (crawler/extract/placement/): None until the page is placed, and when placement is off.
    region: str | None
    in_main_content: bool | None
    region_confidence: float | None
    text_before: str | None
    text_after: str | None
    sentence: str | None
    heading: str | None
    paragraph_index: int | None
    position: float | None
    links_in_block: int | None
    block_link_density: float | None


# The placement columns of a links row, as extract_links leaves them (pipelines/placement.py fills them).
UNPLACED: dict[str, None] = dict.fromkeys(("region", "in_main_content", "region_confidence", "text_before",
                                           "text_after", "sentence", "heading", "paragraph_index", "position",
                                           "links_in_block", "block_link_density"))


@_record("checks")
class CheckRow(Row):
    url: str
    url_host_name: str
    url_host_registered_domain: str
    verdict: str
    reason: str
    http_status: int | None
    final_url: str
    redirect_chain: list[str]
    method: str | None
    attempts: int | None
    error: str | None
    checked_at: datetime
    elapsed_ms: int | None
    reused: bool
    first_seen_broken: datetime | None
    broken_crawls: int


@_record("backlinks")
class BacklinkRow(Row):
    source_url: str
    target: str
    input_line: int | None
    link_state: str
    reason: str | None
    flags: list[str]
    matches: int
    found_url: str | None
    anchor_text: str | None
    rel: list[str] | None
    link_type: str | None
    region: str | None
    in_main_content: bool | None
    region_confidence: float | None
    text_before: str | None
    text_after: str | None
    xpath: str | None
    expected_anchor: str | None
    expected_rel: str | None
    http_status: int | None
    final_url: str | None
    redirect_chain: list[str]
    canonical_url: str | None
    meta_robots: str | None
    x_robots_tag: str | None
    error: str | None
    checked_at: datetime
    input_format: str
    vendor_columns: dict[str, str]
    outbound_links: int | None
    linked_domains: int | None
    sponsored_links: int | None
    page_language: str | None
    template_hash: str | None
    risk_reasons: list[str]
    risk_evidence: dict[str, str]


@_record("crawl_stats")
class CrawlStatsRow(Row):
    worker: str
    spider: str
    started_at: datetime | None
    finished_at: datetime
    pages: int
    checks: int
    broken: int
    links: int
    stats: dict[str, str]


@_record("contacts")
class ContactRow(Row):
    site: str
    kind: str
    value: str
    network: str | None
    label: str | None
    source_url: str
    fetched_at: datetime | None


RECORDS: dict[str, type[Row]] = {cls.TABLE: cls for cls in (PageRow, LinkRow, CheckRow, BacklinkRow, CrawlStatsRow,
                                                            ContactRow)}
