"""What an earlier crawl of the same lake already knows about the link targets, so that each crawl builds on the last.

Two uses, both decided per target:

- **reuse**: a target judged ``ok`` at most ``CHECK_MAX_AGE`` seconds ago is not asked again; its row is carried
  into this crawl as it was (its old ``checked_at``, ``reused`` true). A weekly recrawl of a niche mostly links the
  same resources, so most of its checks would ask live servers what we learnt days ago. ``broken`` and ``unknown``
  targets are always asked again: a dead resource may be back, and "we could not tell" is no answer to keep.
- **persistence**: ``broken_crawls`` counts the consecutive crawls in which a target was broken (this one included)
  and ``first_seen_broken`` says since when, so outreach can wait until a resource is *persistently* dead rather
  than down for an afternoon.
- **conditional GET**: a page the latest earlier crawl archived (its ``pages`` row points at a WARC record) with an
  ``ETag`` or ``Last-Modified`` is asked with ``If-None-Match``/``If-Modified-Since`` (RFC 9110 §13.1); a 304
  comes back as that record (:class:`ConditionalPageMiddleware`), so a weekly recrawl of a stable site costs
  headers, not bodies, and still gives every page's rows and follows its links.

What is loaded, and when: once per worker, at spider open (``ProspectsSpider.load_earlier``) (every cluster worker loads its own copy: the state is
read-only and the shared dupefilter already makes each target checked by one worker). One DuckDB query reads the
``checks`` table of the latest earlier crawl (any verdict: the newest word on a target wins, so an ``unknown`` there
hides an older ``ok``) and of the older crawls whose part files were written within ``CHECK_MAX_AGE`` (a partition
written before the cut-off holds no row checked after it; the lake's listing gives the times). Only the columns a
carried row needs are read, and only rows that can matter are kept: ``ok`` rows within the age and ``broken`` rows of
the latest earlier crawl. The result stays an Arrow table sorted by URL and is searched by bisection: no Python
object per entry, so memory is the bytes of those columns (measured in ``tests/test_recrawl.py``).

"The latest earlier crawl" is the last crawl id in the lake's order (``crawler.reports.lake.crawls``: default ids are
UTC times) other than this one. Streaks therefore assume one lake per set of seeds: a crawl of other sites in
between resets them.
"""

from __future__ import annotations

import bisect
import logging
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from crawler.lake import Lake
from crawler.urls import host_of, registered_domain
from schemas.records import CheckRow

logger = logging.getLogger(__name__)

# The columns of an earlier row that are kept: what a carried row needs, and what a streak needs.
_QUERY = """
WITH rows AS (
    SELECT url, verdict, reason, http_status, final_url, redirect_chain, method, attempts, error, checked_at, elapsed_ms,
           {streak}, crawl = $latest AS in_latest
    FROM read_parquet($files, hive_partitioning = true, hive_types_autocast = false, union_by_name = true)
),
newest AS (  -- the latest word on each target: the latest earlier crawl first, then the most recent check
    SELECT * FROM rows
    QUALIFY row_number() OVER (PARTITION BY url ORDER BY in_latest DESC, checked_at DESC) = 1
)
SELECT
    url, verdict, checked_at,
    CASE WHEN verdict = 'ok' THEN http_status END AS http_status,
    CASE WHEN verdict = 'ok' THEN nullif(final_url, url) END AS final_url,  -- null: the URL itself (most rows)
    CASE WHEN verdict = 'ok' AND len(redirect_chain) > 0 THEN redirect_chain END AS redirect_chain,
    CASE WHEN verdict = 'ok' THEN method END AS method,
    CASE WHEN verdict = 'ok' THEN attempts END AS attempts,
    CASE WHEN verdict = 'ok' THEN elapsed_ms END AS elapsed_ms,
    CASE WHEN verdict = 'broken' THEN coalesce(first_seen_broken, checked_at) END AS first_seen_broken,
    CASE WHEN verdict = 'broken' THEN coalesce(broken_crawls, 1) END AS broken_crawls
FROM newest
WHERE (verdict = 'ok' AND checked_at >= $cutoff) OR (verdict = 'broken' AND in_latest)
ORDER BY url
"""


@dataclass
class Earlier:
    """One target as an earlier crawl left it (see :meth:`EarlierChecks.get`)."""

    url: str
    verdict: str
    checked_at: datetime
    row: dict


