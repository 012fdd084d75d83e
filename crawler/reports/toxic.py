"""The toxic-link audit of a backlinks crawl: every risk reason of every linking page, with its evidence.

The reasons one page shows are already in its backlinks rows (``risk_evidence``, from ``crawler/backlinks/
risk.py``). The ones that need several pages or sites are computed here, over the whole crawl, because only
the finished crawl has them all (and in cluster mode no worker sees them all):

- ``sitewide_placement``: your link sits in the footer, sidebar, navigation or header of at least
  ``TOXIC_SITEWIDE_MIN_PAGES`` listed pages of one linking site (a template link, not an editorial one);
- ``commercial_anchor``: one anchor text, holding a commercial word (``crawler/backlinks/riskwords.py``), links to
  you from at least ``TOXIC_ANCHOR_MIN_DOMAINS`` linking sites (exact-match anchors repeated across domains are
  how bought or automated links look);
- ``shared_template``: at least ``TOXIC_TEMPLATE_MIN_SITES`` linking sites have pages with one template
  fingerprint (``template_hash``): a network of sites built from one kit.

One row per (linking page, target, reason): ``source_url``, ``source_site``, ``target``, ``link_state``,
``reason``, ``evidence``, ``scope`` (``page``: disavowed by URL; ``site``: by ``domain:``). Rows are taken once
per key (``source_url``, ``target``), the latest check first, as every report does.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from crawler.backlinks.riskwords import (
    COMMERCIAL_ANCHOR,
    COMMERCIAL_WORDS,
    REASONS,
    SHARED_TEMPLATE,
    SITE_REASONS,
    SITEWIDE_PLACEMENT,
    TEMPLATE_REGIONS,
)
from crawler.reports.lake import connect, crawls, table_glob
from crawler.urls import site_of


@dataclass(frozen=True)
class LakeThresholds:
    sitewide_min_pages: int = 3
    anchor_min_domains: int = 3
    template_min_sites: int = 3

    @classmethod
    def from_settings(cls, settings) -> LakeThresholds:
        return cls(settings.getint("TOXIC_SITEWIDE_MIN_PAGES"), settings.getint("TOXIC_ANCHOR_MIN_DOMAINS"),
                   settings.getint("TOXIC_TEMPLATE_MIN_SITES"))


TOXIC_QUERY = """
WITH b AS (
    SELECT r.*, s.source_site, regexp_replace(lower(trim(r.anchor_text)), '\\s+', ' ', 'g') AS anchor_key
    FROM read_parquet($glob, union_by_name = true) r JOIN source_sites s USING (source_url)
    QUALIFY row_number() OVER (PARTITION BY r.source_url, r.target ORDER BY r.checked_at DESC) = 1
),
page_reasons AS (
    SELECT source_url, source_site, target, link_state, e.key AS reason, e.value AS evidence
    FROM (SELECT *, unnest(map_entries(risk_evidence)) AS e FROM b)
),
template_sites AS (
    SELECT source_site, count(DISTINCT source_url) AS pages, string_agg(DISTINCT region, '/' ORDER BY region) AS regions
    FROM b WHERE region IN (SELECT unnest($template_regions))
    GROUP BY source_site HAVING count(DISTINCT source_url) >= $min_pages
),
sitewide AS (
    SELECT b.source_url, b.source_site, b.target, b.link_state, $sitewide AS reason,
           format('your link in the {} of {} listed pages of {}', t.regions, t.pages, b.source_site) AS evidence
    FROM b JOIN template_sites t USING (source_site)
    WHERE b.region IN (SELECT unnest($template_regions))
),
anchors AS (
    SELECT anchor_key, count(DISTINCT source_site) AS sites
    FROM b WHERE anchor_key <> ''
      AND len(list_intersect(regexp_split_to_array(anchor_key, '[^[:alnum:]]+'), $words)) > 0
    GROUP BY anchor_key HAVING count(DISTINCT source_site) >= $min_domains
),
commercial AS (
    SELECT b.source_url, b.source_site, b.target, b.link_state, $commercial AS reason,
           format('anchor ''{}'' from {} linking sites', b.anchor_text, a.sites) AS evidence
    FROM b JOIN anchors a USING (anchor_key)
),
templates AS (
    SELECT template_hash, count(DISTINCT source_site) AS sites,
           string_agg(DISTINCT source_site, ', ' ORDER BY source_site) AS site_list
    FROM b WHERE template_hash IS NOT NULL
    GROUP BY template_hash HAVING count(DISTINCT source_site) >= $min_sites
),
shared AS (
    SELECT b.source_url, b.source_site, b.target, b.link_state, $shared AS reason,
           format('page template {} shared by {} linking sites: {}', t.template_hash, t.sites,
                  CASE WHEN length(t.site_list) > 200 THEN t.site_list[:200] || '...' ELSE t.site_list END) AS evidence
    FROM b JOIN templates t USING (template_hash)
)
SELECT *, CASE WHEN reason IN (SELECT unnest($site_reasons)) THEN 'site' ELSE 'page' END AS scope
FROM (SELECT * FROM page_reasons UNION ALL SELECT * FROM sitewide UNION ALL SELECT * FROM commercial
      UNION ALL SELECT * FROM shared)
ORDER BY reason, source_site, source_url, target
"""


def toxic_report(lake, crawl: str | None = None, thresholds: LakeThresholds = LakeThresholds()) -> tuple[str, pa.Table]:
    """``(crawl id, one row per linking page, target and reason)`` of one backlinks crawl (the latest by default)."""
    glob = table_glob(lake, "backlinks", crawl)
    crawl = crawl or crawls(lake, "backlinks")[-1]
    con = connect(lake)
    # the registered domain needs the public suffix list, which DuckDB lacks: computed here, joined there
    urls = con.execute("SELECT DISTINCT source_url FROM read_parquet($glob, union_by_name = true)",
                       {"glob": glob}).to_arrow_table().column("source_url").to_pylist()
    sites = pa.table({"source_url": pa.array(urls, pa.string()),
                      "source_site": pa.array([site_of(u) for u in urls], pa.string())})
    con.register("source_sites", sites)
    table = con.execute(TOXIC_QUERY, {
        "glob": glob, "template_regions": list(TEMPLATE_REGIONS), "min_pages": thresholds.sitewide_min_pages,
        "sitewide": SITEWIDE_PLACEMENT, "words": sorted(COMMERCIAL_WORDS), "min_domains": thresholds.anchor_min_domains,
        "commercial": COMMERCIAL_ANCHOR, "min_sites": thresholds.template_min_sites, "shared": SHARED_TEMPLATE,
        "site_reasons": sorted(SITE_REASONS),
    }).to_arrow_table()
    return crawl, table


def reason_counts(table: pa.Table) -> dict[str, int]:
    """Linking pages per reason, in ``REASONS`` order (each page once per reason)."""
    pages: dict[str, set] = {}
    for reason, url in zip(table.column("reason").to_pylist(), table.column("source_url").to_pylist()):
        pages.setdefault(reason, set()).add(url)
    return {r: len(pages[r]) for r in REASONS if r in pages}
