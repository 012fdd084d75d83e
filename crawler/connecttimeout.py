"""An HTTP download handler whose TCP connect has a timeout of its own (``DOWNLOAD_CONNECT_TIMEOUT``).

Why: Scrapy 2.19's HTTP/1.1 handler gives the connection attempt the request's whole ``download_timeout``
(``_ScrapyAgent._get_agent`` passes it as Twisted's ``connectTimeout``). A host that drops our SYN (a dead server
behind a firewall, the commonest "never answers" on the web) then holds every attempt for the full read timeout,
and a check makes several. A TCP handshake with a live host takes a round trip, so a connect timeout far shorter
than the read timeout costs nothing on live hosts and says early, and by type, that nobody is there: the connect
timeout arrives as a ``DownloadTimeoutError`` caused by Twisted's ``TimeoutError`` (see
:func:`crawler.checks.verdict.is_connect_timeout`), the read timeout as a ``DownloadTimeoutError`` alone.

A request may set its own with ``meta["download_connect_timeout"]``; the connect timeout is never longer than the
request's ``download_timeout``. The handler reuses Scrapy's private ``_ScrapyAgent`` (checked against the Scrapy
version ``crawler/compat.py`` pins).
"""

from __future__ import annotations

import logging

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler, _ScrapyAgent
from scrapy.exceptions import ResponseDataLossError
from scrapy.utils._download_handlers import get_dataloss_msg, wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future

logger = logging.getLogger(__name__)


class _ConnectTimeoutAgent(_ScrapyAgent):
    def __init__(self, *, default_connect_timeout: float, **kwargs):
        super().__init__(**kwargs)
        self._default_connect_timeout = default_connect_timeout

    def _get_agent(self, request, timeout: float):
        connect = request.meta.get("download_connect_timeout", self._default_connect_timeout)
        return super()._get_agent(request, min(timeout, connect) if connect else timeout)


class ConnectTimeoutHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler with ``DOWNLOAD_CONNECT_TIMEOUT`` (0: the whole ``download_timeout``, as stock)."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self._connect_timeout = crawler.settings.getfloat("DOWNLOAD_CONNECT_TIMEOUT")

    async def download_request(self, request):
        agent = _ConnectTimeoutAgent(
            default_connect_timeout=self._connect_timeout,
            contextFactory=self._contextFactory,
            bindAddress=self._bind_address,
            pool=self._pool,
            maxsize=self._default_maxsize,
            warnsize=self._default_warnsize,
            fail_on_dataloss=self._fail_on_dataloss,
            crawler=self._crawler,
            tls_verbose_logging=self._tls_verbose_logging,
        )
        try:
            with wrap_twisted_exceptions():
                return await maybe_deferred_to_future(agent.download_request(request))
        except ResponseDataLossError:
            if not self._fail_on_dataloss_warned:
                logger.warning(get_dataloss_msg(request.url))
                self._fail_on_dataloss_warned = True
            raise
