"""Checking one outbound link: HEAD first, GET when needed, redirects followed by hand, retries that respect the host.

The first request of a check travels through the scheduler like any other (so the shared dupefilter makes every
target checked once across all workers); its answer is handed to :meth:`LinkChecker.finish`, which drives the rest
of the check with ``engine.download_async`` and returns the ``checks`` row.

Why redirects are followed here and not by Scrapy's RedirectMiddleware: the verdict depends on the chain (a loop, a
hop to a parking host, a deep link sent to the home page) and the chain is part of the row.
Why GET first (``CHECK_METHOD``): a soft-404 or a parked for-sale page answers 200 and only the body tells, so an
HTML target needs a GET anyway; a HEAD first doubles the requests to every live page (and some servers mishandle
HEAD). The GET asks for the first 256 KiB (``Range``), enough for the title and headings, and reads no further
(:meth:`LinkChecker.bytes_received`); a non-HTML answer (an image, a PDF, a zip) is not read at all past its headers
(:meth:`LinkChecker.headers_received`). ``CHECK_METHOD = "HEAD"`` asks HEAD first and GETs HTML bodies after it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import lxml.etree
from scrapy import Request
from scrapy.exceptions import StopDownload
from scrapy.http import Response

from crawler.checks import verdict as v
from crawler.checks.hostmemory import HostGate, HostMemory, HostRemembered, endpoint
from crawler.extract.page import UnparseablePage, collapse, decode_html, is_html, page_facts, parse_html
from crawler.extract.record import header_dict
from crawler.urls import host_of, registered_domain, resolve_href
from schemas.records import CheckRow

Fetch = Callable[[Request], Awaitable[Response]]
BODY_RANGE = 256 * 1024


@dataclass
class CheckPolicy:
    """Settings of the checker (``CHECK_*``)."""

    method: str  # the first request of a check: GET (read the start of HTML bodies) or HEAD (then GET for HTML)
    timeout: float
    connect_timeout: float  # seconds for the TCP connect alone (crawler/connecttimeout.py); 0: all of ``timeout``
    retries: int  # extra attempts for 5xx, 429 and resolver errors
    timeout_retries: int  # extra attempts after a timeout (each waits CHECK_TIMEOUT again)
    backoff: float  # first backoff in seconds, doubled each retry
    retry_after_max: float  # never wait longer than this for one Retry-After
    max_redirects: int
    maxsize: int  # bytes of a GET body we accept
    host_failures: int  # timeouts or refusals in a row before a host is answered from memory (0: never)
    host_memory: float  # seconds a host stays remembered

    @classmethod
    def from_settings(cls, settings) -> CheckPolicy:
        """From ``CHECK_*`` (their defaults live in ``crawler/settings.py`` only)."""
        return cls(
            method=settings.get("CHECK_METHOD").upper(),
            timeout=settings.getfloat("CHECK_TIMEOUT"),
            connect_timeout=settings.getfloat("CHECK_CONNECT_TIMEOUT"),
            retries=settings.getint("CHECK_RETRIES"),
            timeout_retries=settings.getint("CHECK_TIMEOUT_RETRIES"),
            backoff=settings.getfloat("CHECK_BACKOFF"),
            retry_after_max=settings.getfloat("CHECK_RETRY_AFTER_MAX"),
            max_redirects=settings.getint("CHECK_MAX_REDIRECTS"),
            maxsize=settings.getint("CHECK_MAXSIZE"),
            host_failures=settings.getint("CHECK_HOST_FAILURES"),
            host_memory=settings.getfloat("CHECK_HOST_MEMORY"),
        )


@dataclass
class _Check:
    url: str
    method: str
    current: str
    started: float = field(default_factory=time.monotonic)
    chain: list[str] = field(default_factory=list)
    attempts: int = 1
    retries: int = 0
    head_ok: bool = False  # HEAD already answered 2xx: a failing verification GET cannot make it broken
    last_error: str | None = None  # how the last attempt sent failed
    unranged: bool = False  # the server refused our Range (416): asked again without


class CheckAborted(Exception):
    """The worker is shutting down: the check makes no further attempt and gives no verdict."""


# The words a reader sees: text outside scripts, styles and templates (a parking page's script can be long)
_VISIBLE_TEXT = lxml.etree.XPath(
    "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)]")


def judge_body(url: str, current: str, chain: list[str], body: bytes, content_type: str | None
               ) -> tuple[str, str, str | None]:
    """What the HTML body of a 2xx target says (a soft-404, a parked domain, a meta refresh to the home page, a
    script sending a short page to a parking host): ``(verdict, reason, refresh)``, ``refresh`` the URL a meta
    refresh or script leads to when that decided the verdict (it joins the redirect chain). Plain bytes in, plain
    data out: the spider may run it in its parse pool."""
    text, _ = decode_html(body, content_type)
    try:
        root = parse_html(text)
    except UnparseablePage:
        return v.OK, "ok", None
    # A <meta refresh> is a redirect too: a deep page refreshed to the home page (or a parking host) is gone.
    for content in root.xpath("//meta[translate(@http-equiv, 'REFSH', 'refsh') = 'refresh']/@content"):
        target, _ = resolve_href(v.refresh_target(content) or "", current)
        if target and (by_refresh := v.redirect_verdict(url, [*chain, target])):
            return (*by_refresh, target)
    facts = page_facts(root, current)
    visible = collapse(" ".join(_VISIBLE_TEXT(root)))[:5000]
    if len(visible) <= v.PARKED_TEXT_MAX:  # a short page whose script goes to a parking host: a parking redirector
        for script in root.iterfind(".//script"):
            if script.get("src") is None:
                for written in v.script_redirects(script.text or ""):
                    target, _ = resolve_href(written, current)
                    if target and v.is_parking_url(target):
                        return v.BROKEN, "parked", target
    return (*v.body_verdict(facts.title, facts.h1, visible), None)


BodyJudge = Callable[..., Awaitable[tuple[str, str, str | None]]]


class LinkChecker:
    def __init__(self, fetch: Fetch, policy: CheckPolicy, judge: BodyJudge | None = None,
                 count: Callable[[str], None] | None = None):
        self.fetch = fetch
        self.policy = policy
        self.judge = judge  # judge_body elsewhere (the parse pool); None: here, on the event loop
        self.aborted = False  # set on shutdown (crawler/shutdown.py): a half-done check is given back, not judged
        self._not_before: dict[str, float] = {}  # host -> monotonic time before which we send it nothing
        self.gate = HostGate(HostMemory(policy.host_failures, policy.host_memory), count)  # the downloader's

    def request_meta(self, method: str) -> dict:
        meta = {
            "link_check": True,
            "dont_redirect": True,
            "dont_retry": True,
            "handle_httpstatus_all": True,
            "dont_obey_robotstxt": True,  # we only ask whether the resource exists, as a browser following the link would
            "download_timeout": self.policy.timeout,
        }
        if self.policy.connect_timeout:
            meta["download_connect_timeout"] = self.policy.connect_timeout
        if method == "GET":
            meta["download_maxsize"] = self.policy.maxsize
        return meta

    def make_request(self, url: str, method: str | None = None, *, dont_filter: bool = True, ranged: bool = True,
                     **kwargs) -> Request:
        """A check request (``method`` defaults to ``CHECK_METHOD``); the first one of a check goes through the
        scheduler with ``dont_filter=False``."""
        method = method or self.policy.method
        headers = {"Range": f"bytes=0-{BODY_RANGE - 1}"} if method == "GET" and ranged else {}
        return Request(url, method=method, headers=headers, meta=self.request_meta(method), dont_filter=dont_filter, **kwargs)

    @staticmethod
    def headers_received(headers, body_length, request, spider=None) -> None:
        """Scrapy signal: a check's GET stops at the headers of a non-HTML answer (its status is all we need)."""
        if request.meta.get("link_check") and request.method == "GET":
            content_type = headers.get(b"Content-Type")
            if content_type and not is_html(content_type.decode("latin-1"), b""):
                raise StopDownload(fail=False)

    @staticmethod
    def bytes_received(data, request, spider=None) -> None:
        """Scrapy signal: a check's GET stops after ``BODY_RANGE`` bytes, whether or not the server honoured Range."""
        if request.meta.get("link_check"):
            request.meta["check_bytes"] = got = request.meta.get("check_bytes", 0) + len(data)
            if got >= BODY_RANGE:
                raise StopDownload(fail=False)

    async def _send(self, check: _Check, method: str, ranged: bool = True) -> Response | Exception:
        host = host_of(check.current)
        wait = self._not_before.get(host, 0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        if self.aborted:
            raise CheckAborted(check.url)
        check.method = method
        check.attempts += 1
        try:
            return await self.fetch(self.make_request(check.current, method, ranged=ranged))
        except HostRemembered as exc:  # the downloader's HostGate did not send it
            check.attempts -= 1
            return exc
        except Exception as exc:  # a network failure is an answer too
            return exc

    async def _retry(self, check: _Check, method: str, wait: float | None, backoff: bool = True
                     ) -> Response | Exception:
        """Wait (Retry-After for the whole host, else exponential backoff) and send again. A timeout is retried at
        once (``backoff=False``): it has waited already."""
        pause = self.policy.backoff * (2 ** check.retries)
        check.retries += 1
        if remembered := self.gate.memory.recall(endpoint(check.current), time.monotonic()):
            return HostRemembered(host_of(check.current), remembered)  # the host earned its verdict: no waiting
        if wait is not None:
            self._hold_host(check.current, wait)
        elif backoff and not self.aborted:
            await asyncio.sleep(pause)
        return await self._send(check, method)

    def _hold_host(self, url: str, wait: float) -> None:
        """Send nothing to the host of ``url`` for ``wait`` seconds (capped): it asked us to with Retry-After."""
        host = host_of(url)
        until = time.monotonic() + min(wait, self.policy.retry_after_max)
        self._not_before[host] = max(self._not_before.get(host, 0), until)

    async def finish(self, url: str, method: str, first: Response | Exception) -> CheckRow:
        """Carry a check from the answer to its first request to a ``checks`` row (asked in this crawl; its
        broken streak is the spider's to continue: ``crawler.recrawl.EarlierChecks.streak``)."""
        check = _Check(url=url, method=method, current=url)
        if isinstance(first, HostRemembered):  # the first request never left (crawler/checks/hostmemory.py)
            check.attempts = 0
        verdict, reason, status, error = await self._run(check, first)
        return CheckRow(
            url=url,
            url_host_name=host_of(url),
            url_host_registered_domain=registered_domain(host_of(url)),
            verdict=verdict,
            reason=reason,
            http_status=status,
            final_url=check.current,
            redirect_chain=check.chain,
            method=check.method,
            attempts=check.attempts,
            error=error,
            checked_at=datetime.now(UTC),
            elapsed_ms=int((time.monotonic() - check.started) * 1000),
            reused=False,
            first_seen_broken=None,
            broken_crawls=0,
        )

    @staticmethod
    def unchecked_row(url: str, reason: str, error: str) -> CheckRow:
        """The ``checks`` row of a target we never request (``url_too_long``): ``unknown``, with the reason, so
        the target is visible as unchecked instead of missing from the table."""
        return CheckRow(
            url=url,
            url_host_name=host_of(url),
            url_host_registered_domain=registered_domain(host_of(url)),
            verdict=v.UNKNOWN,
            reason=reason,
            http_status=None,
            final_url=url,
            redirect_chain=[],
            method=None,
            attempts=0,
            error=error,
            checked_at=datetime.now(UTC),
            elapsed_ms=0,
            reused=False,
            first_seen_broken=None,
            broken_crawls=0,
        )

    async def _run(self, check: _Check, outcome: Response | Exception) -> tuple[str, str, int | None, str | None]:
        p = self.policy
        while True:
            if isinstance(outcome, Exception):
                if check.head_ok:
                    return v.OK, "ok", 200, None
                if isinstance(outcome, HostRemembered):  # the host is remembered dead: not (or no longer) asked
                    self.gate.count("checks/from_memory")
                    known = outcome.remembered
                    said = known.error(time.monotonic())
                    return known.verdict, known.reason, None, f"{check.last_error}; then {said}"[:500] if check.last_error else said
                host = host_of(check.current)
                verdict, reason, retryable = v.failure_reason(outcome, host)
                error = f"{type(outcome).__name__}: {outcome}"[:500]
                connect_timeout = reason == "timeout" and v.is_connect_timeout(outcome)
                if connect_timeout:  # nobody answered the SYN: the row says which timeout it was
                    error = f"connect timeout: {error}"[:500]
                check.last_error = error
                if check.method == "HEAD" and reason in ("timeout", "connection_error") and not connect_timeout:
                    outcome = await self._send(check, "GET")  # some servers mishandle HEAD
                    continue
                if retryable and check.retries < (p.timeout_retries if reason == "timeout" else p.retries):
                    outcome = await self._retry(check, check.method, None, backoff=reason != "timeout")
                    continue
                return verdict, reason, None, error

            status = outcome.status
            headers = header_dict(outcome.headers)
            location = headers.get("location")
            if 300 <= status < 400 and location:
                target, _ = resolve_href(location, check.current)
                if target is None:
                    return v.BROKEN, "http_4xx", status, f"unusable Location: {location[:200]}"
                if target == check.url or target in check.chain:
                    check.chain.append(target)
                    return v.BROKEN, "redirect_loop", status, None
                check.chain.append(target)
                check.current = target
                if len(check.chain) > p.max_redirects:
                    return v.BROKEN, "too_many_redirects", status, None
                if v.is_parking_url(target):
                    return v.BROKEN, "parked", status, None
                outcome = await self._send(check, "GET" if status == 303 else check.method)
                continue

            if check.method == "HEAD" and not 200 <= status < 300:
                if v.is_retryable_status(status):
                    wait = v.parse_retry_after(headers.get("retry-after"))
                    if wait is not None:
                        self._hold_host(check.current, wait)
                outcome = await self._send(check, "GET")  # HEAD refused (403/405/501) or erred: GET decides
                continue

            if status == 416 and check.method == "GET" and not check.unranged:  # our Range refused: ask without
                check.unranged = True
                outcome = await self._send(check, "GET", ranged=False)
                continue

            decided = v.status_verdict(status, headers, outcome.body)
            if decided is None:  # 2xx
                by_chain = v.redirect_verdict(check.url, check.chain)
                if by_chain:
                    return (*by_chain, status, None)
                if not is_html(headers.get("content-type"), outcome.body[:512]):
                    return v.OK, "ok", status, None
                if check.method == "HEAD":
                    check.head_ok = True
                    outcome = await self._send(check, "GET")
                    continue
                return (*await self._judge_body(check, outcome, headers), status, None)

            if v.is_retryable_status(status) and not v.is_bot_wall(status, headers, outcome.body) and check.retries < p.retries:
                outcome = await self._retry(check, check.method, v.parse_retry_after(headers.get("retry-after")))
                continue
            if check.head_ok:  # the verification GET failed where HEAD succeeded: trust the HEAD
                return v.OK, "ok", 200, None
            return (*decided, status, None)

    async def _judge_body(self, check: _Check, response: Response, headers: dict[str, str]) -> tuple[str, str]:
        args = (check.url, check.current, list(check.chain), response.body, headers.get("content-type"))
        verdict, reason, refresh = await self.judge(*args) if self.judge is not None else judge_body(*args)
        if refresh:
            check.chain.append(refresh)
        return verdict, reason
