"""Scrapy extension that archives every fetched HTTP response, with its request, into rolling WARC files.

It listens to ``response_downloaded``, which the downloader sends for every response it receives (crawl requests,
``engine.download_async`` calls, redirects and retried errors alike, which never reach ``response_received``) and
before any downloader middleware or spider callback runs. The response there is still as the server sent it, so
the body is decoded here before it is stored (see ``RollingWarcWriter.write_exchange``): storing brotli/zstd bodies
would make the files unreadable to warcio 1.8.1 and most WARC tools.

Each record's location goes into ``request.meta["warc_location"]``; the final response shares its request's meta, so
the callback reads ``response.meta["warc_location"]`` (for a redirect chain: the last hop's record).

Cost: the write is synchronous work on the event loop: one ``write()`` per exchange, no fsync (a file is fsynced
once, when it is closed). Measured on a 27 KB HTML page: ~0.6 ms per exchange, nearly all of it warcio's gzip at
level 9, plus ~0.1 ms to gunzip a compressed body (Scrapy's HttpCompressionMiddleware decodes it once more).
"""

from __future__ import annotations

import logging
import socket
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from http import HTTPStatus
from pathlib import Path

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response

from crawler.lake import LocalLake, open_lake
from crawler.runinfo import crawl_id, worker_id
from crawler.warc.reader import BodyTooLarge, UndecodableBody, decode_content
from crawler.warc.writer import RollingWarcWriter

logger = logging.getLogger(__name__)

# Scrapy's DOWNLOAD_MAXSIZE = 0 means "no limit"; decoding still stops at Scrapy's default (1 GiB) then.
_DECODE_LIMIT = 1024 * 1024 * 1024

# Credentials for our own proxy, added by HttpProxyMiddleware: never part of the exchange with the site.
_PRIVATE_REQUEST_HEADERS = {"proxy-authorization"}


class WarcArchive:
    """Enabled by ``WARC_ENABLED``; writes into ``<OUTPUT_URI>/warc/crawl=<crawl id>/``, with the crawl and worker
    ids the Parquet tables use (``crawler.runinfo``), so pages rows and WARC files share one partition. On object
    storage (``crawler/lake.py``) each file is written in a local spool folder and uploaded whole once finished."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.settings = crawler.settings
        self.lake = open_lake(self.settings.get("OUTPUT_URI"), self.settings)
        # On object storage a file is written in a local spool folder and uploaded whole once finished.
        self.spool = None if isinstance(self.lake, LocalLake) else Path(tempfile.mkdtemp(prefix="linkprospector-warc-"))
        self.uploads = ThreadPoolExecutor(1, thread_name_prefix="warc-upload") if self.spool else None
        self.archive_checks = self.settings.getbool("WARC_ARCHIVE_CHECKS")
        self.max_size = self.settings.getint("DOWNLOAD_MAXSIZE")
        self.writers: dict[str, tuple[RollingWarcWriter, str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcArchive:
        if not crawler.settings.getbool("WARC_ENABLED"):
            raise NotConfigured  # off is the default: nothing to warn about
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        """The crawl id is only known once the spider opens (cluster mode shares it through Redis)."""
        self.crawl = crawl_id(self.crawler)
        self.worker = worker_id(self.settings)

    def _writer(self, subset: str) -> tuple[RollingWarcWriter, str]:
        """The writer of one subset, opened on first use, and its directory relative to OUTPUT_URI.

        Like Common Crawl, pages go to ``warc/``, link-check answers to ``crawldiagnostics/`` and robots.txt to
        ``robotstxt/`` (each ``<subset>/crawl=<id>/``): ingesting ``warc/`` then yields exactly the pages."""
        if subset not in self.writers:
            relative_dir = f"{subset}/crawl={self.crawl}"
            on_complete = None
            if self.spool is not None:
                on_complete = partial(self._upload, relative_dir)
            writer = RollingWarcWriter(
                (self.spool or self.lake.root) / relative_dir,
                on_complete=on_complete,
                prefix=f"linkprospector-{self.crawl}-{self.worker}",
                max_size=self.settings.getint("WARC_MAX_SIZE"),
                warcinfo={
                    "isPartOf": f"{self.crawl}/{subset}",
                    "hostname": socket.gethostname(),
                    "worker": self.worker,
                    "http-header-user-agent": self.settings.get("USER_AGENT"),
                    "robots": "obey" if self.settings.getbool("ROBOTSTXT_OBEY") else "ignore",
                    "archive-link-checks": self.archive_checks,
                },
            )
            self.writers[subset] = (writer, relative_dir)
        return self.writers[subset]

    def response_downloaded(self, response: Response, request: Request) -> None:
        if not response.url.startswith(("http://", "https://")):
            return  # data:, file:, ftp: are not HTTP exchanges
        if request.meta.get("link_check") and not self.archive_checks:
            return
        body = response.body
        max_size = request.meta.get("download_maxsize", self.max_size) or _DECODE_LIMIT
        try:
            body = decode_content(body, _joined(response.headers, b"Content-Encoding"), max_size)
        except (UndecodableBody, BodyTooLarge):
            # Kept as received: losing the capture would be worse; the original coding stays visible in the
            # record's X-Crawler-Content-Encoding header.
            self.crawler.stats.inc_value("warc/undecodable")
        if request.meta.get("link_check") or response.status == 304:
            subset = "crawldiagnostics"  # a 304 holds no page: ingesting warc/ still yields exactly the pages
        elif request.meta.get("dont_obey_robotstxt") and response.url.split("?", 1)[0].endswith("/robots.txt"):
            subset = "robotstxt"
        else:
            subset = "warc"
        writer, relative_dir = self._writer(subset)
        location = writer.write_exchange(
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
            fetch_time=datetime.now(UTC),
        )
        request.meta["warc_location"] = {
            "warc_filename": f"{relative_dir}/{location.filename}",
            "warc_record_offset": location.offset,
            "warc_record_length": location.length,
        }
        self.crawler.stats.inc_value("warc/responses")

    def _upload(self, relative_dir: str, path: Path) -> None:
        """A finished file goes to object storage in the background (the crawl does not wait for it)."""
        self.uploads.submit(self._upload_now, f"{relative_dir}/{path.name}", path)

    def _upload_now(self, rel: str, path: Path) -> None:
        try:
            self.lake.upload(path, rel)
        except Exception as exc:  # kept locally: the data is not lost, and the log says where it is
            logger.error("could not upload %s to %s (%s): the file stays at %s", path.name, self.lake.location(rel),
                         exc, path)
            self.crawler.stats.inc_value("warc/upload_errors")
            return
        path.unlink()
        self.crawler.stats.inc_value("warc/uploaded")

    def spider_closed(self) -> None:
        for writer, _ in self.writers.values():
            writer.close()
        if self.uploads is not None:
            self.uploads.shutdown(wait=True)  # every finished file is in the lake before the worker exits
            LocalLake(self.spool).remove_folder("")  # what stays is what failed to upload (logged)


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
