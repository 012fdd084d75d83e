"""``scrapy backlinks-diff <OUTPUT_URI> [--from CRAWL_A --to CRAWL_B] [--csv FILE]``: what changed for each
backlink between two crawls (``crawler/reports/backlinks_diff.py``)."""

from __future__ import annotations

import pyarrow.compute as pc
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands import print_table, save_csv
from crawler.reports.backlinks_diff import CHANGES, backlinks_diff
from crawler.reports.lake import LakeError, as_lake


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "<OUTPUT_URI> [--from CRAWL_A --to CRAWL_B] [--csv FILE]"

    def short_desc(self) -> str:
        return "Compare two backlinks crawls: new, lost, restored, degraded, improved links"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--from", dest="from_crawl", help="the older crawl id (default: the second latest)")
        parser.add_argument("--to", dest="to_crawl", help="the newer crawl id (default: the latest)")
        parser.add_argument("--csv", help="also write every row to this CSV file")

    def run(self, args: list[str], opts) -> None:
        if len(args) != 1:
            raise UsageError("give the OUTPUT_URI of the backlinks crawls (the folder holding backlinks/)")
        try:
            from_crawl, to_crawl, table = backlinks_diff(as_lake(args[0], self.settings), opts.from_crawl, opts.to_crawl)
        except LakeError as exc:
            raise UsageError(str(exc)) from None
        # Counted and filtered in Arrow: a diff can have millions of rows (docs/performance.md).
        counts = {v["values"]: v["counts"] for v in pc.value_counts(table.column("change")).to_pylist()}
        print(f"backlinks {from_crawl} -> {to_crawl}: " + ", ".join(f"{counts.get(c, 0)} {c}" for c in CHANGES))
        changed = table.filter(pc.not_equal(table.column("change"), "unchanged"))
        if changed.num_rows:
            print_table(changed.slice(0, 25), ["change", "state_from", "state_to", "reason_to", "source_url", "target"])
        if opts.csv:
            save_csv(table, opts.csv)
