"""How an answer (or a failure) for an outbound link becomes a verdict: broken, ok or unknown, with a reason.

These are plain functions over status codes, headers, URLs and bytes; ``checker.py`` drives the requests and the
retries. The verdicts are the product: a false "broken" wastes an outreach email, a missed one loses a prospect,
so anything we cannot see clearly (bot walls, rate limits, timeouts, resolver trouble) is ``unknown``, never
``broken`` (docs/pitfalls.md §4).

Reasons, exactly:
- broken: http_404, http_410, http_4xx, http_5xx, dns_nxdomain, connection_refused, tls_error, redirect_loop,
  too_many_redirects, soft_404, parked
- unknown: blocked, rate_limited, timeout, dns_error, connection_error (the connection broke before an answer),
  no_route (this machine has no route to any address of the host: an IPv6-only site seen from a network without
  IPv6), blocked_address (we refused to connect: a loopback, private, link-local... address,
  ``crawler/netguard.py``), url_too_long (over Scrapy's ``URLLENGTH_LIMIT``: never requested)
- ok: ok

How a 200 page is read (``body_verdict``): a page that *says* it is missing (its title or first heading is that
statement and nothing else, in one of eleven languages: not an article about 404 errors) is a soft_404; a short
page that offers the domain for sale, or sends the browser to a parking host by ``<meta refresh>`` or script, is
parked. A long page is an article, whatever words it quotes.
"""

from __future__ import annotations

import email.utils
import errno
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

# Registrars whose for-sale landing pages live beside their ordinary pages: only these paths mean "parked".
PARKING_PATHS = {"godaddy.com": ("/forsale/",)}

# What parking and for-sale templates say, in the languages registrars and marketplaces serve them in.
_FOR_SALE = re.compile(
    r"this domain (name )?(is|may be) for sale|buy this domain|domain is for sale|make an offer on this domain"
    r"|this domain has expired|this domain name has expired|is parked free|parked (for )?free,? courtesy of"
    r"|parked (free )?courtesy of|the domain name [\w.-]+ is for sale|inquire about this domain|domain (name )?for sale"
    r"|get this domain|expired on .{0,40}pending renewal or deletion"
    # pay-per-click parking (Bodis, ParkingCrew, Sedo): the advertising disclaimer under the "related links"
    r"|sponsored listings displayed above are served automatically by a third party"
    r"|neither the service provider nor the domain owner maintain any relationship with the advertisers"
    r"|diese domain (steht zum verkauf|ist zu verkaufen|kaufen|kann gekauft werden|steht zur verfügung)"
    r"|domain (steht )?zum verkauf|domain zu verkaufen"
    r"|(ce|le) (nom de )?domaine (est )?(à|a) vendre|acheter ce (nom de )?domaine|nom de domaine (à|a) vendre"
    r"|(este|el) dominio (está |esta )?(a la venta|en venta|se vende)|comprar este dominio|dominio en venta"
    r"|(dit|deze) (domein|domeinnaam) (is )?te koop|domeinnaam te koop|koop dit domein"
    r"|(questo|il) dominio (è |e )?in vendita|acquista questo dominio|dominio in vendita"
    r"|(este|o) domínio (está )?à venda|compre este domínio|domínio à venda"
    r"|このドメインは(販売中|売り出し中|売却中|購入できます)|ドメイン(は)?販売中|このドメインを購入",
    re.IGNORECASE,
)
# A domain name written out: a for-sale title or heading that names one is about itself
_DOMAIN_NAME = re.compile(r"\b[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)*\.[a-z]{2,}\b", re.IGNORECASE)
# "example.com is for sale", "example.de steht zum Verkauf", "example.fr est à vendre": a domain name offered
_NAMED_FOR_SALE = re.compile(
    _DOMAIN_NAME.pattern + r"\s+(is\s+|ist\s+|est\s+|está\s+|è\s+|é\s+|staat\s+)?(now\s+)?(for\s+sale|steht\s+zum"
    r"\s+verkauf|zu\s+verkaufen|(à|a)\s+vendre|en\s+venta|a\s+la\s+venta|in\s+vendita|à\s+venda|te\s+koop)",
    re.IGNORECASE,
)
# Parking templates are short: past this many characters of visible text, a page is an article (one *about*
# buying domains quotes "this domain is for sale"), unless its title or heading offers a named domain.
PARKED_TEXT_MAX = 3000

