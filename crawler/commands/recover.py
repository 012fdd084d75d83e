"""``scrapy recover <OUTPUT_URI> [--crawl ID] [--limit N] -o FILE [--lake-only]``: the last good copy of each dead
resource of a crawl's prospects report, from our own WARC files or a web archive (``crawler/reports/recover.py``)."""

from __future__ import annotations

from collections import Counter

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.reports.exports import write_csv
from crawler.reports.lake import LakeError, as_lake
from crawler.reports.recover import recover
from crawler.wayback import Archive


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "<OUTPUT_URI> [--crawl ID] [--limit N] -o FILE [--lake-only]"

    def short_desc(self) -> str:
        return "Recover the dead resources of a crawl: last good copy (our WARC, else a web archive), title and text"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", required=True, help="the CSV file to write (UTF-8 with BOM)")
        parser.add_argument("--crawl", help="crawl id (default: the latest crawl in the lake)")
        parser.add_argument("--limit", type=int, default=None, help="the first N prospects only")
        parser.add_argument("--lake-only", action="store_true",
                            help="do not ask the web archive (WAYBACK_CDX_URL), only our own WARC files")

    def run(self, args: list[str], opts) -> None:
        if len(args) != 1:
            raise UsageError("give the OUTPUT_URI of a crawl (the folder holding pages/, links/, checks/)")
        if opts.limit is not None and opts.limit < 1:
            raise UsageError(f"--limit {opts.limit}: expected a whole number >= 1", print_help=False)
        settings = self.settings
        try:
            archive = None if opts.lake_only else Archive.from_settings(settings)
        except ValueError as exc:
            raise UsageError(str(exc), print_help=False) from None
        try:
            crawl, table = recover(as_lake(args[0], settings), opts.crawl, opts.limit, archive=archive,
                                   paragraphs=settings.getint("RECOVER_PARAGRAPHS"),
                                   scan_max_bytes=settings.getint("RECOVER_SCAN_MAX_BYTES"),
                                   min_share=settings.getfloat("SITEWIDE_MIN_SHARE"))
        except LakeError as exc:
            raise UsageError(str(exc), print_help=False) from None
        try:
            write_csv(table, opts.output)
        except OSError as exc:
            raise UsageError(f"-o {opts.output}: {exc.strerror or exc}", print_help=False) from None
        sources = Counter(table.column("recovered_from").to_pylist())
        asked = f", {archive.requests} requests to the archive" if archive is not None else ""
        print(f"crawl {crawl}: {table.num_rows} dead resources: {sources.get('lake', 0)} copies from our lake, "
              f"{sources.get('archive', 0)} from the archive, {sources.get(None, 0)} without a copy{asked}; "
              f"wrote {opts.output}")
