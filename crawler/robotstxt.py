"""Scrapy's RobotsTxtMiddleware, with robots.txt obeyed by every request that waits for it.

Scrapy 2.19's middleware (``async def process_request``, scrapy/scrapy#6802) lets the requests to a host that
arrive while its robots.txt is downloading await the same Deferred with ``maybe_deferred_to_future``. Under the
asyncio reactor that is ``Deferred.asFuture``, whose callback returns ``None``: the first waiter gets the parser,
every later one gets ``None``, which means "no robots.txt, allow everything". A crawl that starts with many pages
of one host (a backlinks input, a cluster worker picking up a shared queue) then fetches disallowed pages.
Here each waiter gets its own Deferred, chained to the shared one without consuming its result.

When a robots.txt cannot be fetched, ``crawler.politeness.robots_unavailable`` is sent, so that the cluster frontier
stops holding the host to one request at a time.

Enabled in place of Scrapy's by ``DOWNLOADER_MIDDLEWARES`` in ``crawler/settings.py``, for every spider.
"""

from __future__ import annotations

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler.politeness import robots_unavailable


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    async def robot_parser(self, request):
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)
        mine: Deferred = Deferred()

        def forward(parser):
            mine.callback(parser)
            return parser  # the shared Deferred keeps its result for the next waiter

        pending.addCallback(forward)
        return await maybe_deferred_to_future(mine)

    def _robots_error(self, exc, netloc):
        super()._robots_error(exc, netloc)
        self.crawler.signals.send_catch_log(signal=robots_unavailable, netloc=netloc)
