"""Sitewide links, computed over the lake.

A link is *sitewide* when its target appears on at least ``SITEWIDE_MIN_SHARE`` (default 0.5) of its site's
crawled HTML pages: a template link (blogroll, footer credit, sidebar widget), worth little as an editorial
signal. It is computed here, over a whole crawl's ``pages`` and ``links``, rather than in the crawler, because
only the finished crawl knows all of a site's pages, and in cluster mode no single worker sees them all.

``SITEWIDE_LINKS`` is the start of a DuckDB ``WITH`` clause (parameters ``$links``, ``$pages``, ``$min_share``)
defining ``sitewide_links``: every links row plus ``sitewide`` (bool) and ``site_share`` (the share of the site's
pages that link to the target). Rows are taken once per key (``source_url``, ``ordinal``): a cluster worker killed
between committing a part and acknowledging its leases can leave a page's rows in the lake twice (README,
"Cluster guarantees").

A report about some targets only asks :func:`sitewide_ctes` for the rows whose ``target_url`` is in a relation it
names: a target's share depends only on the rows that link to it, so the figures are the same, and a crawl of
millions of links is read without keeping, deduplicating and grouping every row (docs/performance.md, "Cost as
the work grows").
"""


def sitewide_ctes(targets: str | None = None) -> str:
    """The entries of a ``WITH`` clause (to follow ``WITH`` or a comma) ending with ``sitewide_links``; with
    ``targets`` (a relation with a ``url`` column, e.g. a CTE defined before), only the external links to those."""
    only = f"WHERE external AND target_url IN (SELECT url FROM {targets})" if targets else ""
    return f"""link_rows AS (
    SELECT * FROM read_parquet($links, union_by_name = true) {only}
    QUALIFY row_number() OVER (PARTITION BY source_url, ordinal) = 1
),
site_pages AS (
    SELECT site, count(DISTINCT url) AS pages
    FROM read_parquet($pages) WHERE parse_status = 'parsed' GROUP BY site
),
target_pages AS (
    SELECT source_site, target_url, count(DISTINCT source_url) AS pages
    FROM link_rows GROUP BY source_site, target_url
),
sitewide_links AS (
    SELECT l.*,
           t.pages / greatest(s.pages, 1) AS site_share,
           coalesce(s.pages >= 2 AND t.pages / s.pages >= $min_share, false) AS sitewide
    FROM link_rows l
    JOIN target_pages t USING (source_site, target_url)
    LEFT JOIN site_pages s ON s.site = l.source_site
)"""


SITEWIDE_LINKS = "\nWITH " + sitewide_ctes()
