"""``scrapy export <OUTPUT_URI> <KIND> -o FILE [--crawl ID]``: one crawl in the formats SEO tools use: the links as
CSV (``crawler/reports/exports.py``: broken-links, screaming-frog, linkinator) or the whole crawl summed up
(``crawler/reports/summary.py``: json, html)."""

from __future__ import annotations

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.reports.exports import EXPORTS, write_export
from crawler.reports.lake import LakeError, as_lake
from crawler.reports.summary import crawl_summary, write_html, write_json

KINDS = (*EXPORTS, "json", "html")


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return f"<OUTPUT_URI> <{'|'.join(KINDS)}> -o FILE [--crawl ID]"

    def short_desc(self) -> str:
        return "Export a crawl: broken links with context, Screaming Frog All Outlinks, linkinator CSV, JSON, HTML"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", required=True, help="the file to write (CSVs: UTF-8 with BOM)")
        parser.add_argument("--crawl", help="crawl id (default: the latest crawl in the lake)")

    def run(self, args: list[str], opts) -> None:
        if len(args) != 2 or args[1] not in KINDS:
            raise UsageError(f"give the lake and one of: {', '.join(KINDS)}")
        lake = as_lake(args[0], self.settings)
        try:
            if args[1] in EXPORTS:
                crawl, rows = write_export(args[1], lake, opts.output, opts.crawl)
            else:
                summary = crawl_summary(lake, opts.crawl)
                (write_json if args[1] == "json" else write_html)(summary, opts.output)
                crawl, rows = summary["crawl"], len(summary["prospects"])
        except LakeError as exc:
            raise UsageError(str(exc)) from None
        except OSError as exc:
            raise UsageError(f"cannot write {opts.output}: {exc.strerror}") from None
        print(f"crawl {crawl}: wrote {opts.output}" + (f" ({rows} rows)" if args[1] in EXPORTS else ""))
