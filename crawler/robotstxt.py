"""Scrapy's RobotsTxtMiddleware, made to follow RFC 9309 where Scrapy 2.19 does not, and obeyed by every request.

- **Every waiter gets the parser.** Scrapy 2.19's middleware (``async def process_request``, scrapy/scrapy#6802)
  lets the requests to a host that arrive while its robots.txt is downloading await the same Deferred with
  ``maybe_deferred_to_future``. Under the asyncio reactor that is ``Deferred.asFuture``, whose callback returns
  ``None``: the first waiter gets the parser, every later one gets ``None``, which means "no robots.txt, allow
  everything". Here each waiter gets its own Deferred, chained to the shared one without consuming its result.
- **A huge robots.txt still counts** (RFC 9309 §2.5: parse at least the first 500 KiB). Scrapy cancels a download
  past ``DOWNLOAD_MAXSIZE`` and then allows everything; here the download of a robots.txt stops after
  ``ROBOTSTXT_MAX_SIZE`` bytes (``StopDownload(fail=False)`` keeps what arrived) and the lines received are parsed.
- **Unreachable means disallow** (RFC 9309 §2.3.1.4): a 5xx or 429 answer, or a server that does not answer in
  time (timeout, connection reset), makes the host disallowed for ``ROBOTSTXT_UNREACHABLE_RETRY`` seconds, after
  which its robots.txt is asked again; Scrapy allowed everything. A 4xx other than 429 still means "no rules"
  (§2.3.1.3), and so does a host with no server at all (no DNS name, connection refused, broken TLS): its pages fail
  the same way and keep their true reason (an expired domain stays ``dns_nxdomain``).

When a robots.txt cannot be read, ``crawler.politeness.robots_unavailable`` is sent, so that the cluster frontier
stops holding the host to one request at a time. Enabled in place of Scrapy's by ``DOWNLOADER_MIDDLEWARES`` in
``crawler/settings.py``, for every spider.
"""

from __future__ import annotations

import logging
import time

from scrapy import signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

from crawler.politeness import robots_unavailable

logger = logging.getLogger(__name__)


# Failures that mean no server answers at all (no name, no listener, no route from here, no TLS): nothing to be
# polite to.
NO_SERVER = frozenset(("dns_nxdomain", "dns_error", "connection_refused", "no_route", "tls_error"))


class Unreachable:
    """The rules of a host whose robots.txt could not be read: nothing is allowed until ``until``."""

    def __init__(self, until: float, why: str):
        self.until = until
        self.why = why

    def allowed(self, url, user_agent) -> bool:
        return False

    def crawl_delay(self, user_agent):
        return None


def is_robots_request(request) -> bool:
    return bool(request.meta.get("dont_obey_robotstxt")) and urlparse_cached(request).path == "/robots.txt"


def truncate_rules(body: bytes, limit: int) -> bytes:
    """The first ``limit`` bytes of a robots.txt, cut back to the last whole line."""
    if len(body) <= limit:
        return body
    cut = body.rfind(b"\n", 0, limit)
    return body[:cut + 1] if cut >= 0 else b""


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    def __init__(self, crawler):
        super().__init__(crawler)
        self.max_size = crawler.settings.getint("ROBOTSTXT_MAX_SIZE")
        self.retry_after = crawler.settings.getfloat("ROBOTSTXT_UNREACHABLE_RETRY")
        crawler.signals.connect(self._bytes_received, signal=signals.bytes_received)

    def _bytes_received(self, data: bytes, request, spider=None) -> None:
        if not is_robots_request(request):
            return
        received = request.meta.get("robots_bytes", 0) + len(data)
        request.meta["robots_bytes"] = received
        if received > self.max_size:
            raise StopDownload(fail=False)  # the response keeps what arrived: its first lines are parsed

    async def robot_parser(self, request):
        netloc = urlparse_cached(request).netloc
        pending = self._parsers.get(netloc)
        if isinstance(pending, Unreachable) and time.monotonic() >= pending.until:
            del self._parsers[netloc]  # time to ask again
            pending = None
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)
        mine: Deferred = Deferred()

        def forward(parser):
            mine.callback(parser)
            return parser  # the shared Deferred keeps its result for the next waiter

        pending.addCallback(forward)
        return await maybe_deferred_to_future(mine)

    def process_request_2(self, rp, request) -> None:
        if isinstance(rp, Unreachable):
            self._stats.inc_value("robotstxt/forbidden_unreachable")
            raise IgnoreRequest(f"robots.txt unreachable ({rp.why}): disallowed for now (RFC 9309 §2.3.1.4)")
        super().process_request_2(rp, request)

    async def _parse_robots(self, response, netloc: str, request) -> None:
        self._stats.inc_value("robotstxt/response_count")
        self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        if response.status >= 500 or response.status == 429:
            self._unreachable(netloc, f"HTTP {response.status}")
            return
        body = response.body
        if len(body) > self.max_size or "download_stopped" in response.flags:
            body = truncate_rules(body, self.max_size)
            self._stats.inc_value("robotstxt/truncated")
        rp = build_from_crawler(self._parserimpl, self.crawler, body if response.status < 400 else b"")
        await self.crawler.signals.send_catch_log_async(signal=signals.robots_parsed, robotparser=rp, request=request)
        self._resolve(netloc, rp)

    def _robots_error(self, exc, netloc: str) -> None:
        from crawler.checks.verdict import failure_reason

        _, reason, _ = failure_reason(exc, netloc.rsplit(":", 1)[0])
        if isinstance(exc, IgnoreRequest) or reason in NO_SERVER:
            # Refused before any fetch, or there is no server to spare: the site's own requests fail the same way
            # and get the true reason (an expired domain is a lost backlink, not a robots.txt refusal).
            super()._robots_error(exc, netloc)
            self.crawler.signals.send_catch_log(signal=robots_unavailable, netloc=netloc)
        else:
            self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
            self._unreachable(netloc, reason)

    def _unreachable(self, netloc: str, why: str) -> None:
        logger.warning("robots.txt of %s unreachable (%s): the host is disallowed for %.0f s (RFC 9309 §2.3.1.4)",
                       netloc, why, self.retry_after)
        self._stats.inc_value("robotstxt/unreachable")
        self._resolve(netloc, Unreachable(time.monotonic() + self.retry_after, why))
        self.crawler.signals.send_catch_log(signal=robots_unavailable, netloc=netloc)

    def _resolve(self, netloc: str, parser) -> None:
        waiting = self._parsers.get(netloc)
        self._parsers[netloc] = parser
        if isinstance(waiting, Deferred):
            waiting.callback(parser)