class ByUrl:
    """Rows of an earlier crawl searchable by URL: an Arrow table sorted by ``url``, bisected in place (nothing is
    copied per lookup; about 120 bytes per row with 60-character URLs)."""

    def __init__(self, table: pa.Table | None = None):
        # one chunk per column (DuckDB hands batches): searched in place
        self.table = (table if table is not None else pa.table({"url": pa.array([], pa.string())})).combine_chunks()
        self._columns = {name: self.table.column(name).combine_chunks() for name in self.table.column_names}
        self._urls = self._columns["url"]

    def __len__(self) -> int:
        return self.table.num_rows

    @property
    def nbytes(self) -> int:
        return self.table.nbytes

    def get(self, url: str) -> dict | None:
        urls = self._urls
        i = bisect.bisect_left(urls, url, key=lambda scalar: scalar.as_py())
        if i >= len(urls) or urls[i].as_py() != url:
            return None
        return {name: column[i].as_py() for name, column in self._columns.items()}


class EarlierChecks(ByUrl):
    """The earlier crawls' word on each target, searchable by URL."""

    def __init__(self, table: pa.Table | None = None, latest: str | None = None, cutoff: datetime | None = None):
        super().__init__(table)
        self.latest = latest  # the crawl id whose broken rows continue into this crawl's streaks
        self.cutoff = cutoff  # ok rows checked before this are not reused (None: reuse is off)

    def reusable(self, url: str, now: datetime | None = None) -> CheckRow | None:
        """The ``checks`` row to carry into this crawl for ``url`` instead of asking it again, or None: only a
        target judged ``ok`` within ``CHECK_MAX_AGE`` is reused (the earlier row as it was, ``reused`` true)."""
        if self.cutoff is None:
            return None
        earlier = self.get(url)
        if earlier is None or earlier["verdict"] != "ok" or earlier["checked_at"] < self.cutoff:
            return None
        host = host_of(url)
        return CheckRow(
            url=url, url_host_name=host, url_host_registered_domain=registered_domain(host),
            verdict="ok", reason="ok", http_status=earlier["http_status"],
            final_url=earlier["final_url"] or url, redirect_chain=earlier["redirect_chain"] or [],
            method=earlier["method"], attempts=earlier["attempts"], error=None,
            checked_at=earlier["checked_at"], elapsed_ms=earlier["elapsed_ms"],
            reused=True, first_seen_broken=None, broken_crawls=0,
        )

    def streak(self, row: CheckRow) -> CheckRow:
        """``row`` (a fresh check of this crawl) with its ``reused``, ``first_seen_broken`` and ``broken_crawls``:
        a broken target that was broken in the latest earlier crawl too continues that streak."""
        if row.verdict != "broken":
            return replace(row, reused=False, first_seen_broken=None, broken_crawls=0)
        earlier = self.get(row.url)
        if earlier is not None and earlier["verdict"] == "broken":
            return replace(row, reused=False, first_seen_broken=earlier["first_seen_broken"],
                           broken_crawls=earlier["broken_crawls"] + 1)
        return replace(row, reused=False, first_seen_broken=row.checked_at, broken_crawls=1)


def earlier_crawls(lake: Lake, current: str, max_age: float, now: float | None = None) -> tuple[str | None, list[str]]:
    """``(latest, crawls)``: the latest earlier crawl of ``checks`` and every earlier crawl worth reading (the
    latest, and older ones with a part written within ``max_age`` seconds of ``now``)."""
    from crawler.reports.lake import crawls

    known = [c for c in crawls(lake, "checks") if c != current]
    if not known:
        return None, []
    latest, older = known[-1], known[:-1]
    cut = (now if now is not None else time.time()) - max_age
    recent = [c for c in older if max_age > 0 and lake.newest(f"checks/crawl={c}", "*.parquet") >= cut]
    return latest, [*recent, latest]


