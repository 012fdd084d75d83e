"""``linkprospector check URL``: crawl one site, check its links, list the broken ones; the exit code says how it
went, for CI jobs and a quick look (linkinator and lychee work the same way).

Exit 0 when nothing matched ``--fail-on`` (default ``broken``), 1 when something did or when the site gave no page
at all, 2 on bad usage. The rows also land in a lake (``--out``, else a temporary folder, removed afterwards) for
every other report and export. Output: one line per broken link (its page, the target, the reason, the anchor), then
a summary; ``--format csv`` or ``json`` print the rows instead (``unknown`` ones too, marked).
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
import tempfile

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.settings import SETTINGS_PRIORITIES

from crawler.reports.exports import TARGETS, lake_params
from crawler.reports.lake import LakeError, as_lake, connect
from crawler.seeds import parse_seed

CRAWL = "check"
PROBLEMS = TARGETS + """
SELECT verdict, reason, status AS http_status, target_url, source_url, anchor_text, region, external
FROM links WHERE verdict IN ('broken', 'unknown') ORDER BY verdict, source_url, ordinal"""


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = True
    quiet = {"LOG_LEVEL": "WARNING", "PROGRESS_INTERVAL": 0}  # over the project's settings, under -s

    def syntax(self) -> str:
        return "<URL> [--depth N] [--format table|csv|json] [--fail-on broken|unknown|none] [--out DIR]"

    def short_desc(self) -> str:
        return "Crawl one site, check its links, list the broken ones (exit 1 when some are)"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--depth", type=int, default=2, help="links followed from the start page (2)")
        parser.add_argument("--max-pages", type=int, default=500, help="pages of the site at most (500)")
        parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
        parser.add_argument("--fail-on", choices=("broken", "unknown", "none"), default="broken",
                            help="exit 1 when a link is broken (default), broken or unknown, or never")
        parser.add_argument("--out", help="keep the lake here (default: a temporary folder, removed)")

    def process_options(self, args: list[str], opts) -> None:
        super().process_options(args, opts)
        if len(args) != 1:
            raise UsageError("give one URL to check, e.g. https://example.com/", print_help=False)
        try:
            opts.url = parse_seed(args[0])
        except ValueError as exc:
            raise UsageError(f"URL {args[0]!r}: {exc}", print_help=False) from None
        if opts.depth < 0 or opts.max_pages < 1:
            raise UsageError("--depth must be >= 0 and --max-pages >= 1", print_help=False)
        for name, value in self.quiet.items():
            if (self.settings.getpriority(name) or 0) < SETTINGS_PRIORITIES["cmdline"]:
                self.settings.set(name, value, priority="cmdline")

    def run(self, args: list[str], opts) -> None:
        out = opts.out or tempfile.mkdtemp(prefix="linkprospector-check-")
        try:
            crawler = self.crawler_process.create_crawler("prospects")
            crawler.settings.set("OUTPUT_URI", out, priority="cmdline")
            crawler.settings.set("CRAWL_ID", CRAWL, priority="cmdline")
            crawler.settings.set("REDIS_URL", None, priority="cmdline")  # always on this machine
            self.crawler_process.crawl(crawler, seeds=opts.url, max_depth=opts.depth, max_pages_per_site=opts.max_pages)
            self.crawler_process.start()
            stats = crawler.stats.get_stats()
            if not stats.get("pages/crawled"):
                if stats.get("pages/blocked_address"):  # a dev or intranet site: say how to allow it
                    print(f"{opts.url}: not a public address; allow its network with -s ALLOWED_NETWORKS=... (e.g. "
                          "127.0.0.0/8 for this machine)", file=sys.stderr)
                else:
                    print(f"{opts.url}: no page fetched (unreachable, refused by robots.txt, or not HTML)", file=sys.stderr)
                self.exitcode = 1
                return
            lake = as_lake(out)
            try:
                rows = connect(lake).sql(PROBLEMS, params=lake_params(lake, CRAWL)).to_arrow_table().to_pylist()
            except LakeError:  # a page without links: nothing to list
                rows = []
            self.report(rows, stats, opts)
            failing = {"broken": {"broken"}, "unknown": {"broken", "unknown"}, "none": set()}[opts.fail_on]
            self.exitcode = 1 if any(r["verdict"] in failing for r in rows) else 0
        finally:
            if not opts.out:
                shutil.rmtree(out, ignore_errors=True)

    def report(self, rows: list[dict], stats: dict, opts) -> None:
        if opts.format == "json":
            print(json.dumps(rows, indent=1))
            return
        if opts.format == "csv":
            writer = csv.writer(sys.stdout)
            writer.writerow(list(rows[0]) if rows else ["verdict", "reason", "http_status", "target_url",
                                                         "source_url", "anchor_text", "region", "external"])
            for r in rows:
                writer.writerow(["" if v is None else v for v in r.values()])
            return
        for r in rows:
            status = r["http_status"] or "---"
            print(f"[{status}] {r['verdict'].upper():7} {r['target_url']}\n"
                  f"      on {r['source_url']} ({r['region'] or 'unknown'}) anchor {r['anchor_text']!r}: {r['reason']}")
        broken = sum(r["verdict"] == "broken" for r in rows)
        unknown = len(rows) - broken
        print(f"{stats.get('pages/crawled', 0)} pages, {stats.get('links/found', 0)} links, "
              f"{stats.get('checks/done', 0)} external targets checked: {broken} broken links, {unknown} unknown "
              f"(could not tell: check again)")