# How a page says that it is missing, in its title or first heading. The statement is the phrase below plus only
# the words of _MISSING_FILLER around it ("Oops! That page can't be found."); a title with other words in it
# ("How to fix 404 errors", "Seite nicht gefunden? So beheben Sie 404-Fehler") talks *about* missing pages.
_MISSING = re.compile(
    # "404" only as a status, not inside a number ("4040 bees" stays ok)
    r"(?<![\w.#])404(?![\w])"
    r"|\bnot\s+(be\s+)?found\b|\bcan(not|'t|\s+not)\s+be\s+found\b|\bcould(\s+not|n't)\s+be\s+found\b"
    r"|\b(does\s+not|doesn't|no\s+longer)\s+exists?\b|\bno\s+longer\s+available\b"
    r"|\b(can(not|'t)|could(\s+not|n't))\s+find\b"
    r"|\bnicht\s+gefunden\b|\bexistiert\s+(leider\s+)?nicht(\s+mehr)?\b|\bintrouvable\b|\bnon\s+trouvée?\b"
    r"|\bn'existe\s+(pas|plus)\b|\bno\s+(se\s+)?(ha\s+)?encontr(ó|o|ada|ado)\b|\bno\s+existe\b"
    r"|\bno\s+(hemos\s+)?(podido\s+)?encontrar\b|\bnon\s+(è\s+stata\s+)?trovat[ao]\b|\bnon\s+esiste\b"
    r"|\bnão\s+(foi\s+)?encontrad[ao]\b|\bnão\s+existe\b|\bniet\s+(meer\s+)?(gevonden|bestaat)\b"
    r"|\bbestaat\s+niet(\s+meer)?\b|\bnie\s+znaleziono\b|\bnie\s+istnieje\b|не\s+найден[аоы]?|не\s+существует"
    r"|見つかりませんでした|見つかりません|存在しません|找不到|不存在|未找到",
    re.IGNORECASE,
)
_MISSING_FILLER = re.compile(
    r"(?<!\w)(the|this|that|page|file|or|directory|resource|document|url|link|article|post|content|item|product"
    r"|site|web|webpage|you|you're|you've|were|are|is|was|be|been|has|have|may|might|could|can|it|it's|looks|like"
    r"|seems|sorry|oops|whoops|oh|uh|no|ouch|error|http|status|requested|looking|for|trying|to|reach|access|we"
    r"|we're|here|and|removed|moved|deleted|renamed|had|its|name|changed|temporarily|unavailable|there|anymore"
    r"|hmm+|yikes|not|found|exist|exists|does|longer|available"
    r"|die|diese|der|das|seite|datei|dokument|angeforderte|gesuchte|wurde|ist|leider|fehler|mehr|hoppla|ups|sie"
    r"|haben|gesucht|konnte|werden|es|tut|uns|leid|entschuldigung"
    r"|la|le|cette|fichier|demandée|recherchée|que|vous|cherchez|recherchez|est|erreur|oups|désolé|désolée"
    r"|nous|sommes|el|esta|página|archivo|documento|buscas|busca|solicitada|se|ha|lo|sentimos|vaya|hemos|ya"
    r"|questa|pagina|cerchi|stai|cercando|richiesta|è|stata|errore|ops|spiacenti|ci|dispiace|più"
    r"|a|arquivo|ficheiro|procura|procurando|está|não|foi|erro|desculpe|lamentamos|mais"
    r"|de|deze|bestand|je|u|zoekt|fout|oeps|helaas|kon|worden|meer"
    r"|strona|strony|błąd|niestety|страница|ошибка|запрашиваемая|к|сожалению)(?!\w)",
    re.IGNORECASE,
)
_MISSING_FILLER_CJK = re.compile(r"お探しの|申し訳(ありません|ございません)(が)?|指定された|ページ|ファイル|エラー|は|が|页面|您访问的|抱歉|网页|的|了")
# Title parts: "Page not found | Shop", "404 - File or directory not found.", "Seite nicht gefunden – Brauerei"
_TITLE_PARTS = re.compile(r"\s+[-/:]\s+|\s*[|–—·•»]\s*")
_SITE_NAME_WORDS = 6  # the other parts of a title that says "not found" are the site's name, a few words at most
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


