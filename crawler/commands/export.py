"""``scrapy export <OUTPUT_URI> <KIND> -o FILE [--crawl ID]``: one crawl's links in the formats SEO tools use
(``crawler/reports/exports.py``): broken-links, screaming-frog, linkinator."""

from __future__ import annotations

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.reports.exports import EXPORTS, write_export
from crawler.reports.lake import LakeError, as_lake


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return f"<OUTPUT_URI> <{'|'.join(EXPORTS)}> -o FILE [--crawl ID]"

    def short_desc(self) -> str:
        return "Export a crawl's links: broken links with context, Screaming Frog All Outlinks, linkinator CSV"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", required=True, help="the CSV file to write (UTF-8 with BOM)")
        parser.add_argument("--crawl", help="crawl id (default: the latest crawl in the lake)")

    def run(self, args: list[str], opts) -> None:
        if len(args) != 2 or args[1] not in EXPORTS:
            raise UsageError(f"give the lake and one of: {', '.join(EXPORTS)}")
        try:
            crawl, rows = write_export(args[1], as_lake(args[0], self.settings), opts.output, opts.crawl)
        except LakeError as exc:
            raise UsageError(str(exc)) from None
        except OSError as exc:
            raise UsageError(f"cannot write {opts.output}: {exc.strerror}") from None
        print(f"crawl {crawl}: wrote {rows} rows to {opts.output}")
