"""The prospects report: broken outbound targets ranked by how many sites still link to them.

For broken-link building, a dead resource linked from many referring domains is the best outreach prospect: each
referring page is a site owner who would want a working replacement.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from crawler.reports.lake import connect, crawls, table_glob

QUERY = """
WITH broken AS (
    SELECT url, reason, http_status, final_url FROM read_parquet($checks) WHERE verdict = 'broken'
),
refs AS (
    SELECT l.target_url, l.source_url, l.source_site, l.anchor_text, l.ordinal
    FROM read_parquet($links, union_by_name = true) l
    WHERE l.external
)
SELECT
    b.url,
    b.reason,
    b.http_status,
    b.final_url,
    count(DISTINCT r.source_site) AS referring_domains,
    count(DISTINCT r.source_url) AS referring_pages,
    count(*) AS referring_links,
    list(DISTINCT r.anchor_text ORDER BY r.anchor_text) FILTER (WHERE r.anchor_text <> '')[1:5] AS sample_anchors,
    list(DISTINCT r.source_url ORDER BY r.source_url)[1:5] AS sample_sources
FROM broken b JOIN refs r ON r.target_url = b.url
GROUP BY b.url, b.reason, b.http_status, b.final_url
ORDER BY referring_domains DESC, referring_pages DESC, b.url
"""


def prospects(root: str | Path, crawl: str | None = None, limit: int | None = None) -> tuple[str, pa.Table]:
    """Run the report over one crawl (the latest by default). Returns ``(crawl_id, table)``."""
    crawl = crawl or (crawls(root, "checks") or [None])[-1]
    params = {"checks": table_glob(root, "checks", crawl), "links": table_glob(root, "links", crawl)}
    sql = QUERY + (f"\nLIMIT {int(limit)}" if limit else "")
    return crawl, connect().execute(sql, params).to_arrow_table()
