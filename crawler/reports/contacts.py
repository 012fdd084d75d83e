"""Each crawled site's contact points, summed up over its pages, for the reports that say whom to write to.

``site_contacts_cte(source)`` is a DuckDB ``WITH`` entry (to follow a comma) defining ``site_contacts``: one row per
site with its ``emails`` (the most linked first, at most 5), its ``contact_page``, ``write_for_us_page``,
``imprint_page`` and ``about_page`` (each the one linked from the most pages), its profiles by network
(``twitter``, ``facebook``, ``linkedin``, ``instagram``, ``youtube``, and every one in ``social_profiles``) and
``best_contact``: the first email, else the contact page, else the imprint, the "write for us" or the about
page, else a profile. A crawl written before the ``contacts`` table existed has none: :func:`contacts_source`
then gives an empty relation, so the reports still run (their contact columns stay empty).
"""

from __future__ import annotations

from crawler.lake import Lake
from crawler.reports.lake import crawls, table_glob

EMPTY = ("(SELECT NULL::VARCHAR AS site, NULL::VARCHAR AS kind, NULL::VARCHAR AS value, NULL::VARCHAR AS network, "
         "NULL::VARCHAR AS label, NULL::VARCHAR AS source_url WHERE false)")
NETWORKS = ("twitter", "facebook", "linkedin", "instagram", "youtube")
PAGE_KINDS = ("contact_page", "write_for_us_page", "imprint_page", "about_page")


def contacts_source(lake: Lake, crawl: str) -> tuple[str, dict]:
    """The SQL relation of one crawl's contacts rows, and the parameters it needs."""
    if crawl in crawls(lake, "contacts"):
        return "read_parquet($contacts, union_by_name = true)", {"contacts": table_glob(lake, "contacts", crawl)}
    return EMPTY, {}


def site_contacts_cte(source: str) -> str:
    pages = ",\n".join(f"        first(value ORDER BY pages DESC, value) FILTER (WHERE kind = '{kind}') AS {kind}"
                       for kind in PAGE_KINDS)
    networks = ",\n".join(f"        first(value ORDER BY pages DESC, value) FILTER (WHERE network = '{n}') AS {n}"
                          for n in NETWORKS)
    return f"""
contact_rows AS (
    SELECT site, kind, value, network, count(DISTINCT source_url) AS pages
    FROM (SELECT * FROM {source} QUALIFY row_number() OVER (PARTITION BY source_url, kind, value) = 1)
    GROUP BY ALL
),
site_contacts_raw AS (
    SELECT site,
        coalesce(list(value ORDER BY pages DESC, value) FILTER (WHERE kind = 'email'), [])[1:5] AS emails,
{pages},
{networks},
        coalesce(list(value ORDER BY network, pages DESC, value) FILTER (WHERE kind = 'social'), []) AS social_profiles
    FROM contact_rows GROUP BY site
),
site_contacts AS (
    SELECT *, coalesce(emails[1], contact_page, imprint_page, write_for_us_page, about_page, social_profiles[1])
              AS best_contact
    FROM site_contacts_raw
)"""
