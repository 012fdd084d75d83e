"""``scrapy crawl``, refusing bad input before it starts and saying when a crawl did nothing.

Scrapy's own command turns a bad argument into a traceback of ~40 lines, and exits 0 for a crawl that fetched
nothing. Here each spider checks its arguments first (``check_arguments``: a missing or empty seed file, a
``max_depth`` that is not a number...) and a bad one is one line, exit 2; a run that did nothing at all on one
machine says so and exits 1. ``scrapy crawl -h`` lists each spider's arguments.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from crawler.spiders.base import InputError


class Command(ScrapyCrawl):
    def add_options(self, parser) -> None:
        super().add_options(parser)
        from scrapy.commands import ScrapyHelpFormatter

        class KeepLines(argparse.RawDescriptionHelpFormatter, ScrapyHelpFormatter):
            """The spider arguments stay one per line."""

        parser.formatter_class = KeepLines

    def long_desc(self) -> str:
        lines = ["Run a spider. Its arguments (-a NAME=VALUE):"]
        try:
            from scrapy.spiderloader import SpiderLoader
            from scrapy.utils.project import get_project_settings

            loader = SpiderLoader.from_settings(get_project_settings())
            for name in loader.list():
                for arg, text in getattr(loader.load(name), "arguments", {}).items():
                    lines.append(f"  {name}: -a {arg}=...  {text}")
        except Exception:  # help must never fail
            pass
        return "\n".join(lines)

    def process_options(self, args: list[str], opts) -> None:
        """Arguments are checked here, before the crawler process (and its log) starts."""
        super().process_options(args, opts)
        from scrapy.spiderloader import get_spider_loader

        loader = get_spider_loader(self.settings)
        if len(args) != 1:
            raise UsageError("give one spider name: " + ", ".join(loader.list()), print_help=False)
        try:
            spidercls = loader.load(args[0])
        except KeyError:
            raise UsageError(f"no spider {args[0]!r}; spiders: {', '.join(loader.list())}", print_help=False) from None
        check = getattr(spidercls, "check_arguments", None)
        if check is not None:
            try:
                check(opts.spargs, bool(self.settings.get("REDIS_URL")))
            except InputError as exc:
                raise UsageError(str(exc), print_help=False) from None

    def run(self, args: list[str], opts) -> None:
        spidercls = self.crawler_process.spider_loader.load(args[0])
        cluster = bool(self.settings.get("REDIS_URL"))
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        stats = crawler.stats.get_stats() if crawler.stats else {}
        nothing = getattr(spidercls, "fetched_nothing", None)
        if not cluster and nothing is not None and nothing(stats) and stats.get("finish_reason") == "finished":
            print(f"the {args[0]} crawl fetched nothing: check that the seeds answer (see the log above)",
                  file=sys.stderr)
            self.exitcode = 1
