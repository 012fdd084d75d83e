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

How it runs at scale (docs/performance.md, "Cost as the work grows"): ``FAST`` reads each row once and groups by
pair once, with plain values in the aggregates (a crawl's position instead of its start time, one struct for the
state before a crawl). It assumes each pair has at most one row per crawl, which is what a crawl writes; a lake
where some pair has two rows in one crawl (a commit written twice, docs/pitfalls.md §7, before ``scrapy
compact``) is noticed by the same query and then read with ``EXACT``, which keeps the latest row of each pair per
crawl first (the same report, 2.6x slower on 10 million rows). ``tests/test_backlinks_units.py`` holds the two
to the same results.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

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

SOURCE = "read_parquet($backlinks, hive_partitioning = true, hive_types_autocast = false, union_by_name = true)"

# A crawl starts with its first row; a row written twice has the time of the first, so no dedup is needed here.
CRAWLS = f"SELECT crawl, min(checked_at) AS started FROM {SOURCE} GROUP BY crawl ORDER BY started, crawl"

# How a pair changed, from each side's last verified state (both queries below say it the same way).
CHANGE = """CASE
        WHEN known_to AND known_from THEN CASE
            WHEN NOT list_has_all(weak_from, weak_to) THEN 'degraded'
            WHEN NOT list_has_all(weak_to, weak_from) THEN 'improved'
            ELSE 'unchanged' END
        WHEN known_to THEN CASE WHEN there_by_from THEN 'restored' ELSE 'new' END
        WHEN NOT known_to AND known_from THEN 'lost'
        ELSE 'unchanged'
    END AS change"""

# The report, reading each row once and grouping by pair once. $pos_from and $pos_to are the two crawls' places in
# crawl_order() (1 = the oldest). A side's last verified state is its crawl's own row when that one is verified,
# else the last verified row before it: ``before_from`` (crawls older than $pos_from) and, only when crawls lie
# between the two (``__between__``), ``between``. Every aggregate costs a pass over its input (measured: ~0.1 s per
# million rows for a struct, FILTERs included), so the values of each side are one struct, and conditions that can
# be plain expressions are. ``repeated`` counts a pair's rows beyond one per crawl: each crawl's place is a bit of
# a 63-bit word (``__crawl_bits__``), so no DISTINCT is needed.
FAST = f"""
WITH rows AS (
    SELECT source_url, target, link_state, checked_at, link_state IN ('live', 'degraded') AS present,
        list_position($order, crawl) AS pos,
        {{'link_state': link_state, 'reason': reason, 'flags': flags, 'in_main_content': in_main_content}} AS state
    FROM {SOURCE}
),
pairs AS (
    SELECT
        source_url, target,
        any_value(state) FILTER (WHERE pos = $pos_from) AS at_from,
        any_value(state) FILTER (WHERE pos = $pos_to) AS at_to,
        arg_max(state, pos) FILTER (WHERE link_state <> 'unverified' AND pos < $pos_from) AS before_from,
        __between__ AS between,
        coalesce(bool_or(present AND pos <= $pos_from), false) AS there_by_from,
        min(CASE WHEN present THEN checked_at END) AS first_seen,
        max(CASE WHEN link_state = 'live' THEN checked_at END) AS last_seen_live,
        count(*) - (__crawl_bits__) AS repeated
    FROM rows
    GROUP BY source_url, target
),
sides AS (
    SELECT source_url, target, at_from, at_to, there_by_from, first_seen, last_seen_live, repeated,
        CASE WHEN at_from.link_state <> 'unverified' THEN at_from ELSE before_from END AS verified_from,
        coalesce(CASE WHEN at_to.link_state <> 'unverified' THEN at_to END, between,
                 CASE WHEN at_from.link_state <> 'unverified' THEN at_from ELSE before_from END) AS verified_to
    FROM pairs
    WHERE at_from IS NOT NULL OR at_to IS NOT NULL
),
known AS (
    SELECT *,
        verified_from.link_state IN ('live', 'degraded') AS known_from,
        verified_to.link_state IN ('live', 'degraded') AS known_to,
        list_concat(verified_from.flags, CASE WHEN verified_from.in_main_content = false THEN ['out_of_content'] ELSE [] END)
            AS weak_from,
        list_concat(verified_to.flags, CASE WHEN verified_to.in_main_content = false THEN ['out_of_content'] ELSE [] END)
            AS weak_to
    FROM sides
)
SELECT
    source_url, target,
    """ + CHANGE + """,
    at_from.link_state AS state_from, at_to.link_state AS state_to, at_from.reason AS reason_from,
    at_to.reason AS reason_to, at_from.flags AS flags_from, at_to.flags AS flags_to,
    at_from.in_main_content AS in_main_content_from, at_to.in_main_content AS in_main_content_to,
    first_seen, last_seen_live, repeated > 0 AS repeated
FROM known
ORDER BY list_position($changes, change), source_url, target
"""
BETWEEN = "arg_max(state, pos) FILTER (WHERE link_state <> 'unverified' AND pos > $pos_from AND pos < $pos_to)"

# The same report, each pair's latest row per crawl first: for a lake where a pair has two rows in one crawl.
EXACT = ROWS + """,
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
    """ + CHANGE + """,
    state_from, state_to, reason_from, reason_to, flags_from, flags_to, in_main_content_from, in_main_content_to,
    first_seen, last_seen_live
FROM pairs
WHERE listed > 0
ORDER BY list_position($changes, change), source_url, target
"""


def crawl_order(root: str | Path | Lake) -> list[str]:
    """The crawls of the ``backlinks`` table, oldest first (by their first ``checked_at``)."""
    return [crawl for crawl, _ in _crawl_starts(root)]


def _crawl_starts(root: str | Path | Lake) -> list[tuple[str, object]]:
    return connect(root).execute(CRAWLS, {"backlinks": table_glob(root, "backlinks", "*")}).fetchall()


def _crawl_bits(crawls: int) -> str:
    """SQL for how many distinct crawls a pair's rows come from: each crawl's place a bit of a 63-bit word."""
    words = [f"bit_count(bit_or(CASE WHEN (pos - 1) // 63 = {w} THEN 1::BIGINT << ((pos - 1) % 63) END))"
             for w in range((crawls + 62) // 63)]
    return " + ".join(words) or "0"


def backlinks_diff(
    root: str | Path | Lake, from_crawl: str | None = None, to_crawl: str | None = None
) -> tuple[str, str, pa.Table]:
    """Compare two crawls (by default the two latest). Returns ``(from_crawl, to_crawl, table)``."""
    root = as_lake(root)
    starts = _crawl_starts(root)
    order = [crawl for crawl, _ in starts]
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
    source = table_glob(root, "backlinks", "*")
    params = {"backlinks": source, "changes": list(CHANGES), "order": order,
              "pos_from": order.index(from_crawl) + 1, "pos_to": order.index(to_crawl) + 1}
    sql = FAST.replace("__crawl_bits__", _crawl_bits(len(order)))
    sql = sql.replace("__between__", BETWEEN if params["pos_to"] - params["pos_from"] > 1 else "NULL")
    table = connect(root).sql(sql, params=params).to_arrow_table()
    if table.num_rows and pc.any(table.column("repeated")).as_py():
        params = {"backlinks": source, "from_crawl": from_crawl, "to_crawl": to_crawl, "changes": list(CHANGES)}
        return from_crawl, to_crawl, connect(root).sql(EXACT, params=params).to_arrow_table()
    return from_crawl, to_crawl, table.drop_columns(["repeated"])
