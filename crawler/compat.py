"""The Scrapy version this project was tested with, checked when the package is imported.

linkprospector reaches into Scrapy internals that change between minor versions (``Downloader._process_queue`` in
``crawler/downloader.py``, ``Scraper._scrape`` in ``crawler/frontier/ledger.py``, the robots.txt middleware's
private methods in ``crawler/robotstxt.py``, ``_DecompressionMaxSizeExceeded`` in ``crawler/checks/verdict.py``,
the stats collector's ``__getattribute__`` hook undone in ``crawler/stats.py``).
``pyproject.toml`` pins the same range; this check turns an install that ignored it into one clear line instead of
a crawl that misbehaves quietly.
"""

from __future__ import annotations

TESTED_SCRAPY = (2, 19)


def check_scrapy(version: str | None = None) -> None:
    if version is None:
        import scrapy

        version = scrapy.__version__
    try:
        found = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        found = ()
    if found != TESTED_SCRAPY:
        wanted = ".".join(map(str, TESTED_SCRAPY))
        raise RuntimeError(f"linkprospector needs Scrapy {wanted}.x (it patches Scrapy internals that change between "
                           f"versions), found {version}: pip install 'scrapy>={wanted},<2.{TESTED_SCRAPY[1] + 1}'")
