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


def columns_of(con: duckdb.DuckDBPyConnection, files) -> set[str]:
    """The columns of the Parquet ``files`` read together (``union_by_name``): parts written before a column existed
    lack it, and DuckDB fills it with nulls only when some other part has it, so a query naming it must ask first."""
    return {row[0] for row in con.execute("DESCRIBE SELECT * FROM read_parquet($files, union_by_name = true)",
                                          {"files": files}).fetchall()}


def present_or_null(present: set[str], columns: dict[str, str]) -> str:
    """A select list: each of ``columns`` (name -> DuckDB type) as stored where ``present``, else a typed NULL under
    its name (data written before the column existed)."""
    return ", ".join(name if name in present else f"NULL::{kind} AS {name}" for name, kind in columns.items())


def connect(root: str | Path | Lake | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that can read the lake, and shows its progress bar when a person watches a terminal."""
    con = duckdb.connect()
    if root is not None:
        as_lake(root).attach(con)
    if sys.stderr.isatty():
        con.execute("PRAGMA enable_progress_bar")
    return con