# A script that sends the browser elsewhere: location = "...", location.href = '...', window.location.replace("..."),
# location.assign('...'), with window./document./top./self. in front or not. Only string literals: a URL a script
# computes is not seen.
_SCRIPT_REDIRECT = re.compile(
    r"""\blocation\s*(?:\.\s*href\s*)?=\s*(["'])([^"'\s]+)\1"""
    r"""|\blocation\s*\.\s*(?:replace|assign)\s*\(\s*(["'])([^"'\s]+)\3\s*\)""",
)


def script_redirects(script: str) -> list[str]:
    """The URLs an inline script assigns to the page's location, as written (relative ones too)."""
    return [match.group(2) or match.group(4) for match in _SCRIPT_REDIRECT.finditer(script)]


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
    """A URL on a parking or domain-marketplace host, or on a registrar's for-sale landing path."""
    domain = registered_domain(host_of(url))
    if domain in PARKING_DOMAINS:
        return True
    paths = PARKING_PATHS.get(domain)
    return bool(paths) and (urlsplit(url).path or "/").lower().startswith(paths)


def looks_parked(title: str | None, h1: str | None, text: str) -> bool:
    """A for-sale or parking template: a short page (``text``, its visible text) offering the domain, in the title,
    heading or body; or any page whose title or heading offers a named domain ("example.com is for sale")."""
    for heading in (title, h1):
        if heading and (_NAMED_FOR_SALE.search(heading) or (_FOR_SALE.search(heading) and _DOMAIN_NAME.search(heading))):
            return True
    if len(text) > PARKED_TEXT_MAX:
        return False
    words = " ".join(filter(None, (title, h1, text)))
    return bool(_FOR_SALE.search(words) or _NAMED_FOR_SALE.search(words))


def says_missing(text: str) -> bool:
    """``text`` is a "not found" statement and nothing else ("Oops! That page can't be found.", "Error 404",
    "Seite nicht gefunden", "ページが見つかりません"): its missing-phrase, with only filler words around it."""
    text = text.replace("\u2019", "'").replace("\u00a0", " ")
    if not _MISSING.search(text):
        return False
    rest = _MISSING_FILLER_CJK.sub("", _MISSING_FILLER.sub(" ", _MISSING.sub(" ", text)))
    return not re.search(r"[^\W\d_]", rest)  # no letter left: nothing else is said


def looks_not_found(title: str | None, h1: str | None) -> bool:
    """A page that says it is missing: the body of a soft-404.

    The first heading decides when it is the statement ("Page not found"), or when it mentions a missing page
    without being the statement (an article: "404 Page Not Found - What It Means"). Otherwise the title does, when
    one of its parts is the statement and the others are short (the site's name: "Page not found | Shop")."""
    if h1 and says_missing(h1):
        return True
    if h1 and _MISSING.search(h1.replace("\u2019", "'")):
        return False
    if not title:
        return False
    parts = [part for part in _TITLE_PARTS.split(title) if part.strip()]
    missing = [part for part in parts if says_missing(part)]
    return bool(missing) and all(len(part.split()) <= _SITE_NAME_WORDS for part in parts if part not in missing)


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
    """The verdict for a 2xx HTML page (``text``: its visible text, at least ``PARKED_TEXT_MAX + 1`` characters of
    it when there are that many): parked template, soft-404 or ok."""
    if looks_parked(title, h1, text):
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
    if any(_errno(e) in _NO_ROUTE_ERRNOS for e in chain):
        return UNKNOWN, "no_route", False  # the host may be fine: this machine cannot reach it (no IPv6 here?)
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


# connect(2) and socket(2) errors that say "no way from here": no route or network for the address's family
# (ENETUNREACH, EHOSTUNREACH, ENETDOWN), no local address of that family (EADDRNOTAVAIL), or no IPv6 in the
# kernel at all (EAFNOSUPPORT). Twisted raises them as ConnectError subclasses (NoRouteError, ConnectBindError).
_NO_ROUTE_ERRNOS = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EADDRNOTAVAIL,
                              errno.EAFNOSUPPORT})


def _errno(e: BaseException) -> int | None:
    """The errno of a socket error: ``OSError.errno``, or Twisted's ``ConnectError.osError``."""
    from twisted.internet.error import ConnectError

    if isinstance(e, ConnectError):
        return e.osError if isinstance(e.osError, int) else None
    return e.errno if isinstance(e, OSError) else None


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
