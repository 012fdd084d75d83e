"""``scrapy compact <OUTPUT_URI> [--crawl ID] [--table T]``: rewrite a finished crawl's parts as few large sorted
files, each key once (``crawler/compact.py``). Run it at the end of a scheduled crawl."""

from __future__ import annotations

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.compact import compact
from crawler.progress import TerminalBar
from crawler.reports.lake import LakeError, as_lake, crawls
from schemas import TABLES


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "<OUTPUT_URI> [--crawl ID] [--table TABLE]"

    def short_desc(self) -> str:
        return "Rewrite a crawl's many small part files as a few large sorted ones, each key once"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--crawl", help="crawl id (default: each table's latest crawl)")
        parser.add_argument("--table", action="append", choices=sorted(TABLES),
                            help="only this table (repeatable; default: every table the lake has)")

    def run(self, args: list[str], opts) -> None:
        if len(args) != 1:
            raise UsageError("give the OUTPUT_URI of the lake (the folder or s3://bucket/prefix holding pages/ ...)")
        lake = as_lake(args[0], self.settings)
        todo = []
        for table in opts.table or sorted(TABLES):
            known = crawls(lake, table)
            if opts.crawl and opts.crawl in known:
                todo.append((table, opts.crawl))
            elif not opts.crawl and known:
                todo.append((table, known[-1]))
        if not todo:
            raise UsageError(f"nothing to compact under {lake.uri}" + (f" for crawl {opts.crawl}" if opts.crawl else ""))
        s = self.settings
        bar = TerminalBar(len(todo), "compacting")
        for n, (table, crawl) in enumerate(todo):
            bar.update(n, table)
            try:
                done = compact(lake, table, crawl, rows_per_file=s.getint("PARQUET_ROWS_PER_FILE"),
                               row_group_size=s.getint("PARQUET_ROW_GROUP_SIZE"), compression=s.get("PARQUET_COMPRESSION"))
            except LakeError as exc:
                raise UsageError(str(exc)) from None
            twice = done.rows_before - done.rows_after
            print(f"{table} crawl={crawl}: {done.files_before} files -> {done.files_after}, {done.rows_after} rows"
                  + (f" ({twice} written twice, removed)" if twice else "")
                  + ("" if done.atomic else " (object store: old and new files were both listed for a moment)"))
        bar.close(len(todo))
