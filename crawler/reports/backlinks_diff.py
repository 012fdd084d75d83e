"""The backlinks diff: what changed for each (source_url, target) between two scheduled crawls.

One row per pair checked in either crawl, with both states, reasons and flags, and ``change``:

- ``new``: the link is there in crawl B and was never there in crawl A or before;
- ``restored``: there in B, not in A, but there at some crawl up to A (it came back);
- ``lost``: there in A (live or degraded), lost in B;
- ``degraded``: there in both, and B has a weakness A did not have: a flag (nofollow, anchor_changed...) or the
  link moved out of the main content (``in_main_content`` turned false);
- ``improved``: there in both, and B lost a weakness without gaining one;
- ``unchanged``: anything else (still there as it was, still lost, or no new evidence).

``unverified`` is no evidence: a crawl that could not look (timeout, bot wall...) or that did not list the pair
changes nothing, so each side is judged by the pair's latest *verified* state up to that crawl (the ``state_*``
columns still show what each crawl recorded). Crawls are ordered by when they started (their first
``checked_at``), so any crawl ids work. ``first_seen`` (first time the link was there) and ``last_seen_live``
(last time it was live) are computed over every crawl in the lake.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from crawler.lake import Lake
from crawler.reports.lake import LakeError, as_lake, connect, table_glob

CHANGES = ("lost", "degraded", "new", "restored", "improved", "unchanged")  # also the report's sort order

ROWS = """
WITH rows AS (
    SELECT
        crawl, source_url, target, link_state, reason, flags, in_main_content, checked_at,
        link_state IN ('live', 'degraded') AS present,
        CASE WHEN link_state IN ('live', 'degraded') THEN
            list_concat(flags, CASE WHEN in_main_content = false THEN ['out_of_content'] ELSE [] END)
        END AS weaknesses
    FROM read_parquet($backlinks, hive_partitioning = true, hive_types_autocast = false, union_by_name = true)
    QUALIFY row_number() OVER (PARTITION BY crawl, source_url, target ORDER BY checked_at DESC) = 1
)
"""

CRAWLS = ROWS + "SELECT crawl, min(checked_at) AS started FROM rows GROUP BY crawl ORDER BY started, crawl"

QUERY = ROWS + """,
timeline AS (
    SELECT rows.*, s.started,
           s.started <= (SELECT min(checked_at) FROM rows WHERE crawl = $from_crawl) AS by_from,
           s.started <= (SELECT min(checked_at) FROM rows WHERE crawl = $to_crawl) AS by_to
    FROM rows JOIN (SELECT crawl, min(checked_at) AS started FROM rows GROUP BY crawl) s USING (crawl)
),
pairs AS (
    SELECT
        source_url, target,
        any_value(link_state) FILTER (WHERE crawl = $from_crawl) AS state_from,
        any_value(link_state) FILTER (WHERE crawl = $to_crawl) AS state_to,
        any_value(reason) FILTER (WHERE crawl = $from_crawl) AS reason_from,
        any_value(reason) FILTER (WHERE crawl = $to_crawl) AS reason_to,
        any_value(flags) FILTER (WHERE crawl = $from_crawl) AS flags_from,
        any_value(flags) FILTER (WHERE crawl = $to_crawl) AS flags_to,
        any_value(in_main_content) FILTER (WHERE crawl = $from_crawl) AS in_main_content_from,
        any_value(in_main_content) FILTER (WHERE crawl = $to_crawl) AS in_main_content_to,
        arg_max(present, started) FILTER (WHERE link_state <> 'unverified' AND by_from) AS known_from,
        arg_max(present, started) FILTER (WHERE link_state <> 'unverified' AND by_to) AS known_to,
        arg_max(weaknesses, started) FILTER (WHERE link_state <> 'unverified' AND by_from) AS weak_from,
        arg_max(weaknesses, started) FILTER (WHERE link_state <> 'unverified' AND by_to) AS weak_to,
        coalesce(bool_or(present) FILTER (WHERE by_from), false) AS there_by_from,
        min(checked_at) FILTER (WHERE present) AS first_seen,
        max(checked_at) FILTER (WHERE link_state = 'live') AS last_seen_live,
        count(*) FILTER (WHERE crawl IN ($from_crawl, $to_crawl)) AS listed
    FROM timeline
    GROUP BY source_url, target
)
SELECT
    source_url, target,
    CASE
        WHEN known_to AND known_from THEN CASE
            WHEN NOT list_has_all(weak_from, weak_to) THEN 'degraded'
            WHEN NOT list_has_all(weak_to, weak_from) THEN 'improved'
            ELSE 'unchanged' END
        WHEN known_to THEN CASE WHEN there_by_from THEN 'restored' ELSE 'new' END
        WHEN NOT known_to AND known_from THEN 'lost'
        ELSE 'unchanged'
    END AS change,
    state_from, state_to, reason_from, reason_to, flags_from, flags_to, in_main_content_from, in_main_content_to,
    first_seen, last_seen_live
FROM pairs
WHERE listed > 0
ORDER BY list_position($changes, change), source_url, target
"""


def crawl_order(root: str | Path | Lake) -> list[str]:
    """The crawls of the ``backlinks`` table, oldest first (by their first ``checked_at``)."""
    rows = connect(root).execute(CRAWLS, {"backlinks": table_glob(root, "backlinks", "*")}).fetchall()
    return [crawl for crawl, _ in rows]


def backlinks_diff(
    root: str | Path | Lake, from_crawl: str | None = None, to_crawl: str | None = None
) -> tuple[str, str, pa.Table]:
    """Compare two crawls (by default the two latest). Returns ``(from_crawl, to_crawl, table)``."""
    root = as_lake(root)
    order = crawl_order(root)
    if from_crawl is None and to_crawl is None:
        if len(order) < 2:
            raise LakeError(f"the backlinks table under {root.uri} has {len(order)} crawl(s); a diff needs two")
        from_crawl, to_crawl = order[-2], order[-1]
    elif from_crawl is None or to_crawl is None:
        raise LakeError("give both --from and --to, or neither (the two latest crawls)")
    for crawl in (from_crawl, to_crawl):
        if crawl not in order:
            raise LakeError(f"crawl {crawl!r} has no backlinks rows under {root.uri}; crawls there: {', '.join(order)}")
    if order.index(from_crawl) >= order.index(to_crawl):
        raise LakeError(
            f"--from {from_crawl} must be an older crawl than --to {to_crawl} (crawls, oldest first: {', '.join(order)})"
        )
    params = {
        "backlinks": table_glob(root, "backlinks", "*"),
        "from_crawl": from_crawl,
        "to_crawl": to_crawl,
        "changes": list(CHANGES),
    }
    return from_crawl, to_crawl, connect(root).sql(QUERY, params=params).to_arrow_table()