def load_earlier_checks(lake: Lake, current: str, max_age: float, now: datetime | None = None) -> EarlierChecks:
    """What earlier crawls of ``lake`` know about the targets (module docstring): one DuckDB query."""
    from crawler.reports.lake import columns_of, connect, present_or_null

    now = now or datetime.now(UTC)
    latest, chosen = earlier_crawls(lake, current, max_age, now.timestamp())
    cutoff = now - timedelta(seconds=max_age) if max_age > 0 else None
    if latest is None:
        return EarlierChecks(cutoff=cutoff)
    files = [lake.location(f"checks/crawl={c}/*.parquet") for c in chosen]
    con = connect(lake)
    con.execute("SET TimeZone = 'UTC'")
    # Rows written before these columns existed: a broken one starts a streak of 1 at its checked_at.
    streak = present_or_null(columns_of(con, files), {"first_seen_broken": "TIMESTAMPTZ", "broken_crawls": "INTEGER"})
    params = {"files": files, "latest": latest,
              "cutoff": cutoff or now + timedelta(days=1)}  # no reuse: no ok row is recent enough
    table = con.sql(_QUERY.format(streak=streak), params=params).to_arrow_table()
    con.close()
    logger.info("earlier crawls: %d targets known (%d ok within CHECK_MAX_AGE, broken in %s: %d), from crawls %s, "
                "%.1f MB in memory", table.num_rows, pc.sum(pc.equal(table["verdict"], "ok")).as_py() or 0,
                latest, pc.sum(pc.equal(table["verdict"], "broken")).as_py() or 0,
                ", ".join(chosen), table.nbytes / 1e6)
    return EarlierChecks(table, latest, cutoff)


_PAGES_QUERY = """
SELECT url, etag, last_modified, warc_filename, warc_record_offset, warc_record_length
FROM read_parquet($files, union_by_name = true)
WHERE parse_status = 'parsed' AND http_status = 200 AND warc_filename IS NOT NULL
  AND (etag IS NOT NULL OR last_modified IS NOT NULL)
QUALIFY row_number() OVER (PARTITION BY url ORDER BY fetched_at DESC) = 1
ORDER BY url
"""


class EarlierPages(ByUrl):
    """The validators of the pages of the latest earlier crawl that can be asked conditionally: parsed HTML pages
    whose answer is archived (``warc_*``), with an ``ETag`` or a ``Last-Modified``. A 304 then re-parses the archived
    body, so the page still gives its links rows and its links are still followed; a page without such a record is
    fetched in full."""


def conditional_headers(earlier: dict) -> dict[str, str]:
    """The request headers that ask for the page only if it changed (RFC 9110 §13.1.2, §13.1.3)."""
    headers = {}
    if earlier.get("etag"):
        headers["If-None-Match"] = earlier["etag"]
    if earlier.get("last_modified"):
        headers["If-Modified-Since"] = earlier["last_modified"]
    return headers


def load_earlier_pages(lake: Lake, current: str) -> EarlierPages:
    """The latest earlier crawl's pages that can be asked conditionally (:class:`EarlierPages`): one DuckDB query,
    only the validators and the record's location, the file name dictionary-encoded (a few files hold every page)."""
    from crawler.reports.lake import columns_of, connect, crawls

    known = [c for c in crawls(lake, "pages") if c != current]
    if not known:
        return EarlierPages()
    con = connect(lake)
    files = [lake.location(f"pages/crawl={known[-1]}/*.parquet")]
    if not {"etag", "last_modified"} <= columns_of(con, files):  # written before validators were recorded
        con.close()
        return EarlierPages()
    table = con.sql(_PAGES_QUERY, params={"files": files}).to_arrow_table()
    con.close()
    table = table.set_column(table.schema.get_field_index("warc_filename"), "warc_filename",
                             pc.dictionary_encode(table["warc_filename"]))
    logger.info("earlier crawl %s: %d pages can be asked conditionally, %.1f MB in memory", known[-1], table.num_rows,
                table.nbytes / 1e6)
    return EarlierPages(table)


def read_earlier_capture(lake: Lake, location: dict):
    """The archived response a ``pages`` row points at (``crawler.warc.reader.ArchivedResponse``), or None when it
    cannot be read whole (file gone, record cut or corrupt): then the page is fetched in full."""
    from crawler.warc.reader import read_record

    try:
        data = lake.read_range(location["warc_filename"], location["warc_record_offset"], location["warc_record_length"])
        if len(data) != location["warc_record_length"]:
            return None
        return read_record(data, location["warc_filename"], location["warc_record_offset"])
    except (OSError, ValueError) as exc:
        logger.info("earlier capture %s at %s unreadable: %s", location["warc_filename"],
                    location["warc_record_offset"], exc)
        return None


