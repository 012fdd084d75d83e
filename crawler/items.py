"""What the spiders hand to the item pipelines.

A page travels as one item with all its links, and with the lxml tree it was parsed into, so that the placement
pipeline annotates the links on the same tree (a page is parsed once) and the Parquet pipeline writes the page and
its links together. The tree and elements are transient: they are never written. The rows are their tables'
records (``schemas/records.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas.records import CheckRow, ContactRow, LinkRow, PageRow, Row


@dataclass
class PageItem:
    page: PageRow
    links: list[LinkRow] = field(default_factory=list)
    anchors: list[Any] = field(default_factory=list, repr=False)  # lxml elements, parallel to ``links``
    root: Any = field(default=None, repr=False)  # the page's lxml tree (None when not HTML)
    contacts: list[ContactRow] = field(default_factory=list)  # mailto links, contact pages, profiles

    def rows_by_table(self) -> dict[str, list[Row]]:
        return {"pages": [self.page], "links": self.links, "contacts": self.contacts}


@dataclass
class CheckItem:
    row: CheckRow

    def rows_by_table(self) -> dict[str, list[Row]]:
        return {"checks": [self.row]}
