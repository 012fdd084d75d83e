"""``region_confidence`` in the lake: a crawl whose links parts were written partly before the column existed (a
worker upgraded mid-crawl, or parts merged from an older crawl) still reports, with nulls for the older rows; a
crawl written wholly before it still exports; and the filter docs/placement.md gives keeps what it says."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq

from crawler.reports.exports import broken_links
from crawler.reports.lake import connect
from crawler.reports.prospects import prospects
from schemas import schema_for

NOW = datetime(2026, 1, 5, tzinfo=UTC)
DEAD = "https://gone.example.org/r/1"


def link(source: str, ordinal: int, region: str, confidence: float | None) -> dict:
    return {"source_url": source, "source_site": source.split("/")[2], "target_url": DEAD, "external": True,
            "tag": "a", "anchor_text": f"anchor {ordinal}", "link_type": "text", "rel": [], "ordinal": ordinal,
            "region": region, "in_main_content": region == "content", "region_confidence": confidence,
            "text_before": "before", "text_after": "after", "fetched_at": NOW}


def write(root, table: str, rows: list[dict], name: str, schema: pa.Schema | None = None) -> None:
    folder = root / table / "crawl=c1"
    folder.mkdir(parents=True, exist_ok=True)
    schema = schema or schema_for(table)
    rows = [{k: v for k, v in row.items() if k in schema.names} for row in rows]
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / name)


def old_links_schema() -> pa.Schema:
    """The links schema before ``region_confidence``."""
    schema = schema_for("links")
    return schema.remove(schema.get_field_index("region_confidence"))


def lake(root, old: list[dict], new: list[dict]):
    write(root, "links", old, "part-old-00000.parquet", old_links_schema())
    if new:
        write(root, "links", new, "part-new-00000.parquet")
    sources = sorted({row["source_url"] for row in old + new})
    write(root, "checks", [{"url": DEAD, "verdict": "broken", "reason": "http_404", "checked_at": NOW,
                            "broken_crawls": 1}], "part-w-00000.parquet")
    write(root, "pages", [{"url": s, "site": s.split("/")[2], "parse_status": "parsed", "fetched_at": NOW}
                          for s in sources], "part-w-00000.parquet")
    return root


def test_a_crawl_mixing_parts_before_and_after_the_column_reports(tmp_path):
    old = [link("https://old.example.com/post", 0, "content", None), link("https://old.example.com/post", 1,
                                                                          "footer", None)]
    new = [link("https://new.example.net/post", 0, "content", 0.8),
           link("https://new.example.net/post", 1, "content", 0.42),
           link("https://new.example.net/post", 2, "sidebar", 0.97),
           link("https://new.example.net/post", 3, "content", 0.7)]
    root = lake(tmp_path / "mixed", old, new)
    (row,) = prospects(root, "c1")[1].to_pylist()
    assert row["referring_domains"] == 2 and row["content_links"] == 4
    exported = {(r["source_url"], r["anchor_text"]): r["region_confidence"]
                for r in broken_links(root, "c1")[1].to_pylist()}
    assert exported[("https://old.example.com/post", "anchor 0")] is None
    assert exported[("https://new.example.net/post", "anchor 1")] == 0.42
    assert exported[("https://new.example.net/post", "anchor 0")] == 0.8
    # docs/placement.md's filter: a stored 0.8 counts as 0.8 (a double, as the query's literal), and older rows
    # (null) are left out
    def kept(threshold: str) -> list:
        return connect(root).sql(
            "SELECT source_url, ordinal FROM read_parquet($links, union_by_name = true) "
            f"WHERE region = 'content' AND region_confidence >= {threshold} ORDER BY ALL",
            params={"links": str(root / "links" / "crawl=c1" / "*.parquet")}).fetchall()

    assert kept("0.8") == [("https://new.example.net/post", 0)]
    assert kept("0.7") == [("https://new.example.net/post", 0), ("https://new.example.net/post", 3)]


def test_a_crawl_written_before_the_column_still_exports(tmp_path):
    root = lake(tmp_path / "old", [link("https://old.example.com/post", 0, "content", None)], [])
    (row,) = broken_links(root, "c1")[1].to_pylist()
    assert row["region"] == "content" and row["region_confidence"] is None
    assert prospects(root, "c1")[1].num_rows == 1
