"""The prospects report: broken outbound targets ranked by how many sites still link to them, editorial links first.

For broken-link building, a dead resource linked from many referring domains is the best outreach prospect, and a
link inside an article (``content``) is worth far more than one in a footer, sidebar or navigation: content links
rank first. ``sitewide`` links (on at least ``SITEWIDE_MIN_SHARE`` of a site's crawled pages, a template link)
count as boilerplate even when they sit in a content region. Each row carries one sample link's context
(``sample_text_before``, ``sample_anchor``, ``sample_text_after``) for the outreach email to quote, and whom to
write to: ``contact_sites`` (referring sites with a contact point found in the crawl) and ``referring_contacts``
(``site: contact`` for up to 5 of them, each site's best contact: ``crawler/reports/contacts.py``).

``broken_crawls`` (consecutive crawls of the lake in which the target was broken) and ``first_seen_broken`` say
whether a resource is *persistently* dead, which practitioners confirm before outreach: ``min_broken_crawls``
keeps only those broken in at least that many crawls in a row (crawler/recrawl.py).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from crawler.lake import Lake
from crawler.reports.contacts import contacts_source, site_contacts_cte
from crawler.reports.lake import as_lake, columns_of, connect, crawls, table_glob
from crawler.reports.sitewide import sitewide_ctes

# The broken targets first: the links read are only those to them (``sitewide_ctes``), a few percent of a crawl's.
BROKEN = """
WITH broken AS (
    SELECT url, reason, http_status, final_url, {streak}
    FROM read_parquet($checks, union_by_name = true) WHERE verdict = 'broken'
    QUALIFY row_number() OVER (PARTITION BY url ORDER BY checked_at DESC) = 1  -- one row per target, even if twice
),"""

# The link quoted for a target: a content link first, then the one with the most text around it, then the first
# page by URL and the first link on it (every row is one key: the four samples come from the same link, every run).
SAMPLE = "(NOT r.is_content, -length(coalesce(r.text_before, '') || coalesce(r.text_after, '')), r.source_url, r.ordinal)"

REPORT = """,
__site_contacts__,
refs AS (
    SELECT l.*, coalesce(l.region = 'content' AND NOT l.sitewide, false) AS is_content
    FROM sitewide_links l WHERE l.external
),
ranked AS (
SELECT
    b.url,
    b.reason,
    b.http_status,
    b.final_url,
    b.broken_crawls,
    b.first_seen_broken,
    count(DISTINCT r.source_site) AS referring_domains,
    count(DISTINCT r.source_url) AS referring_pages,
    count(*) AS referring_links,
    count(*) FILTER (WHERE r.is_content) AS content_links,
    count(*) FILTER (WHERE NOT r.is_content) AS boilerplate_links,
    list(DISTINCT r.anchor_text ORDER BY r.anchor_text) FILTER (WHERE r.anchor_text <> '') AS anchors,
    list(DISTINCT r.source_url ORDER BY r.source_url) AS sources,
    arg_min(r.source_url, __sample__) AS sample_source,
    arg_min(r.text_before, __sample__) AS sample_text_before,
    arg_min(r.anchor_text, __sample__) AS sample_anchor,
    arg_min(r.text_after, __sample__) AS sample_text_after,
    count(DISTINCT r.source_site) FILTER (WHERE sc.best_contact IS NOT NULL) AS contact_sites,
    coalesce(list(DISTINCT r.source_site || ': ' || sc.best_contact ORDER BY r.source_site || ': ' || sc.best_contact)
        FILTER (WHERE sc.best_contact IS NOT NULL), [])[1:5] AS referring_contacts
FROM broken b JOIN refs r ON r.target_url = b.url LEFT JOIN site_contacts sc ON sc.site = r.source_site
WHERE b.broken_crawls >= $min_broken_crawls
GROUP BY b.url, b.reason, b.http_status, b.final_url, b.broken_crawls, b.first_seen_broken
)
SELECT url, reason, http_status, final_url, broken_crawls, first_seen_broken, referring_domains, referring_pages,
       referring_links, content_links, boilerplate_links,
       -- the quoted sample first, so the lists always hold it
       list_concat(CASE WHEN sample_anchor <> '' THEN [sample_anchor] ELSE [] END,
                   list_filter(coalesce(anchors, []), lambda x: x <> sample_anchor))[1:5] AS sample_anchors,
       list_concat([sample_source], list_filter(sources, lambda x: x <> sample_source))[1:5] AS sample_sources,
       sample_source, sample_text_before, sample_anchor, sample_text_after, contact_sites, referring_contacts
FROM ranked
ORDER BY content_links > 0 DESC, referring_domains DESC, content_links DESC, referring_pages DESC, url
""".replace("__sample__", SAMPLE)

QUERY = BROKEN + "\n" + sitewide_ctes("broken") + REPORT


# Crawls written before the columns existed: each broken row counts as one crawl, since its checked_at.
STREAK_COLUMNS = {"broken_crawls": "coalesce(broken_crawls, 1) AS broken_crawls",
                  "first_seen_broken": "coalesce(first_seen_broken, checked_at) AS first_seen_broken"}
STREAK_FALLBACK = {"broken_crawls": "1 AS broken_crawls", "first_seen_broken": "checked_at AS first_seen_broken"}


def prospects(root: str | Path | Lake, crawl: str | None = None, limit: int | None = None, min_share: float = 0.5,
              min_broken_crawls: int = 1) -> tuple[str, pa.Table]:
    """Run the report over one crawl (the latest by default). Returns ``(crawl_id, table)``."""
    root = as_lake(root)
    crawl = crawl or (crawls(root, "checks") or [None])[-1]
    params = {
        "checks": table_glob(root, "checks", crawl),
        "links": table_glob(root, "links", crawl),
        "pages": table_glob(root, "pages", crawl),
        "min_share": min_share,
        "min_broken_crawls": min_broken_crawls,
    }
    source, more = contacts_source(root, crawl)
    params.update(more)
    con = connect(root)
    con.execute("SET TimeZone = 'UTC'")
    present = columns_of(con, params["checks"])
    streak = ", ".join((STREAK_COLUMNS if name in present else STREAK_FALLBACK)[name] for name in STREAK_COLUMNS)
    sql = QUERY.replace("__site_contacts__,", site_contacts_cte(source).lstrip() + ",", 1).replace("{streak}", streak)
    sql += f"\nLIMIT {int(limit)}" if limit else ""
    return crawl, con.sql(sql, params=params).to_arrow_table()
