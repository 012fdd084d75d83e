"""Scrapy commands of the project (``COMMANDS_MODULE``), and what the report commands share."""

from __future__ import annotations

from scrapy.exceptions import UsageError

from crawler.reports.exports import write_csv


def print_table(table, columns: list[str], width: int = 60) -> None:
    rows = [[str(r[c]) if r[c] is not None else "" for c in columns] for r in table.select(columns).to_pylist()]
    widths = [min(width, max([len(c)] + [len(r[i]) for r in rows])) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for r in rows:
        print("  ".join((v if len(v) <= w else v[:w - 1] + "…").ljust(w) for v, w in zip(r, widths)))


def save_csv(table, path: str) -> None:
    """``--csv PATH``: the table as CSV, or one line saying why it cannot be written."""
    try:
        write_csv(table, path)
    except OSError as exc:
        raise UsageError(f"--csv {path}: {exc.strerror or exc}", print_help=False) from None
    print(f"wrote {path}")
