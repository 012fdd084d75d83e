"""Exports of one crawl for the tools SEO people already use: every link with the fate of its target.

- ``broken-links``: one row per link whose target is broken (an external target's check, or an internal page that
  answered an error), with the link's context and placement, and whom to write to at the linking site
  (``site_emails``, ``site_contact_page``, ``site_profiles``: ``crawler/reports/contacts.py``): the list outreach
  and fixes work from.
- ``buzzstream``, ``pitchbox``: the same links as outreach lists for those tools (``crawler/reports/outreach.py``).
- ``screaming-frog``: Screaming Frog's "All Outlinks" columns, so sheets and scripts built on that export keep
  working (``Target`` and ``Path Type`` stay empty: the raw ``href`` and ``target`` attribute are not stored).
- ``linkinator``: linkinator's CSV (``url,status,state,parent,failureDetails``), one row per link whose target
  was fetched or checked; ``unknown`` verdicts are ``SKIPPED`` (not seen clearly: never called broken).

A link's target status comes from ``checks`` (external links) or from the crawled page itself (internal links:
its ``pages`` row); an internal target the crawl never fetched (depth, page cap, robots.txt) has none. Every table
is read once per key, as the reports do (README, "Cluster guarantees"). CSVs are UTF-8 with a BOM, so Excel opens
them with the right characters.
"""

from __future__ import annotations

import csv
from http import HTTPStatus
from pathlib import Path

import pyarrow as pa

from crawler.lake import Lake
from crawler.reports.contacts import contacts_source, site_contacts_cte
from crawler.reports.lake import as_lake, columns_of, connect, crawls, present_or_null, table_glob

TARGETS = """
WITH link_rows AS (
    SELECT * FROM read_parquet($links, union_by_name = true)
    QUALIFY row_number() OVER (PARTITION BY source_url, ordinal) = 1
),
check_rows AS (
    SELECT url, verdict, reason, http_status, final_url FROM read_parquet($checks, union_by_name = true)
    QUALIFY row_number() OVER (PARTITION BY url ORDER BY checked_at DESC) = 1
),
page_rows AS (
    SELECT url, http_status, parse_status, fetch_error, content_length, final_url
    FROM read_parquet($pages, union_by_name = true)
    QUALIFY row_number() OVER (PARTITION BY url ORDER BY fetched_at DESC) = 1
),
links AS (
    SELECT l.*,
        CASE WHEN l.external THEN c.verdict
             WHEN p.url IS NULL THEN NULL
             WHEN p.http_status >= 400 THEN 'broken'
             WHEN p.parse_status = 'fetch_error' THEN 'unknown'
             ELSE 'ok' END AS verdict,
        CASE WHEN l.external THEN c.reason
             WHEN p.http_status >= 400 THEN 'http_' || (p.http_status // 100) || 'xx'
             WHEN p.parse_status = 'fetch_error' THEN p.fetch_error
             WHEN p.url IS NOT NULL THEN 'ok' END AS reason,
        CASE WHEN l.external THEN c.http_status ELSE p.http_status END AS status,
        CASE WHEN l.external THEN c.final_url ELSE p.final_url END AS final_url,
        CASE WHEN l.external THEN NULL ELSE p.content_length END AS size
    FROM link_rows l
    LEFT JOIN check_rows c ON l.external AND c.url = l.target_url
    LEFT JOIN page_rows p ON NOT l.external AND p.url = l.target_url
)"""

BROKEN_LINKS = TARGETS + """,
__site_contacts__
SELECT source_url, source_site, anchor_text, text_before, text_after, sentence, region, in_main_content,
       {region_confidence}, target_url, external, verdict, reason, status AS http_status, links.final_url,
       coalesce(sc.emails, []) AS site_emails,
       coalesce(sc.contact_page, sc.imprint_page, sc.write_for_us_page, sc.about_page) AS site_contact_page,
       coalesce(sc.social_profiles, []) AS site_profiles
FROM links LEFT JOIN site_contacts sc ON sc.site = links.source_site
WHERE verdict = 'broken'
ORDER BY source_site, source_url, ordinal"""

ALL_LINKS = TARGETS + """
SELECT * FROM links ORDER BY source_url, ordinal"""

# Screaming Frog's "All Outlinks" export, its columns in its order.
SCREAMING_FROG_COLUMNS = ["Type", "Source", "Destination", "Size (Bytes)", "Alt Text", "Anchor", "Status Code",
                          "Status", "Follow", "Target", "Rel", "Path Type", "Link Path", "Link Position", "Link Origin"]
