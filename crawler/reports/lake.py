"""Finding tables and crawls in the data lake, for the report queries."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb


class LakeError(ValueError):
    """The lake or the crawl asked for is not there; the message says what is."""


def crawls(root: str | Path, table: str) -> list[str]:
    """The crawl ids that have files for ``table``, oldest first (ids are UTC timestamps by default)."""
    base = Path(root) / table
    if not base.is_dir():
        return []
    return sorted(p.name.split("=", 1)[1] for p in base.glob("crawl=*") if any(p.glob("*.parquet")))


def table_glob(root: str | Path, table: str, crawl: str | None = None) -> str:
    """The glob of one crawl's files of ``table`` (every crawl when ``crawl`` is '*')."""
    known = crawls(root, table)
    if not known:
        raise LakeError(f"no {table} table under {root} (expected {root}/{table}/crawl=<id>/*.parquet)")
    if crawl is None:
        crawl = known[-1]
    elif crawl != "*" and crawl not in known:
        raise LakeError(f"crawl {crawl!r} has no {table} files under {root}; crawls there: {', '.join(known)}")
    return str(Path(root) / table / f"crawl={crawl}" / "*.parquet")


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that shows its progress bar when a person is watching a terminal."""
    con = duckdb.connect()
    if sys.stderr.isatty():
        con.execute("PRAGMA enable_progress_bar")
    return con
