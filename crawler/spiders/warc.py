"""Spider ``warc``: the same pages and links rows as a live crawl, read from WARC/ARC files instead of the web.

``scrapy crawl warc -a paths=PATH_OR_GLOB[,...]`` reads WARC and ARC files (gzip or not) with no network and emits
``pages`` and ``links`` rows (with placement) through the same code as the live crawl (``extract/record.py``), each
page row pointing back at its record (``warc_filename``, ``warc_record_offset``, ``warc_record_length``). With
``-a check=1`` the external targets are then checked live, exactly like the prospects spider: mine Common Crawl for
prospects without crawling. Revisits, non-HTML, truncated records and undecodable bodies are counted in the stats
(``warc/...``), never fatal.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict

from crawler.extract.record import Fetched, build_page
from crawler.progress import TerminalBar
from crawler.spiders.prospects import ProspectsSpider
from crawler.urls import normalize_url, site_of
from crawler.warc.reader import ReadStats, expand_paths, iter_warc_responses

logger = logging.getLogger(__name__)


class WarcSpider(ProspectsSpider):
    name = "warc"
    input_arg = "paths"
    input_is_files = True
    output_tables = ("pages", "links", "checks", "contacts")
    request_kinds = {"check": "_check_from"}
    custom_settings = {"ROBOTSTXT_OBEY": False}  # nothing is crawled: only link checks, which ignore robots.txt

    arguments = {"paths": "WARC/ARC files: paths or globs, comma-separated (.warc, .warc.gz, .arc.gz)",
                 "check": "1 to check the external targets live as well (default 0: no network)"}

    @classmethod
    def fetched_nothing(cls, stats: dict) -> bool:
        return not stats.get("pages/crawled")

    def __init__(self, paths: str | None = None, check: str | int = 0, **kwargs):
        super().__init__(**kwargs)
        self.paths = paths
        self.check = str(check).lower() in ("1", "true", "yes")

    @classmethod
    def read_input(cls, spec: str):
        """The archive files (a missing path or an empty glob is an error, not a silent empty ingest)."""
        return [{"path": path} for path in expand_paths(spec)], []

    async def archive_paths(self):
        """Local files, or in cluster mode (``scrapy seed warc PATHS``) files popped from Redis one at a time, so
        the workers of a cluster share the ingest file by file (the paths must be readable on every worker). A worker
        killed in the middle of a file loses that file's uncommitted rows: ingest it again."""
        if not self.cluster:
            for entry in self.entries:
                yield entry["path"]
            return
        from crawler.frontier.cluster import SharedFiles, frontier_for

        frontier = frontier_for(self.crawler.settings, self.name)
        try:
            files = SharedFiles(frontier)
            while (entry := await files.pop()) is not None:
                if isinstance(entry.get("path"), str):
                    yield entry["path"]
        finally:
            await frontier.server.aclose()

    async def start(self):
        read = ReadStats()
        stats = self.crawler.stats
        total = len(self.entries) if not self.cluster else 0
        bar = TerminalBar(total, "ingest")
        checked: set[str] = set()
        n = -1
        async for path in self.archive_paths():
            n += 1
            for i, archived in enumerate(iter_warc_responses(path, stats=read)):
                url = normalize_url(archived.url)
                result = build_page(
                    Fetched(
                        url=url,
                        status=archived.status,
                        headers=_lower(archived.headers),
                        body=archived.body,
                        fetched_at=archived.fetch_time,
                        site=site_of(url),
                        extra={
                            "warc_filename": archived.warc_filename,
                            "warc_record_offset": archived.warc_record_offset,
                            "warc_record_length": archived.warc_record_length,
                        },
                    ),
                    max_links=self.settings.getint("MAX_LINKS_PER_PAGE"),
                )
                stats.inc_value("pages/crawled")
                stats.inc_value("links/found", len(result.item.links))
                if result.unparseable:
                    stats.inc_value("pages/unparseable")
                yield result.item
                if self.check:
                    for row in result.item.links:
                        if row.external and row.target_url not in checked:
                            checked.add(row.target_url)
                            yield self.check_request(row.target_url, depth=0)
                if i % 50 == 49:
                    await asyncio.sleep(0)  # let the engine write items and run checks between records
                    bar.update(n, f"{stats.get_value('pages/crawled', 0)} pages")
            bar.update(n + 1, f"{stats.get_value('pages/crawled', 0)} pages")
        files = n + 1
        bar.close(files, f"{stats.get_value('pages/crawled', 0)} pages")
        for name, value in asdict(read).items():
            stats.set_value(f"warc/{name}", value)
        logger.info("read %d files: %s", files, asdict(read))


def _lower(pairs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out
