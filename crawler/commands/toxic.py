"""``scrapy toxic <OUTPUT_URI> [--crawl ID] [--csv FILE]``: the toxic-link audit of a backlinks crawl, every risk
reason of every linking page with its evidence (``crawler/reports/toxic.py``)."""

from __future__ import annotations

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands import print_table, save_csv
from crawler.reports.lake import LakeError, as_lake
from crawler.reports.toxic import LakeThresholds, reason_counts, toxic_report


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "<OUTPUT_URI> [--crawl ID] [--csv FILE]"

    def short_desc(self) -> str:
        return "Toxic-link audit of a backlinks crawl: risk reasons with their evidence, per linking page"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--crawl", help="the backlinks crawl id (default: the latest)")
        parser.add_argument("--csv", help="also write every row to this CSV file")

    def run(self, args: list[str], opts) -> None:
        if len(args) != 1:
            raise UsageError("give the OUTPUT_URI of the backlinks crawl (the folder holding backlinks/)")
        try:
            crawl, table = toxic_report(as_lake(args[0], self.settings), opts.crawl,
                                        LakeThresholds.from_settings(self.settings))
        except LakeError as exc:
            raise UsageError(str(exc)) from None
        counts = reason_counts(table)
        print(f"backlinks crawl {crawl}: " + (", ".join(f"{n} {r}" for r, n in counts.items()) or "no risk reason found")
              + " (linking pages per reason)")
        if table.num_rows:
            print_table(table.slice(0, 25), ["reason", "source_url", "evidence"])
        if opts.csv:
            save_csv(table, opts.csv)
