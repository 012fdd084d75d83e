"""What the spiders hand to the item pipelines.

A page travels as one item with all its links, and with the lxml tree it was parsed into, so that the placement
pipeline annotates the links on the same tree (a page is parsed once) and the Parquet pipeline writes the page and
its links together. The tree and elements are transient: they are never written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class PageItem:
    page: dict
    links: list[dict] = field(default_factory=list)
    anchors: list[Any] = field(default_factory=list, repr=False)  # lxml elements, parallel to ``links``
    root: Any = field(default=None, repr=False)  # the page's lxml tree (None when not HTML)
    contacts: list[dict] = field(default_factory=list)  # contacts rows: mailto links, contact pages, profiles

    def rows_by_table(self) -> dict[str, list[dict]]:
        return {"pages": [self.page], "links": self.links, "contacts": self.contacts}


@dataclass
class CheckItem:
    row: dict

    def rows_by_table(self) -> dict[str, list[dict]]:
        return {"checks": [self.row]}
