"""``scrapy prospects <OUTPUT_URI> [--crawl ID] [--csv FILE] [--limit N] [--min-broken-crawls N]``: the broken-link prospects of a crawl."""

from __future__ import annotations

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands import print_table, save_csv
from crawler.reports.lake import LakeError, as_lake
from crawler.reports.prospects import prospects


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "<OUTPUT_URI> [--crawl ID] [--csv FILE] [--limit N] [--min-broken-crawls N]"

    def short_desc(self) -> str:
        return "Rank the broken outbound links of a crawl by referring domains"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--crawl", help="crawl id (default: the latest crawl in the lake)")
        parser.add_argument("--csv", help="also write the report to this CSV file (all of it, or the first --limit)")
        parser.add_argument("--limit", type=int, default=None, help="at most N prospects")
        parser.add_argument("--min-broken-crawls", type=int, default=1, metavar="N",
                            help="only targets broken in at least N consecutive crawls of the lake (default 1)")

    def run(self, args: list[str], opts) -> None:
        if len(args) != 1:
            raise UsageError("give the OUTPUT_URI of a crawl (the folder holding pages/, links/, checks/)")
        if opts.min_broken_crawls < 1:
            raise UsageError(f"--min-broken-crawls {opts.min_broken_crawls}: expected a whole number >= 1")
        try:
            crawl, table = prospects(as_lake(args[0], self.settings), opts.crawl, opts.limit,
                                     self.settings.getfloat("SITEWIDE_MIN_SHARE"), opts.min_broken_crawls)
        except LakeError as exc:
            raise UsageError(str(exc)) from None
        cut = f" (the first {opts.limit})" if opts.limit and table.num_rows == opts.limit else ""
        persistent = f", broken in {opts.min_broken_crawls}+ crawls in a row" if opts.min_broken_crawls > 1 else ""
        print(f"crawl {crawl}: {table.num_rows} broken targets with referring pages{persistent}{cut}")
        if table.num_rows:
            print_table(table.slice(0, 25), ["referring_domains", "content_links", "boilerplate_links", "broken_crawls",
                                             "reason", "url"])
        if opts.csv:
            save_csv(table, opts.csv)
