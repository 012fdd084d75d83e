"""``scrapy compact``: a crawl's many parts become few sorted files with each key once, on a local lake (folders
swapped in one atomic step) and on the S3 server; readers see the same rows before and after."""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from crawler.compact import compact
from crawler.lake import LocalLake
from schemas import KEYS, SORT_KEYS
from tests.crawling import REPO, Crawl, run_crawl

TABLES = ("pages", "links", "checks", "crawl_stats")


def rows_by_key(crawl: Crawl, table: str) -> dict:
    key = KEYS.get(table, ("worker",))
    return {tuple(r[k] for k in key): {k: v for k, v in r.items() if k != "crawl"} for r in crawl.table(table)}


@pytest.fixture(scope="module")
def many_parts(web, tmp_path_factory):
    """A crawl of the test web committed every 15 rows (many small parts), with one part copied under a second name,
    as a redone commit would leave it."""
    web.reset_counters()
    web.version = 1
    out = tmp_path_factory.mktemp("many")
    result = run_crawl("prospects", out, web, {"seeds": ",".join(web.seeds)},
                       {"CRAWL_ID": "c1", "PARQUET_ROWS_PER_FILE": "15"})
    assert result.returncode == 0, result.log[-2000:]
    parts = sorted((out / "links" / "crawl=c1").glob("*.parquet"))
    assert len(parts) > 2
    shutil.copy(parts[0], parts[0].with_name("part-redone-00000.parquet"))
    return result


def test_compaction_keeps_every_row_once_sorted_in_few_files_and_swaps_atomically(many_parts, tmp_path):
    out = tmp_path / "lake"
    shutil.copytree(many_parts.out, out)
    before = Crawl(0, "", {}, out)
    expected = {t: rows_by_key(before, t) for t in TABLES}
    links = before.table("links")
    assert len(links) > len(expected["links"])  # the copied part: some links twice
    done = subprocess.run([sys.executable, "-m", "scrapy", "compact", str(out)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{len(links) - len(expected['links'])} written twice, removed" in done.stdout
    after = Crawl(0, "", {}, out)
    for table in TABLES:
        files = sorted((out / table / "crawl=c1").iterdir())
        assert len(files) == 1 and files[0].name.startswith("part-compacted-"), files
        rows = after.table(table)
        assert rows_by_key(after, table) == expected[table] and len(rows) == len(expected[table]), table
        column = [r[SORT_KEYS[table]] for r in rows]
        assert column == sorted(column)
        assert pq.read_schema(files[0]).metadata[b"linkprospector.table"] == table.encode()
    assert not (out / "_compacting").exists()
    assert "object store" not in done.stdout  # a local lake swaps the folders atomically


def test_a_small_file_size_gives_several_files_and_a_running_crawl_is_refused(many_parts, tmp_path):
    out = tmp_path / "lake"
    shutil.copytree(many_parts.out, out)
    lake = LocalLake(out)
    result = compact(lake, "links", "c1", rows_per_file=50, row_group_size=20)
    assert result.files_after == -(-result.rows_after // 50) > 1 and result.atomic
    (out / "pages" / "crawl=c1" / "_part-w9-00000.parquet.tmp").touch()
    refused = subprocess.run([sys.executable, "-m", "scrapy", "compact", str(out), "--table", "pages"], cwd=REPO,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "still writing" in refused.stderr


def test_compaction_on_the_bucket(many_parts, object_store):
    lake = object_store.lake("compact")
    for path in sorted(many_parts.out.rglob("*.parquet")):
        lake.upload(path, path.relative_to(many_parts.out).as_posix())
    done = subprocess.run([sys.executable, "-m", "scrapy", "compact", object_store.uri("compact"), "--table", "links"],
                          cwd=REPO, env={**os.environ, **object_store.env}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "both listed for a moment" in done.stdout
    names = lake.list("links/crawl=c1")
    assert len(names) == 1 and names[0].startswith("part-compacted-")
    local = rows_by_key(Crawl(0, "", {}, many_parts.out), "links")
    from tests.test_lake import s3_table

    rows = s3_table(object_store, "compact", "links")
    keys = collections.Counter((r["source_url"], r["ordinal"]) for r in rows)
    assert set(keys) == set(local) and max(keys.values()) == 1
