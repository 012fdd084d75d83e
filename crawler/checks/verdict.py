"""How an answer (or a failure) for an outbound link becomes a verdict: broken, ok or unknown, with a reason.

These are plain functions over status codes, headers, URLs and bytes; ``checker.py`` drives the requests and the
retries. The verdicts are the product: a false "broken" wastes an outreach email, a missed one loses a prospect,
so anything we cannot see clearly (bot walls, rate limits, timeouts, resolver trouble) is ``unknown``, never
``broken`` (docs/pitfalls.md §4).

Reasons, exactly:
- broken: http_404, http_410, http_4xx, http_5xx, dns_nxdomain, connection_refused, tls_error, redirect_loop,
  too_many_redirects, soft_404, parked
- unknown: blocked, rate_limited, timeout, dns_error, connection_error (the connection broke before an answer),
  blocked_address (we refused to connect: a loopback, private, link-local... address, ``crawler/netguard.py``),
  url_too_long (over Scrapy's ``URLLENGTH_LIMIT``: never requested)
- ok: ok
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

from crawler.urls import host_of, registered_domain

BROKEN, OK, UNKNOWN = "broken", "ok", "unknown"

# Hosts of domain parking services and domain marketplaces: a link that redirects there points at a dead site.
PARKING_DOMAINS = frozenset(
    {
        "sedo.com", "sedoparking.com", "bodis.com", "parkingcrew.net", "dan.com", "afternic.com", "hugedomains.com",
        "undeveloped.com", "above.com", "parklogic.com", "buydomains.com", "brandbucket.com", "squadhelp.com",
        "efty.com", "domainmarket.com", "perfectdomain.com", "sav.com", "atom.com", "uniregistry.com",
        "domainnameshop.com", "parked.com", "voodoo.com", "trafficz.com", "domainsponsor.com", "smartname.com",
    }
)

_FOR_SALE = re.compile(
    r"this domain (name )?(is|may be) for sale|buy this domain|domain is for sale|make an offer on this domain"
    r"|this domain has expired|this domain name has expired|is parked free|parked (free )?courtesy of"
    r"|the domain name [\w.-]+ is for sale|inquire about this domain|domain (name )?for sale",
    re.IGNORECASE,
)
_NOT_FOUND = re.compile(
    # "404" only as a status, not as a number in a title ("Episode #404", "404 ways to..." stay ok)
    r"^\s*404\s*$|^\s*404\s*[-:|–—]|\b404 (error|page|not found)\b|\berror:? 404\b"
    r"|\b(not found|page not found|page cannot be found|page can't be found|page could not be found"
    r"|no longer (exists|available)|does not exist|doesn't exist|nothing (was )?found"
    r"|seite nicht gefunden|página no encontrada|page introuvable|pagina non trovata|niet gevonden)\b",
    re.IGNORECASE,
)
_HOME_PATHS = re.compile(r"^/((index|default|home)\.(html?|php|aspx?))?$", re.IGNORECASE)


# What anti-bot pages say (a 503 or 403 whose text, sometimes only an HTML comment, asks a person to prove it is one)
_BOT_WALL_TEXT = re.compile(
    rb"automated access|unusual traffic|are you a robot|not a robot|robot check|verify (that )?you are (a )?human"
    rb"|captcha|bot detection|access to this page has been denied|checking your browser|enable javascript and cookies"
    rb" to continue",
    re.IGNORECASE,
)
# The content of <meta http-equiv="refresh">: "<seconds>; url=<target>" (the "url=" and quotes are optional)
_REFRESH_URL = re.compile(r"""^\s*[\d.]*\s*[;,]\s*(?:url\s*=\s*)?["']?([^"'\s]+)""", re.IGNORECASE)


def status_verdict(status: int, headers: Mapping[str, str], body: bytes = b"") -> tuple[str, str] | None:
    """The verdict an HTTP status decides on its own, or ``None`` for 2xx (the body and redirects still count).

    ``headers`` has lower-case names; ``body`` is the start of the answer, where a bot wall says what it is.
    Redirect statuses are not passed here: the checker follows them.
    """
    if 200 <= status < 300:
        return None
    if is_bot_wall(status, headers, body) or status in (401, 403, 407):
        return UNKNOWN, "blocked"
    if status == 429:
        return UNKNOWN, "rate_limited"
    if status == 404:
        return BROKEN, "http_404"
    if status == 410:
        return BROKEN, "http_410"
    if 400 <= status < 500:
        return BROKEN, "http_4xx"
    if 500 <= status < 600:
        return BROKEN, "http_5xx"
    return UNKNOWN, "blocked"  # 999 and other non-standard codes are what bot walls answer


def is_bot_wall(status: int, headers: Mapping[str, str], body: bytes = b"") -> bool:
    """A challenge page or an anti-bot refusal: the resource may well exist (linkinator #708/#718). Known headers
    first, then the page's own words (the first 64 KiB, comments included)."""
    if status == 999:  # LinkedIn
        return True
    if status in (403, 429, 503):
        if headers.get("cf-mitigated", "").lower() == "challenge":
            return True
        if "x-datadome" in headers or "x-amzn-waf-action" in headers or headers.get("server", "").lower() == "ddos-guard":
            return True
        if body and _BOT_WALL_TEXT.search(body[:65536]):
            return True
    return False


def refresh_target(content: str) -> str | None:
    """Where a ``<meta http-equiv="refresh" content=...>`` sends the browser, as written (None: it reloads itself)."""
    match = _REFRESH_URL.match(content)
    return match.group(1) if match else None


def is_retryable_status(status: int) -> bool:
    return status == 429 or 500 <= status < 600


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date. ``None`` when absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def is_parking_url(url: str) -> bool:
    return registered_domain(host_of(url)) in PARKING_DOMAINS


def looks_parked(text: str) -> bool:
    """A for-sale or parking template (the text of the title and the start of the body is enough)."""
    return bool(_FOR_SALE.search(text))


def looks_not_found(title: str | None, h1: str | None) -> bool:
    """A page that says it is missing in its title or first heading: the body of a soft-404."""
    return any(_NOT_FOUND.search(text) for text in (title, h1) if text)


def is_home_page(url: str) -> bool:
    return bool(_HOME_PATHS.match(urlsplit(url).path or "/")) and not urlsplit(url).query


def redirected_home(url: str, chain: Iterable[str]) -> bool:
    """A deep URL whose redirects end on a home page: the classic soft-404 of a site that dropped the page."""
    chain = list(chain)
    return bool(chain) and not is_home_page(url) and is_home_page(chain[-1])


def redirect_verdict(url: str, chain: list[str]) -> tuple[str, str] | None:
    """What the redirect chain alone says (parking hosts, deep link sent home), or ``None``."""
    if any(is_parking_url(hop) for hop in chain):
        return BROKEN, "parked"
    if redirected_home(url, chain):
        return BROKEN, "soft_404"
    return None


def body_verdict(title: str | None, h1: str | None, text: str) -> tuple[str, str]:
    """The verdict for a 2xx HTML page: parked template, soft-404 or ok."""
    if looks_parked(" ".join(filter(None, (title, h1, text)))):
        return BROKEN, "parked"
    if looks_not_found(title, h1):
        return BROKEN, "soft_404"
    return OK, "ok"


def failure_reason(exc: BaseException, host: str = "") -> tuple[str, str, bool]:
    """Map a download failure of a request to ``host`` to ``(verdict, reason, retryable)``, by walking the
    exception's causes (and asking the resolver how the host's lookup failed)."""
    from scrapy.exceptions import (
        CannotResolveHostError,
        DownloadConnectionRefusedError,
        DownloadTimeoutError,
    )
    from twisted.internet.error import ConnectionRefusedError as TxRefused
    from twisted.internet.error import DNSLookupError, TCPTimedOutError
    from twisted.internet.error import TimeoutError as TxTimeout

    from crawler.dns import BlockedAddressError, BlockedRequest, NXDomainError, failure_kind

    # By type only: an exception's message holds the URL, and a URL may well contain "ssl" or "timed out".
    chain = list(_causes(exc))
    if any(isinstance(e, (BlockedRequest, BlockedAddressError)) for e in chain):
        return UNKNOWN, "blocked_address", False  # the address guard said no: asking again changes nothing
    if any(isinstance(e, (CannotResolveHostError, DNSLookupError)) for e in chain):
        if failure_kind(host) is BlockedAddressError:  # Twisted kept only "no results for hostname lookup"
            return UNKNOWN, "blocked_address", False
        if failure_kind(host) is NXDomainError or any(isinstance(e, NXDomainError) for e in chain):
            return BROKEN, "dns_nxdomain", False
        return UNKNOWN, "dns_error", True
    if any(isinstance(e, (DownloadConnectionRefusedError, TxRefused)) for e in chain):
        return BROKEN, "connection_refused", True
    if any(isinstance(e, (DownloadTimeoutError, TxTimeout, TCPTimedOutError, TimeoutError)) for e in chain):
        return UNKNOWN, "timeout", True
    if any(_is_tls_error(e) for e in chain):
        return BROKEN, "tls_error", False
    return UNKNOWN, "connection_error", True


def is_connect_timeout(exc: BaseException) -> bool:
    """The TCP connect timed out (nobody answered our SYN): Twisted's ``TimeoutError`` under Scrapy's
    ``DownloadTimeoutError`` (crawler/connecttimeout.py). A timeout while waiting for the answer has no such cause."""
    from twisted.internet.error import TCPTimedOutError
    from twisted.internet.error import TimeoutError as TxTimeout

    return any(isinstance(e, (TxTimeout, TCPTimedOutError)) for e in _causes(exc))


def is_decompression_bomb(exc: BaseException) -> bool:
    """Scrapy's HttpCompressionMiddleware refused a body that grew past ``DOWNLOAD_MAXSIZE`` while being
    decompressed (an ``IgnoreRequest`` caused by its ``_DecompressionMaxSizeExceeded``, Scrapy 2.19)."""
    from scrapy.utils._compression import _DecompressionMaxSizeExceeded

    return any(isinstance(e, _DecompressionMaxSizeExceeded) for e in _causes(exc))


def _is_tls_error(e: BaseException) -> bool:
    """pyOpenSSL's and the standard library's TLS errors, and service_identity's certificate mismatches."""
    import ssl

    kind = type(e)
    return isinstance(e, ssl.SSLError) or kind.__module__.split(".")[0] in ("OpenSSL", "service_identity")


def _causes(exc: BaseException):
    """The exception, its causes and contexts, and the reasons Twisted's ResponseFailed carries."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        stack.extend([e.__cause__, e.__context__])
        for reason in getattr(e, "reasons", None) or []:  # twisted.web._newclient.ResponseFailed
            stack.append(getattr(reason, "value", None))
