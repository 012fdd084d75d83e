"""``scrapy seed <spider> PATH [--crawl ID] [--append]``: start a cluster crawl by queueing its first requests.

Parses the input with the spider's own reader (bad lines are reported with their line numbers and skipped), then,
unless ``--append``, clears the previous crawl's queues, leases and dupefilter, stores the crawl id every worker
will write under, and queues the first request(s) of every entry in the shared frontier. Needs ``REDIS_URL``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.frontier.cluster import start_crawl


@dataclass
class Seeded:
    """What one seeding did: the crawl it named, the entries and requests it queued, the entries it skipped."""

    spider: str
    crawl: str
    entries: int
    queued: int
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.entries} entries queued ({self.queued} requests) in the {self.spider} frontier for crawl "
                f"{self.crawl} ({len(self.skipped)} malformed)")


def seed(settings, spidercls, path: str, crawl: str | None = None, append: bool = False) -> Seeded:
    """Read ``path`` with the spider's reader and queue its entries: what ``scrapy seed`` does, and each run of
    ``scrapy schedule``. Raises ``OSError``/``ValueError`` when the input cannot be read at all."""
    entries, errors = spidercls.read_input(path)
    name, queued, refused = asyncio.run(start_crawl(settings, spidercls, entries, crawl, append))
    return Seeded(spidercls.name, name, len(entries) - len(refused), queued, [str(e) for e in errors] + refused)


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
            done = seed(self.settings, spidercls, args[1], opts.crawl, opts.append)
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read {args[1]}: {exc}") from None
        for message in done.skipped:
            print(f"skipped: {message}")
        print(done.summary())