LINK_POSITIONS = {"content": "Content", "comments": "Content", "navigation": "Navigation", "breadcrumb": "Navigation",
                  "header": "Header", "footer": "Footer", "sidebar": "Sidebar"}
LINKINATOR_COLUMNS = ["url", "status", "state", "parent", "failureDetails"]
LINKINATOR_STATES = {"ok": "OK", "broken": "BROKEN", "unknown": "SKIPPED"}
FAILURE_STATUS = {"dns_nxdomain": "DNS lookup failed", "dns_error": "DNS lookup failed", "timeout": "Timeout",
                  "connection_refused": "Connection Refused", "tls_error": "SSL error"}

EXPORTS = ("broken-links", "screaming-frog", "linkinator", "buzzstream", "pitchbox")


def lake_params(lake: Lake, crawl: str) -> dict:
    return {name: table_glob(lake, name, crawl) for name in ("links", "checks", "pages")}


def latest_crawl(root: str | Path | Lake) -> str | None:
    known = crawls(as_lake(root), "links")
    return known[-1] if known else None


def broken_links(root: str | Path | Lake, crawl: str | None = None) -> tuple[str, pa.Table]:
    lake = as_lake(root)
    crawl = crawl or latest_crawl(lake)
    source, more = contacts_source(lake, crawl)
    params = {**lake_params(lake, crawl), **more}
    con = connect(lake)
    # a crawl written wholly before region_confidence gets it as nulls
    confidence = present_or_null(columns_of(con, params["links"]), {"region_confidence": "DOUBLE"})
    sql = (BROKEN_LINKS.replace("__site_contacts__", site_contacts_cte(source).lstrip(), 1)
           .replace("{region_confidence}", confidence, 1))
    return crawl, con.sql(sql, params=params).to_arrow_table()


def link_batches(root: str | Path | Lake, crawl: str | None = None, batch_rows: int = 50_000):
    """Every link of the crawl with its target's fate, streamed (a crawl may have millions of links)."""
    lake = as_lake(root)
    crawl = crawl or latest_crawl(lake)
    return crawl, connect(lake).sql(ALL_LINKS, params=lake_params(lake, crawl)).to_arrow_reader(batch_rows)


def screaming_frog_row(link: dict) -> list:
    status = link["status"]
    return ["Hyperlink", link["source_url"], link["target_url"], link["size"] if link["size"] is not None else "",
            link["image_alt"] or "", link["anchor_text"] or "", status if status is not None else "",
            _status_text(status, link["reason"]), "False" if link["nofollow"] else "True", "",
            " ".join(link["rel"] or []), "", link["xpath"] or "", LINK_POSITIONS.get(link["region"] or "", ""), "HTML"]


def linkinator_row(link: dict) -> list | None:
    if link["verdict"] is None:
        return None  # never fetched nor checked: linkinator lists only what it scanned
    details = "" if link["verdict"] == "ok" else link["reason"] or ""
    return [link["target_url"], link["status"] or 0, LINKINATOR_STATES[link["verdict"]], link["source_url"], details]


def _status_text(status: int | None, reason: str | None) -> str:
    if status:
        try:
            return HTTPStatus(status).phrase
        except ValueError:
            return ""
    return FAILURE_STATUS.get(reason or "", reason or "")


def write_export(kind: str, root: str | Path | Lake, out: str | Path, crawl: str | None = None) -> tuple[str, int]:
    """Write one export as CSV (UTF-8 with BOM); returns the crawl and the number of rows."""
    if kind == "broken-links":
        crawl, table = broken_links(root, crawl)
        return crawl, write_csv(table, out)
    if kind in ("buzzstream", "pitchbox"):
        from crawler.reports.outreach import write_outreach

        crawl, table = broken_links(root, crawl)
        return crawl, write_outreach(kind, table, out)
    crawl, batches = link_batches(root, crawl)
    header, to_row = (SCREAMING_FROG_COLUMNS, screaming_frog_row) if kind == "screaming-frog" else (
        LINKINATOR_COLUMNS, linkinator_row)
    n = 0
    with open(out, "w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for batch in batches:
            for link in batch.to_pylist():
                if (row := to_row(link)) is not None:
                    writer.writerow(row)
                    n += 1
    return crawl, n


def write_csv(table: pa.Table, path: str | Path) -> int:
    """A table as CSV for spreadsheets and mail merges: UTF-8 with BOM, list cells joined with ' | '."""
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(table.column_names)
        for row in table.to_pylist():
            writer.writerow([" | ".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v)
                             for v in row.values()])
    return table.num_rows
