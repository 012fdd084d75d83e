"""Scrapy extension that archives every fetched HTTP response, with its request, into rolling WARC files.

It listens to ``response_downloaded``, which the downloader sends for every response it receives (crawl requests,
``engine.download_async`` calls, redirects and retried errors alike, which never reach ``response_received``) and
before any downloader middleware or spider callback runs. The response there is still as the server sent it, so
the body is decoded here before it is stored (see ``RollingWarcWriter.write_exchange``): storing brotli/zstd bodies
would make the files unreadable to warcio 1.8.1 and most WARC tools.

Each record's location goes into ``request.meta["warc_location"]``; the final response shares its request's meta, so
the callback reads ``response.meta["warc_location"]`` (for a redirect chain: the last hop's record).

Cost: the write is synchronous file I/O on the event loop, one ``write()`` per exchange and no fsync (files are
fsynced once, when they are closed); the main cost is warcio's gzip at level 9.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timezone
from http import HTTPStatus
from pathlib import Path

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response

from crawler.warc.reader import BodyTooLarge, UndecodableBody, decode_content
from crawler.warc.writer import RollingWarcWriter

# Scrapy's DOWNLOAD_MAXSIZE = 0 means "no limit"; decoding still stops at Scrapy's default (1 GiB) then.
_DECODE_LIMIT = 1024 * 1024 * 1024

# Credentials for our own proxy, added by HttpProxyMiddleware: never part of the exchange with the site.
_PRIVATE_REQUEST_HEADERS = {"proxy-authorization"}


class WarcArchive:
    """Enabled by ``WARC_ENABLED``; writes into ``<OUTPUT_URI>/warc/crawl=<CRAWL_ID>/``."""

    def __init__(self, crawler: Crawler, writer: RollingWarcWriter, output_root: Path, archive_checks: bool) -> None:
        self.crawler = crawler
        self.writer = writer
        self.relative_dir = writer.directory.relative_to(output_root).as_posix()
        self.archive_checks = archive_checks
        self.max_body = crawler.settings.getint("DOWNLOAD_MAXSIZE")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcArchive:
        settings = crawler.settings
        if not settings.getbool("WARC_ENABLED"):
            raise NotConfigured("WARC_ENABLED is off")
        crawl_id = settings.get("CRAWL_ID")
        if not crawl_id:
            raise ValueError("WARC_ENABLED needs a CRAWL_ID setting: WARC files are partitioned by crawl")
        output_uri = settings.get("OUTPUT_URI", "./data")
        if "://" in output_uri:
            raise ValueError(f"OUTPUT_URI must be a local directory for WARC output, got {output_uri!r}")
        worker = settings.get("WORKER_ID") or f"{socket.gethostname()}-{os.getpid()}"
        output_root = Path(output_uri)
        writer = RollingWarcWriter(
            output_root / "warc" / f"crawl={crawl_id}",
            prefix=f"linkprospector-{crawl_id}-{worker}",
            max_size=settings.getint("WARC_MAX_SIZE", 1_000_000_000),
            warcinfo={
                "isPartOf": crawl_id,
                "hostname": socket.gethostname(),
                "worker": worker,
                "http-header-user-agent": settings.get("USER_AGENT"),
                "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
                "archive-link-checks": settings.getbool("WARC_ARCHIVE_CHECKS", True),
            },
        )
        extension = cls(crawler, writer, output_root, settings.getbool("WARC_ARCHIVE_CHECKS", True))
        crawler.signals.connect(extension.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        if not response.url.startswith(("http://", "https://")):
            return  # data:, file:, ftp: are not HTTP exchanges
        if request.meta.get("link_check") and not self.archive_checks:
            return
        body = response.body
        max_size = request.meta.get("download_maxsize", self.max_body) or _DECODE_LIMIT
        try:
            body = decode_content(body, _joined(response.headers, b"Content-Encoding"), max_size)
        except (UndecodableBody, BodyTooLarge):
            # Kept as received: losing the capture would be worse; the original coding stays visible in the
            # record's X-Crawler-Content-Encoding header.
            self.crawler.stats.inc_value("warc/undecodable")
        location = self.writer.write_exchange(
            response.url,
            request_method=request.method,
            request_headers=[pair for pair in _pairs(request.headers)
                             if pair[0].lower() not in _PRIVATE_REQUEST_HEADERS],
            request_body=request.body,
            status=response.status,
            reason=_reason(response.status),
            response_headers=_pairs(response.headers),
            body=body,
            ip_address=str(response.ip_address) if response.ip_address else None,
            fetch_time=datetime.now(timezone.utc),
        )
        request.meta["warc_location"] = {
            "warc_filename": f"{self.relative_dir}/{location.filename}",
            "warc_record_offset": location.offset,
            "warc_record_length": location.length,
        }
        self.crawler.stats.inc_value("warc/responses")

    def spider_closed(self, spider: Spider) -> None:
        self.writer.close()


def _pairs(headers: Headers) -> list[tuple[str, str]]:
    """Scrapy headers as (name, value) pairs, repeated headers (Set-Cookie) kept; latin-1 maps bytes 1:1."""
    return [(name.decode("latin-1"), value.decode("latin-1"))
            for name, values in headers.items() for value in values]


def _joined(headers: Headers, name: bytes) -> str | None:
    values = headers.getlist(name)
    return b", ".join(values).decode("latin-1") if values else None


def _reason(status: int) -> str:
    """Scrapy keeps no reason phrase; the standard one is what almost every server sends."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
