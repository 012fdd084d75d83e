"""Item pipeline: where each link sits on its page (region, main-content flag, surrounding text, heading...).

The logic is ``crawler/extract/placement/`` (plain functions over the lxml tree). The tree comes in the item, as
the spider parsed it: a page is parsed once. After placement the tree is dropped from the item, so a page's DOM
never outlives its trip through the pipelines.

Settings: ``PLACEMENT_ENABLED`` (default True), ``PLACEMENT_MAIN_CONTENT`` (default "auto": ``in_main_content``/
``position``/``paragraph_index`` from the page's article container, trafilatura on pages without one; "trafilatura"
on every page; False: none), ``PLACEMENT_MODEL`` (default True: the
learned model decides regions from the rules' verdict and the link's features, docs/placement.md; False: the rules
alone), ``LINK_REGION_RULES`` (per-site overrides, which win over both:
``[{"xpath": "//div[@id='promo']", "region": "sidebar", "site": "example.com"}, {"class": "menu-x", "region":
"navigation"}]``, first match wins).

``sitewide`` is not a column: whether a target is on at least ``SITEWIDE_MIN_SHARE`` of a site's pages is only
known once all of the site's pages are, and in cluster mode no worker sees them all. It is computed over the lake
(``crawler/reports/sitewide.py``), where it is always right.
"""

from __future__ import annotations

import json
import logging

from scrapy.exceptions import NotConfigured

from crawler.extract.placement import compile_rules, place_links
from crawler.extract.placement.maincontent import main_content_mode
from crawler.items import PageItem
from crawler.urls import host_of

logger = logging.getLogger(__name__)


def place_item(item: PageItem, rules, main_content: str | None, model: bool) -> None:
    """Fill the placement columns of the item's link rows from its tree (raises if the page cannot be placed).
    The spider's parse pool calls it too (``crawler/parsepool.py``)."""
    placed = place_links(item.root, item.anchors, rules=rules, main_content=main_content, site=host_of(item.page.url),
                         model=model)
    for row, placement in zip(item.links, placed):
        for column, value in placement.items():  # a name that is no links column fails here (a slotted record)
            setattr(row, column, value)


class PlacementPipeline:
    def __init__(self, crawler, rules, main_content: str | None, model: bool):
        self.crawler = crawler
        self.rules = rules
        self.main_content = main_content
        self.model = model

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("PLACEMENT_ENABLED"):
            raise NotConfigured("PLACEMENT_ENABLED is off")
        spec = s.get("LINK_REGION_RULES")
        if isinstance(spec, str):
            spec = json.loads(spec) if spec.strip() else None
        return cls(crawler, compile_rules(spec), main_content_mode(s.get("PLACEMENT_MAIN_CONTENT")),
                   s.getbool("PLACEMENT_MODEL"))

    def place(self, item: PageItem) -> None:
        """Fill the placement columns of the item's link rows from its tree (shared with the backlinks spider)."""
        if not item.links or item.root is None:
            return
        try:
            place_item(item, self.rules, self.main_content, self.model)
        except Exception:  # a page we cannot place keeps its links, unplaced; the crawl goes on
            logger.exception("placement failed on %s", item.page.url)
            self.crawler.stats.inc_value("placement/failed")

    async def process_item(self, item):
        if isinstance(item, PageItem) and item.root is not None:
            self.place(item)
            item.root = None
            item.anchors = []
        return item
