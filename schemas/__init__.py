"""Arrow schemas of every table linkprospector writes.

Each table is a directory of Parquet files in the data lake: ``<OUTPUT_URI>/<table>/crawl=<CRAWL_ID>/part-*.parquet``.
The schema version is stored in each file's metadata (``linkprospector.schema_version``); a reader can refuse or
adapt files of an older version. Bump a table's version on any change that is not a pure column addition.

Column names follow Common Crawl's cc-index table where one exists (``url``, ``fetch_time``...), and URL columns
hold normalized URL strings so tables join on plain strings (``links.target_url = checks.url``).
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("ms", tz="UTC")

PAGES = pa.schema(
    [
        ("url", pa.string()),  # the URL requested (normalized)
        ("final_url", pa.string()),  # after redirects
        ("site", pa.string()),  # registered domain of the seed site
        ("url_host_name", pa.string()),
        ("depth", pa.int32()),
        ("http_status", pa.int32()),
        ("content_type", pa.string()),  # MIME type without parameters
        ("content_charset", pa.string()),
        ("content_length", pa.int64()),  # bytes of the (decoded) body
        ("fetched_at", TS),
        ("title", pa.string()),
        ("h1", pa.string()),
        ("meta_robots", pa.string()),
        ("x_robots_tag", pa.string()),
        ("canonical_url", pa.string()),
        ("parse_status", pa.string()),  # parsed | redirect | not_html | unparseable | parse_timeout | http_error | fetch_error | too_large | offsite_redirect
        ("fetch_error", pa.string()),  # the network error when no answer came
        ("links_count", pa.int32()),
        ("redirect_chain", pa.list_(pa.string())),
        ("warc_filename", pa.string()),
        ("warc_record_offset", pa.int64()),
        ("warc_record_length", pa.int64()),
        # Conditional GET (crawler/recrawl.py): the validators the page was served with, asked back next crawl.
        ("etag", pa.string()),  # the ETag header as sent
        ("last_modified", pa.string()),  # the Last-Modified header as sent
        ("unchanged", pa.bool_()),  # answered 304: the row is re-parsed from the earlier capture its warc_* names
    ]
)

LINKS = pa.schema(
    [
        ("source_url", pa.string()),
        ("source_site", pa.string()),  # registered domain of the source page
        ("target_url", pa.string()),
        ("target_host", pa.string()),
        ("target_site", pa.string()),
        ("external", pa.bool_()),
        ("tag", pa.string()),  # a | area
        ("anchor_text", pa.string()),
        ("image_alt", pa.string()),
        ("link_type", pa.string()),  # text | image
        ("rel", pa.list_(pa.string())),
        ("nofollow", pa.bool_()),
        ("sponsored", pa.bool_()),
        ("ugc", pa.bool_()),
        ("ordinal", pa.int32()),  # 0-based position among the page's links
        ("xpath", pa.string()),
        ("fetched_at", TS),
        # Placement (pipelines/placement.py); null when placement is switched off.
        ("region", pa.string()),
        ("in_main_content", pa.bool_()),
        # the learned model's probability of ``region`` (0-1, 3 decimals): how far to trust it; null when the model did
        # not decide (PLACEMENT_MODEL off, a LINK_REGION_RULES rule) and in parts written before it existed. A double,
        # so a stored 0.7 is the 0.7 a query writes (a float32 0.7 is 0.69999999 and fails ">= 0.7")
        ("region_confidence", pa.float64()),
        ("text_before", pa.string()),
        ("text_after", pa.string()),
        ("sentence", pa.string()),
        ("heading", pa.string()),
        ("paragraph_index", pa.int32()),
        ("position", pa.float32()),
        ("links_in_block", pa.int32()),
        ("block_link_density", pa.float32()),
    ]
)

CHECKS = pa.schema(
    [
        ("url", pa.string()),
        ("url_host_name", pa.string()),
        ("url_host_registered_domain", pa.string()),
        ("verdict", pa.string()),  # broken | ok | unknown
        ("reason", pa.string()),
        ("http_status", pa.int32()),
        ("final_url", pa.string()),
        ("redirect_chain", pa.list_(pa.string())),  # every URL after the first, in order
        ("method", pa.string()),  # the method whose answer decided the verdict
        ("attempts", pa.int32()),  # HTTP requests sent for this target
        ("error", pa.string()),  # the network error text, if any
        ("checked_at", TS),  # when the target was asked (a reused row keeps the earlier crawl's time)
        ("elapsed_ms", pa.int32()),
        # Each crawl builds on the last (crawler/recrawl.py): an ok target checked within CHECK_MAX_AGE in an earlier
        # crawl is carried, not asked again; a broken one counts the consecutive crawls it has been broken in.
        ("reused", pa.bool_()),  # carried from an earlier crawl of the lake, as it was, instead of asked again
        ("first_seen_broken", TS),  # when the current streak of broken crawls began (null unless broken)
        ("broken_crawls", pa.int32()),  # consecutive crawls, this one included, in which it was broken (0 if not)
    ]
)

# One row per row of a backlinks input (crawler/backlinks/): is the link you earned still there, and how.
BACKLINKS = pa.schema(
    [
        ("source_url", pa.string()),  # the page that should link to you (normalized)
        ("target", pa.string()),  # normalized spec: a URL, domain:example.com, or a URL prefix ending in *
        ("input_line", pa.int32()),  # the row's line in the input file
        ("link_state", pa.string()),  # live | degraded | lost | unverified
        ("reason", pa.string()),  # why lost or unverified (null when live or degraded)
        ("flags", pa.list_(pa.string())),  # what weakens a link that is there: nofollow, anchor_changed...
        ("matches", pa.int32()),  # links on the page that match the target
        ("found_url", pa.string()),  # the best matching link's href (normalized); the columns below describe it
        ("anchor_text", pa.string()),
        ("rel", pa.list_(pa.string())),
        ("link_type", pa.string()),  # text | image
        ("region", pa.string()),  # placement: content | navigation | header | footer | sidebar | ...
        ("in_main_content", pa.bool_()),
        ("region_confidence", pa.float64()),  # the links row's: the model's probability of region (null: not its)
        ("text_before", pa.string()),
        ("text_after", pa.string()),
        ("xpath", pa.string()),
        ("expected_anchor", pa.string()),
        ("expected_rel", pa.string()),  # sorted nofollow/sponsored/ugc tokens; '' = expected followed
        ("http_status", pa.int32()),  # of the final answer
        ("final_url", pa.string()),  # after redirects
        ("redirect_chain", pa.list_(pa.string())),  # every URL after the first, in order
        ("canonical_url", pa.string()),
        ("meta_robots", pa.string()),
        ("x_robots_tag", pa.string()),
        ("error", pa.string()),  # the network error, when no answer came
        ("checked_at", TS),
        # Where the row came from: linkprospector (our CSV/JSONL) | gsc | ahrefs | semrush | majestic | bing | moz,
        # and the vendor's columns we do not use, by their header name (crawler/backlinks/vendors.py).
        ("input_format", pa.string()),
        ("vendor_columns", pa.map_(pa.string(), pa.string())),
        # Toxic-link audit, what the linking page shows (crawler/backlinks/risk.py); null when it was not read.
        ("outbound_links", pa.int32()),  # links to other sites on the page
        ("linked_domains", pa.int32()),  # distinct sites (registered domains) they point to
        ("sponsored_links", pa.int32()),  # rel=sponsored links on the page
        ("page_language", pa.string()),  # declared: <html lang>, Content-Language
        ("template_hash", pa.string()),  # fingerprint of the page's layout classes and ids (shared_template)
        ("risk_reasons", pa.list_(pa.string())),  # reason codes (crawler/backlinks/riskwords.py)
        ("risk_evidence", pa.map_(pa.string(), pa.string())),  # reason -> what was seen
    ]
)

CRAWL_STATS = pa.schema(
    [
        ("worker", pa.string()),  # WORKER_ID: one row per worker run (a restarted worker adds a row)
        ("spider", pa.string()),
        ("started_at", TS),
        ("finished_at", TS),
        ("pages", pa.int64()),  # pages/crawled
        ("checks", pa.int64()),  # checks/done
        ("broken", pa.int64()),  # checks/broken
        ("links", pa.int64()),  # links/found
        ("stats", pa.map_(pa.string(), pa.string())),  # every Scrapy stat of the run, as text
    ]
)

# One row per contact point found on a crawled page (crawler/extract/contacts.py): whom to write to at a site.
CONTACTS = pa.schema(
    [
        ("site", pa.string()),  # registered domain of the crawled site
        ("kind", pa.string()),  # email | contact_page | write_for_us_page | imprint_page | about_page | social
        ("value", pa.string()),  # the address (email), the page URL, or the canonical profile URL (social)
        ("network", pa.string()),  # social only: twitter | facebook | linkedin | instagram | youtube | ...
        ("label", pa.string()),  # the link's anchor text
        ("source_url", pa.string()),  # the page the link is on
        ("fetched_at", TS),
    ]
)

TABLES: dict[str, pa.Schema] = {"pages": PAGES, "links": LINKS, "checks": CHECKS, "backlinks": BACKLINKS,
                                "crawl_stats": CRAWL_STATS, "contacts": CONTACTS}
VERSIONS: dict[str, int] = {"pages": 1, "links": 1, "checks": 1, "backlinks": 1, "crawl_stats": 1, "contacts": 1}


# Each table's key: a row that appears twice under it is the same row written twice (a worker's commit redone,
# docs/pitfalls.md §7); reports count each key once and ``scrapy compact`` keeps one. crawl_stats has none.
KEYS: dict[str, tuple[str, ...]] = {"pages": ("url",), "links": ("source_url", "ordinal"), "checks": ("url",),
                                    "backlinks": ("source_url", "target"), "contacts": ("source_url", "kind", "value")}
# The column each part file is sorted by (row-group statistics then prune lookups by it).
SORT_KEYS: dict[str, str] = {"pages": "url", "links": "target_url", "checks": "url", "backlinks": "source_url",
                             "crawl_stats": "worker", "contacts": "site"}


def schema_for(table: str) -> pa.Schema:
    """The schema of ``table`` with its version in the metadata, as written into every Parquet file."""
    return TABLES[table].with_metadata({"linkprospector.table": table, "linkprospector.schema_version": str(VERSIONS[table])})