class Reused(Exception):  # not an error: the errback's sign that the row was carried, not asked
    """Raised for a check request whose target need not be asked again: carries the row to write instead."""

    def __init__(self, row: CheckRow):
        super().__init__(row.url)
        self.row = row


class ReuseCheckMiddleware:
    """Downloader middleware: the first request of a check whose target was judged ``ok`` within ``CHECK_MAX_AGE``
    goes no further; its errback receives :class:`Reused` with the earlier row.

    Why here and not where the spider makes the request: by now the request has passed the dupefilter (the
    scheduler's, or the cluster's shared one), so a carried row is written once per crawl like a checked one, and in
    cluster mode it travels under the request's lease, ending with the commit that holds the row. It runs after the
    address guard (50), so a target on an address we no longer connect to is refused rather than carried."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler) -> ReuseCheckMiddleware:
        return cls(crawler)

    def process_request(self, request) -> None:
        if request.meta.get("kind") != "check":
            return None
        earlier = getattr(self.crawler.spider, "earlier_checks", None)
        row = earlier.reusable(request.url) if earlier is not None else None
        if row is not None:
            raise Reused(row)
        return None


class ConditionalPageMiddleware:
    """Downloader middleware: the ``304 Not Modified`` answer to a conditional page request comes back as the page's
    earlier capture, read from the WARC record its earlier ``pages`` row names (``request.meta["earlier_page"]``),
    so the spider parses it as if fetched and the row names that record (``meta["unchanged_capture"]``). A capture
    that cannot be read whole sends the page again without validators (``pages/conditional_fallback``).

    Why here and not in the callback: Scrapy holds back the downloads while the responses being processed add up to
    ``SCRAPER_SLOT_MAX_ACTIVE_SIZE`` bytes, counting each body (at least 1 KiB); a 304 has none, so bodies read in
    the callback would pile up unseen (measured: twice the first crawl's peak memory). Returned here, the capture is
    counted like any body, and the read holds a ``CONCURRENT_REQUESTS`` slot while it runs (in a thread)."""

    def __init__(self, crawler):
        from crawler.reports.lake import as_lake

        self.crawler = crawler
        self.lake = as_lake(crawler.settings.get("OUTPUT_URI"), crawler.settings)

    @classmethod
    def from_crawler(cls, crawler) -> ConditionalPageMiddleware:
        return cls(crawler)

    async def process_response(self, request, response):
        earlier = request.meta.get("earlier_page")
        if response.status != 304 or not earlier:
            return response
        import asyncio

        from scrapy.http import Headers
        from scrapy.responsetypes import responsetypes

        stats = self.crawler.stats
        capture = await asyncio.to_thread(read_earlier_capture, self.lake, earlier)
        if capture is None or capture.status != 200:
            stats.inc_value("pages/conditional_fallback")
            logger.info("page %s: 304, but its earlier capture %s cannot be read: asked in full", request.url,
                        earlier["warc_filename"])
            meta = {k: v for k, v in request.meta.items() if k not in ("earlier_page", "warc_location")}
            meta["frontier_data"] = {**meta.get("frontier_data", {}), "full": 1}
            headers = {k: v for k, v in request.headers.items()
                       if k.lower() not in (b"if-none-match", b"if-modified-since")}
            return request.replace(headers=headers, meta=meta, dont_filter=True)
        stats.inc_value("pages/unchanged")
        headers = Headers([(name, value) for name, value in capture.headers if name.lower() not in _BODY_CODINGS])
        for name in (b"ETag", b"Last-Modified"):  # a 304 sends the current validators (RFC 9110 §15.4.5)
            if response.headers.get(name):
                headers[name] = response.headers.getlist(name)
        request.meta["unchanged_capture"] = {"warc_filename": capture.warc_filename,
                                             "warc_record_offset": capture.warc_record_offset,
                                             "warc_record_length": capture.warc_record_length}
        cls = responsetypes.from_args(headers=headers, url=request.url, body=capture.body)
        return cls(url=request.url, status=capture.status, headers=headers, body=capture.body, request=request,
                   ip_address=response.ip_address, protocol=response.protocol)


# The stored body is decoded already (crawler/warc/archive.py): these headers would describe bytes it no longer has.
_BODY_CODINGS = {"content-encoding", "transfer-encoding", "content-length"}
