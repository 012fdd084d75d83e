"""Finding tables and crawls in the data lake, for the report queries (local folder or object storage alike)."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from crawler.lake import Lake, LakeError, open_lake

__all__ = ["LakeError", "as_lake", "connect", "crawls", "table_glob"]


def as_lake(root: str | Path | Lake, settings=None) -> Lake:
    return root if isinstance(root, Lake) else open_lake(str(root), settings)


def crawls(root: str | Path | Lake, table: str) -> list[str]:
    """The crawl ids that have files for ``table``, oldest first (ids are UTC timestamps by default)."""
    lake = as_lake(root)
    return [name.split("=", 1)[1] for name in lake.folders(table)
            if name.startswith("crawl=") and lake.list(f"{table}/{name}", "*.parquet")]


def table_glob(root: str | Path | Lake, table: str, crawl: str | None = None) -> str:
    """The glob of one crawl's files of ``table`` (every crawl when ``crawl`` is '*'), for :func:`connect`."""
    lake = as_lake(root)
    known = crawls(lake, table)
    if not known:
        raise LakeError(f"no {table} table under {lake.uri} (expected {lake.uri}/{table}/crawl=<id>/*.parquet)")
    if crawl is None:
        crawl = known[-1]
    elif crawl != "*" and crawl not in known:
        raise LakeError(f"crawl {crawl!r} has no {table} files under {lake.uri}; crawls there: {', '.join(known)}")
    return lake.location(f"{table}/crawl={crawl}/*.parquet")


def connect(root: str | Path | Lake | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that can read the lake, and shows its progress bar when a person watches a terminal."""
    con = duckdb.connect()
    if root is not None:
        as_lake(root).attach(con)
    if sys.stderr.isatty():
        con.execute("PRAGMA enable_progress_bar")
    return con
