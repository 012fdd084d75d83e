"""``scrapy seed <spider> PATH [--crawl ID] [--append]``: start a cluster crawl by filling the shared Redis input.

Parses the input with the spider's own reader (bad lines are reported with their line numbers and skipped), then,
unless ``--append``, clears the previous crawl's queue and dupefilter and stores the crawl id that every worker
will write under. Needs ``REDIS_URL``.
"""

from __future__ import annotations

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.frontier.cluster import SharedInput


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "<spider> <PATH> [--crawl ID] [--append]"

    def short_desc(self) -> str:
        return "Push seeds (or other spider input) to the shared Redis frontier for cluster workers"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--crawl", help="crawl id to write under (default: the current UTC time)")
        parser.add_argument("--append", action="store_true", help="add to the running crawl instead of starting a new one")

    def run(self, args: list[str], opts) -> None:
        if len(args) != 2:
            raise UsageError("give a spider name and an input path")
        redis_url = self.settings.get("REDIS_URL")
        if not redis_url:
            raise UsageError("REDIS_URL is not set (environment or -s REDIS_URL=redis://host:6379/0)")
        spidercls = self.crawler_process.spider_loader.load(args[0])
        try:
            entries, errors = spidercls.read_input(args[1])
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read {args[1]}: {exc}") from None
        for error in errors:
            print(f"skipped: {error}")
        crawl = SharedInput(redis_url, spidercls.name).start_crawl(entries, opts.crawl, opts.append)
        print(f"{len(entries)} entries pushed to {spidercls.name}:input for crawl {crawl} ({len(errors)} malformed)")
