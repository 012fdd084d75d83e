"""URL normalization and site identity.

Two links are the same target only if their normalized URLs are equal, so every table stores normalized URLs and
joins on plain strings (docs/pitfalls.md §6). A *site* is a registered domain (``blog.example.co.uk`` belongs to
``example.co.uk``); it decides what the spider crawls and which links are external.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urljoin, urlsplit, urlunsplit

import tldextract
from w3lib.url import safe_url_string

from crawler.netguard import parse_ip

# The bundled Public Suffix List snapshot only: tldextract must never fetch the list from the network.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Link schemes that are not crawlable targets; they are counted, never stored as rows.
SKIPPED_SCHEMES = ("javascript", "mailto", "tel", "data", "sms", "callto", "ftp", "file", "about", "blob")


def normalize_url(url: str) -> str:
    """Return the canonical form of an absolute http(s) URL: lowercase scheme and host, no default port, no
    fragment, percent-encoding made safe, query kept in its original order (order can matter to servers).

    IP hosts: an IPv6 literal keeps its brackets (without them the URL no longer parses, and a request for it
    fails); an IPv4 address written the legacy ways browsers accept (``2130706437``, ``127.5``, ``0x7f000005``) is
    written as the dotted quad it reaches (WHATWG URL Standard, IPv4 parser), so it is stored, deduplicated and
    judged as that address.

    Credentials (``http://user:secret@host/``) are dropped: a page's author's password must not land in our
    tables, WARC files or logs, nor be sent anywhere by us (a browser asks before using them, we never do)."""
    parts = urlsplit(safe_url_string(url.strip()))
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    elif host and host[-1].isdigit() or host.startswith("0x"):
        ip = parse_ip(host)
        host = str(ip) if ip is not None else host
    port = parts.port
    netloc = host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    path = parts.path or "/"
    if "/." in path:  # remove dot segments the way a browser does
        path = urlsplit(urljoin("http://h/", path)).path
    return urlunsplit((scheme, netloc, path, parts.query, ""))


MEMO_URL_CHARS = 400  # an href or origin longer than this (a hostile page's) is resolved each time, never kept


def resolve_href(href: str, base_url: str) -> tuple[str | None, str | None]:
    """Resolve an ``href`` against the page's base URL.

    Returns ``(normalized_url, None)`` for an http(s) target, or ``(None, scheme_or_reason)`` for one that is
    not a target (``javascript``, ``mailto``, ``tel``, ``data``..., ``empty`` or ``invalid``).

    An href that starts with ``/`` or names its own http(s) scheme resolves the same against any base URL of the
    same origin (RFC 3986 §5.2.2: only the base's scheme and authority are read), and a site's pages repeat their
    menus' and footers' hrefs: those are resolved once per origin and remembered (resolving and normalising was 14%
    of a parse process's CPU, docs/performance.md).
    """
    href = href.strip()
    if len(href) <= MEMO_URL_CHARS and (href[:1] == "/" or href[:8].lower().startswith(("http://", "https://"))):
        origin = _origin(base_url) if len(base_url) <= 4 * MEMO_URL_CHARS else None
        if origin is not None:
            return _resolve_in_origin(href, origin)
    return _resolve(href, base_url)


@lru_cache(maxsize=256)
def _origin(base_url: str) -> str | None:
    """``scheme://authority/`` of an http(s) base URL, or None (then nothing is remembered for it)."""
    try:
        parts = urlsplit(base_url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or len(parts.netloc) > MEMO_URL_CHARS:
        return None
    return f"{parts.scheme}://{parts.netloc}/"


@lru_cache(maxsize=16384)
def _resolve_in_origin(href: str, origin: str) -> tuple[str | None, str | None]:
    return _resolve(href, origin)


def _resolve(href: str, base_url: str) -> tuple[str | None, str | None]:
    """``resolve_href`` of a stripped href, computed."""
    if not href:
        return None, "empty"
    head = href.split(":", 1)[0].lower() if ":" in href[:12] else ""
    if head in SKIPPED_SCHEMES:
        return None, head
    if href.startswith("#"):
        return None, "fragment"
    try:
        absolute = urljoin(base_url, href)
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None, parts.scheme or "invalid"
        _ = parts.port  # raises ValueError on a port out of range
        return normalize_url(absolute), None
    except ValueError:
        return None, "invalid"


def host_of(url: str) -> str:
    """The host of a URL, lower case, IPv6 without brackets (as the resolver is asked for it)."""
    return (urlsplit(url).hostname or "").lower()


@lru_cache(maxsize=65536)
def registered_domain(host: str) -> str:
    """The registrable domain of a host (``www.example.co.uk`` -> ``example.co.uk``); the host itself when it has
    no public suffix (an IP address, ``localhost``)."""
    host = host.lower().rstrip(".")
    ext = _EXTRACT(host)
    if ext.domain and ext.suffix:
        return f"{ext.domain}.{ext.suffix}"
    return host


def site_of(url: str) -> str:
    """The site (registered domain) a URL belongs to."""
    return registered_domain(host_of(url))
