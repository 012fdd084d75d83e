"""``scrapy seed <spider> PATH [--crawl ID] [--append]``: start a cluster crawl by queueing its first requests.

Parses the input with the spider's own reader (bad lines are reported with their line numbers and skipped), then,
unless ``--append``, clears the previous crawl's queues, leases and dupefilter, stores the crawl id every worker
will write under, and queues the first request(s) of every entry in the shared frontier. Needs ``REDIS_URL``.
"""

from __future__ import annotations

import asyncio

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.frontier.cluster import start_crawl


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "<spider> <PATH> [--crawl ID] [--append]"

    def short_desc(self) -> str:
        return "Queue seeds (or other spider input) in the shared Redis frontier for cluster workers"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--crawl", help="crawl id to write under (default: the current UTC time)")
        parser.add_argument("--append", action="store_true", help="add to the running crawl instead of starting a new one")

    def run(self, args: list[str], opts) -> None:
        if len(args) != 2:
            raise UsageError("give a spider name and an input path")
        if not self.settings.get("REDIS_URL"):
            raise UsageError("REDIS_URL is not set (environment or -s REDIS_URL=redis://host:6379/0)")
        spidercls = self.crawler_process.spider_loader.load(args[0])
        try:
            entries, errors = spidercls.read_input(args[1])
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read {args[1]}: {exc}") from None
        for error in errors:
            print(f"skipped: {error}")
        crawl, queued, refused = asyncio.run(start_crawl(self.settings, spidercls, entries, opts.crawl, opts.append))
        for message in refused:
            print(f"skipped: {message}")
        print(f"{len(entries) - len(refused)} entries queued ({queued} requests) in the {spidercls.name} frontier "
              f"for crawl {crawl} ({len(errors) + len(refused)} malformed)")
