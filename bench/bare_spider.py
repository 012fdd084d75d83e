"""The baseline: a bare Scrapy link-following spider, as anyone would write it in ten lines.

Run with ``scrapy runspider bench/bare_spider.py -a seeds=FILE -a stats=FILE`` from a folder outside the project (so
no project setting applies). It follows every link to the seeds' hosts, nothing else: no robots.txt, no items, no
checks. The same spider runs on Scrapy's in-memory scheduler and on stock scrapy-redis (``-s SCHEDULER=...``), which
is how the benchmark measures the cost of the lineage's shared frontier.

The run's stats (with the first and last response times, so pages/s excludes start-up and shut-down, as it does for
the prospects crawl) are written as JSON to the ``stats`` file.
"""

import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import scrapy


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, seeds: str, stats: str, **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [line.strip() for line in Path(seeds).read_text().splitlines() if line.strip()]
        self.hosts = {urlsplit(u).hostname for u in self.start_urls}
        self.stats_path = stats
        self.first = self.last = None

    def parse(self, response):
        now = time.time()
        self.first = self.first or now
        self.last = now
        self.crawler.stats.inc_value("pages/crawled")
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href)
            if urlsplit(url).hostname in self.hosts:
                yield scrapy.Request(url, callback=self.parse)

    def closed(self, reason):
        stats = dict(self.crawler.stats.get_stats())
        stats.update({"bench/first_response": self.first, "bench/last_response": self.last})
        Path(self.stats_path).write_text(json.dumps(stats, default=str, indent=1, sort_keys=True))
